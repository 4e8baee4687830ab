/**
 * `-c mlflowVersion=…`: the MLflow image is built for the version, and a custom resource runs
 * `mlflow db upgrade` (a one-off task of the service's task definition) before the service's new
 * tasks start — the service depends on it, and it on the database.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_MLFLOW_VERSION, loadStageConfig } from '../../lib/config';
import { MlflowService, type MlflowServiceProps } from '../../lib/mlflow-service';
import { PROJECT_ROOT } from '../../lib/mlops-function';
import { ISOLATED_SUBNET_GROUP, PRIVATE_SUBNET_GROUP } from '../../lib/network';

type Json = Record<string, unknown>;
interface CfnResource {
  Type: string;
  Properties?: Json;
  DependsOn?: string[];
}

/** The MLflow service alone, as lib/mlops-stack.ts builds it, with these props. */
function synth(props: Partial<MlflowServiceProps>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'MlflowUpgrade', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: PRIVATE_SUBNET_GROUP, subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      { name: ISOLATED_SUBNET_GROUP, subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  const mlflow = new MlflowService(stack, 'Mlflow', {
    vpc,
    artifactsBucket: new s3.Bucket(stack, 'Artifacts'),
    accessLogsBucket: new s3.Bucket(stack, 'AccessLogs'),
    database: 'ecs-postgres',
    retainData: false,
    logRetention: logs.RetentionDays.ONE_WEEK,
    imageDirectory: join(PROJECT_ROOT, 'docker/mlflow'),
    ...props,
  });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, CfnResource>;
  const idOf = (type: string) => {
    const ids = Object.entries(resources)
      .filter(([, r]) => r.Type === type)
      .map(([id]) => id);
    expect(ids, type).toHaveLength(1);
    return ids[0] as string;
  };
  const upgradeId = idOf('Custom::MlflowDatabaseUpgrade');
  const upgrade = resources[upgradeId] as CfnResource;
  const service = (id: string) => resources[id] as CfnResource;
  const mlflowServiceId = stack.getLogicalId(mlflow.service.node.defaultChild as never);
  const outdir = app.synth().directory;
  const manifest = JSON.parse(readFileSync(join(outdir, `${stack.stackName}.assets.json`), 'utf8')) as {
    dockerImages: Record<string, { source: { dockerBuildArgs?: Json } }>;
  };
  const images = Object.entries(manifest.dockerImages);
  expect(images).toHaveLength(1);
  const [imageHash, image] = images[0] as [string, { source: { dockerBuildArgs?: Json } }];
  const imageAsset = { buildArgs: image.source.dockerBuildArgs, sourceHash: imageHash };
  return { stack, mlflow, template, resources, upgradeId, upgrade, service, mlflowServiceId, imageAsset };
}

const dev = synth({ database: 'ecs-postgres', loadBalancer: false, tasksInPublicSubnets: true });
const newer = synth({
  database: 'ecs-postgres',
  loadBalancer: false,
  tasksInPublicSubnets: true,
  mlflowVersion: '3.18.0',
});
const prod = synth({ database: 'rds', desiredCount: 2, rdsMultiAz: true });

describe('the MLflow database upgrade before the service', () => {
  it('builds the image for the version (build argument MLFLOW_VERSION), the default being the pinned one', () => {
    expect(dev.imageAsset?.buildArgs).toEqual({ MLFLOW_VERSION: DEFAULT_MLFLOW_VERSION });
    expect(newer.imageAsset?.buildArgs).toEqual({ MLFLOW_VERSION: '3.18.0' });
    expect(newer.imageAsset?.sourceHash).not.toBe(dev.imageAsset?.sourceHash);
  });

  it('records the version in the upgrade resource, so a new version is an update that runs it again', () => {
    expect(dev.upgrade.Properties?.MlflowVersion).toBe(DEFAULT_MLFLOW_VERSION);
    expect(newer.upgrade.Properties?.MlflowVersion).toBe('3.18.0');
  });

  it("runs the service's own task definition and container, where the service's tasks run", () => {
    for (const { upgrade, resources, mlflowServiceId } of [dev, prod]) {
      const service = resources[mlflowServiceId] as CfnResource;
      expect(upgrade.Properties).toMatchObject({
        TaskDefinition: service.Properties?.TaskDefinition,
        ContainerName: 'mlflow',
        LogStreamPrefix: 'mlflow',
      });
      const network = (service.Properties as { NetworkConfiguration: { AwsvpcConfiguration: Json } })
        .NetworkConfiguration.AwsvpcConfiguration;
      expect(upgrade.Properties?.Subnets).toEqual(network.Subnets);
      expect(upgrade.Properties?.SecurityGroups).toEqual(network.SecurityGroups);
      expect(upgrade.Properties?.AssignPublicIp).toBe(network.AssignPublicIp);
    }
  });

  it('orders the migration: the service depends on the upgrade, the upgrade on the database', () => {
    for (const { upgradeId, upgrade, resources, mlflowServiceId } of [dev, prod]) {
      expect((resources[mlflowServiceId] as CfnResource).DependsOn).toContain(upgradeId);
      const database = Object.entries(resources).find(
        ([, r]) =>
          ['AWS::RDS::DBInstance', 'AWS::ECS::Service'].includes(r.Type) && r !== resources[mlflowServiceId],
      );
      expect(database, 'the database resource').toBeDefined();
      expect(upgrade.DependsOn).toContain(database?.[0]);
    }
    // ...and on the database's ingress rule for the MLflow tasks, so the task can connect.
    const ingress = Object.entries(prod.resources).filter(
      ([id, r]) => r.Type === 'AWS::EC2::SecurityGroupIngress' && id.startsWith('MlflowRds'),
    );
    expect(ingress.length).toBeGreaterThan(0);
    for (const [id] of ingress) expect(prod.upgrade.DependsOn).toContain(id);
  });

  it('lets its handlers start only that task definition in that cluster, and read tasks there', () => {
    const statements = Object.values(prod.template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: Json[] }).Statement,
    );
    const runTask = statements.find((s) => s.Action === 'ecs:RunTask');
    const service = prod.resources[prod.mlflowServiceId] as CfnResource;
    expect(runTask).toMatchObject({
      Resource: service.Properties?.TaskDefinition,
      Condition: { ArnEquals: { 'ecs:cluster': expect.anything() } },
    });
    const passRole = statements.find((s) => s.Action === 'iam:PassRole');
    expect(passRole?.Resource).toHaveLength(2);
    expect(statements.find((s) => s.Action === 'ecs:DescribeTasks')).toBeDefined();
    expect(statements.some((s) => s.Action === 'ecs:StopTask' || s.Action === 'ecs:*')).toBe(false);
  });

  it('refuses a version that is not an exact release', () => {
    expect(() => synth({ mlflowVersion: 'latest' })).toThrow(/mlflowVersion must be an exact MLflow release/);
  });
});

describe('the mlflowVersion setting', () => {
  const load = (context: Json) => loadStageConfig((key) => context[key]);

  it('defaults to the version the repo pins for the image and the local venv', () => {
    expect(load({}).mlflow.version).toBe(DEFAULT_MLFLOW_VERSION);
    expect(load({ stage: 'prod', alarmEmail: 'ops@example.com' }).mlflow.version).toBe(
      DEFAULT_MLFLOW_VERSION,
    );
    const dockerfile = readFileSync(join(PROJECT_ROOT, 'docker/mlflow/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(
      new RegExp(`^ARG MLFLOW_VERSION=${DEFAULT_MLFLOW_VERSION.replaceAll('.', '\\.')}$`, 'm'),
    );
    expect(dockerfile).toMatch(/^FROM ghcr\.io\/mlflow\/mlflow:v\$\{MLFLOW_VERSION\}$/m);
    const requirements = readFileSync(join(PROJECT_ROOT, 'localstack/requirements.txt'), 'utf8');
    expect(requirements).toMatch(
      new RegExp(`^mlflow==${DEFAULT_MLFLOW_VERSION.replaceAll('.', '\\.')}$`, 'm'),
    );
  });

  it('takes an exact release from -c mlflowVersion', () => {
    expect(load({ mlflowVersion: '3.18.1' }).mlflow.version).toBe('3.18.1');
    expect(load({ mlflowVersion: '3.18.0rc1' }).mlflow.version).toBe('3.18.0rc1');
  });

  it('names the key and the expected form for anything else', () => {
    for (const bad of ['latest', '3.18', 'v3.18.0', '3.18.*', '>=3.17', '3.18.0 ', 3.18]) {
      expect(() => load({ mlflowVersion: bad }), String(bad)).toThrow(ConfigError);
      expect(() => load({ mlflowVersion: bad }), String(bad)).toThrow(
        /context "mlflowVersion" \(mlflow\.version\).*exact MLflow release like 3\.17\.2/,
      );
    }
  });
});

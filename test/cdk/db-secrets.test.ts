/**
 * The database credentials of MLflow's backend store: rotated on RDS and Aurora (the master by
 * itself, MLflow's user by alternating users), MLflow redeployed when its user has rotated, TLS
 * verified against RDS's CA; the dev ECS Postgres neither rotated nor TLS, and saying so.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadStageConfig, type MlflowDatabaseKind } from '../../lib/config';
import { MLFLOW_DB_ROLE, RDS_CA_BUNDLE_PATH } from '../../lib/mlflow-database';
import { MlflowService } from '../../lib/mlflow-service';
import { PROJECT_ROOT } from '../../lib/mlops-function';
import { ISOLATED_SUBNET_GROUP, PRIVATE_SUBNET_GROUP } from '../../lib/network';
import { resourcesOfType, type SynthesizedStage, synthStage } from '../support/cdk-stage';

type Json = Record<string, unknown>;

/** The MLflow service alone on a VPC with lib/network.ts's subnet groups. */
function synthMlflow(database: MlflowDatabaseKind, databaseRotation?: Duration) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, `Mlflow-${database}`, {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
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
    database,
    retainData: false,
    logRetention: logs.RetentionDays.ONE_WEEK,
    imageDirectory: 'docker/mlflow',
    ...(databaseRotation ? { databaseRotation } : {}),
  });
  return { stack, mlflow, template: Template.fromStack(stack) };
}

function containers(template: Template): Record<string, Json> {
  const definitions = Object.values(resourcesOfType(template, 'AWS::ECS::TaskDefinition')).flatMap(
    (task) => task.Properties.ContainerDefinitions as Json[],
  );
  return Object.fromEntries(definitions.map((c) => [c.Name as string, c]));
}

function environment(container: Json | undefined): Record<string, unknown> {
  return Object.fromEntries(
    ((container?.Environment ?? []) as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
  );
}

/** Secret name (env var) → the secret's logical id and JSON field. */
function secrets(container: Json | undefined): Record<string, { secret: string; field: string }> {
  return Object.fromEntries(
    ((container?.Secrets ?? []) as { Name: string; ValueFrom: Json }[]).map(({ Name, ValueFrom }) => {
      // A whole secret is a bare Ref; a JSON field is `<arn>:<field>::`.
      if (!('Fn::Join' in ValueFrom)) return [Name, { secret: ValueFrom.Ref as string, field: '' }];
      const [ref, field] = (ValueFrom['Fn::Join'] as [string, [Json, string]])[1];
      return [Name, { secret: ref.Ref as string, field: field.replace(/^:|::$/g, '') }];
    }),
  );
}

function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } } | object): string {
  return stack.resolve((construct as { secretArn: string }).secretArn).Ref as string;
}

describe.each(['rds', 'aurora-serverless'] as const)('database secrets on %s', (kind) => {
  const { stack, mlflow, template } = synthMlflow(kind);
  const managed = mlflow.database.managed;
  if (!managed) throw new Error(`${kind}: no managed secrets`);
  const master = logicalIdOf(stack, managed.masterSecret);
  const user = logicalIdOf(stack, mlflow.database.secret);

  it('rotates the master alone and MLflow’s user by alternating users, every 30 days by default, from the private subnets', () => {
    const schedules = Object.values(resourcesOfType(template, 'AWS::SecretsManager::RotationSchedule'));
    const bySecret = Object.fromEntries(
      schedules.map((s) => [(s.Properties.SecretId as Json).Ref as string, s.Properties]),
    );
    expect(Object.keys(bySecret).sort()).toEqual([master, user].sort());
    expect(bySecret[master]).toMatchObject({
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      HostedRotationLambda: { RotationType: 'PostgreSQLSingleUser' },
    });
    expect(bySecret[user]).toMatchObject({
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      HostedRotationLambda: { RotationType: 'PostgreSQLMultiUser', MasterSecretArn: { Ref: master } },
    });
    const subnets = stack.resolve(
      mlflow.vpc.selectSubnets({ subnetGroupName: PRIVATE_SUBNET_GROUP }).subnetIds.join(','),
    );
    for (const schedule of Object.values(bySecret)) {
      const hosted = schedule.HostedRotationLambda as Json;
      expect(hosted.VpcSubnetIds).toEqual(subnets);
      expect(hosted.VpcSecurityGroupIds).toEqual({
        'Fn::GetAtt': [
          stack.resolve(managed.rotationSecurityGroup.securityGroupId)['Fn::GetAtt'][0],
          'GroupId',
        ],
      });
      // The alternating users go into a connection URI: the same characters are left out.
      expect(hosted.ExcludeCharacters).toContain('@');
    }
  });

  it('admits the rotation functions to the database port, and waits for the MLflow service (its role) and the redeploy rule before the first rotation', () => {
    const rotationGroup = stack.resolve(managed.rotationSecurityGroup.securityGroupId)['Fn::GetAtt'][0];
    const ingress = Object.values(resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress')).map(
      (r) => r.Properties,
    );
    expect(
      ingress.some(
        (r) =>
          ((r.SourceSecurityGroupId as Json)?.['Fn::GetAtt'] as string[] | undefined)?.[0] === rotationGroup,
      ),
    ).toBe(true);
    const service = stack.resolve(mlflow.service.serviceArn).Ref as string;
    const [rule] = Object.keys(template.findResources('AWS::Events::Rule'));
    for (const schedule of Object.values(template.findResources('AWS::SecretsManager::RotationSchedule'))) {
      expect(schedule.DependsOn).toEqual(expect.arrayContaining([service, rule]));
    }
  });

  it('connects MLflow as its own user with verify-full against the RDS CA bundle, acting as its role', () => {
    const { mlflow: server } = containers(template);
    expect(environment(server)).toMatchObject({
      DB_SSLMODE: 'verify-full',
      DB_SSLROOTCERT: RDS_CA_BUNDLE_PATH,
      DB_ROLE: MLFLOW_DB_ROLE,
    });
    expect(secrets(server)).toMatchObject({
      DB_USER: { secret: user, field: 'username' },
      DB_PASSWORD: { secret: user, field: 'password' },
    });
    // The master's password never reaches the server.
    expect(Object.values(secrets(server)).map((s) => s.secret)).not.toContain(master);
  });

  it('creates the role first in a container of its own that alone reads the master secret', () => {
    const { mlflow: server, 'db-roles': roles } = containers(template);
    expect(roles).toMatchObject({
      Essential: false,
      EntryPoint: ['python', '/usr/local/lib/mlflow/db_roles.py'],
    });
    expect(secrets(roles)).toEqual({
      DB_MASTER_USER: { secret: master, field: 'username' },
      DB_MASTER_PASSWORD: { secret: master, field: 'password' },
      DB_USER: { secret: user, field: 'username' },
      DB_PASSWORD: { secret: user, field: 'password' },
    });
    expect(environment(roles)).toMatchObject({ DB_SSLMODE: 'verify-full', DB_ROLE: MLFLOW_DB_ROLE });
    expect(server?.DependsOn).toEqual([{ ContainerName: 'db-roles', Condition: 'SUCCESS' }]);
  });

  it('redeploys the MLflow service (rolling) when MLflow’s user has rotated', () => {
    const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule')).filter(
      (found) => found.Properties.EventPattern,
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0]?.Properties as Json;
    expect(rule.EventPattern).toEqual({
      source: ['aws.secretsmanager'],
      'detail-type': ['AWS Service Event via CloudTrail'],
      detail: {
        eventSource: ['secretsmanager.amazonaws.com'],
        eventName: ['RotationSucceeded'],
        additionalEventData: { SecretId: [{ Ref: user }] },
      },
    });
    const [machineId, machine] =
      Object.entries(resourcesOfType(template, 'AWS::StepFunctions::StateMachine'))[0] ?? [];
    expect((rule.Targets as Json[])[0]?.Arn).toEqual({ Ref: machineId });
    const definition = JSON.stringify(machine?.Properties.DefinitionString);
    expect(definition).toContain('aws-sdk:ecs:updateService');
    expect(definition).toContain('\\"ForceNewDeployment\\":true');
    expect(definition).toMatch(/TimeoutSeconds\\":60/);
    expect(definition).toMatch(/TimeoutSeconds\\":300/);
    // UpdateService on this one service only.
    const service = stack.resolve(mlflow.service.serviceArn);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'ecs:UpdateService', Effect: 'Allow', Resource: service }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 100 }),
    });
  });

  it('also redeploys every half rotation period, so a missed rotation event cannot strand the tasks', () => {
    const scheduled = (synthesized: typeof template) =>
      Object.values(resourcesOfType(synthesized, 'AWS::Events::Rule'))
        .map((found) => found.Properties as Json)
        .filter((properties) => properties.ScheduleExpression);
    const [backstop] = scheduled(template);
    expect(backstop?.ScheduleExpression).toBe('rate(15 days)');
    const [machineId] = Object.keys(resourcesOfType(template, 'AWS::StepFunctions::StateMachine'));
    expect(((backstop?.Targets ?? []) as Json[])[0]?.Arn).toEqual({ Ref: machineId });
    expect(scheduled(synthMlflow(kind, Duration.days(1)).template)[0]?.ScheduleExpression).toBe(
      'rate(12 hours)',
    );
  });

  it('takes the rotation period from the props', () => {
    const weekly = synthMlflow(kind, Duration.days(7)).template;
    for (const schedule of Object.values(resourcesOfType(weekly, 'AWS::SecretsManager::RotationSchedule'))) {
      expect(schedule.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(7 days)' });
    }
    expect(() => synthMlflow(kind, Duration.hours(12))).toThrow(
      'DatabaseRotationProps.every must be 1-365 whole days (got 12 hours)',
    );
  });
});

describe('database secrets on the ECS Postgres (dev)', () => {
  const { template } = synthMlflow('ecs-postgres');

  it('neither rotates nor asks for TLS, and has no role bootstrap or redeploy rule', () => {
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    template.resourceCountIs('AWS::Events::Rule', 0);
    const all = containers(template);
    expect(all['db-roles']).toBeUndefined();
    const env = environment(all.mlflow);
    expect(env.DB_SSLMODE).toBeUndefined();
    expect(env.DB_ROLE).toBeUndefined();
  });
});

describe('the stages', () => {
  let prod: SynthesizedStage;
  beforeAll(() => {
    prod = synthStage('prod');
  }, 120_000);

  it('rotate every 30 days by default, a stage setting (-c databaseRotationDays=)', () => {
    expect(loadStageConfig(() => undefined).mlflow.databaseRotationDays).toBe(30);
    expect(
      loadStageConfig((key) => ({ stage: 'prod', alarmEmail: 'a@example.com' })[key]).mlflow
        .databaseRotationDays,
    ).toBe(30);
    expect(
      loadStageConfig((key) => (key === 'databaseRotationDays' ? '7' : undefined)).mlflow
        .databaseRotationDays,
    ).toBe(7);
    expect(() => loadStageConfig((key) => (key === 'databaseRotationDays' ? '0' : undefined))).toThrow(
      /databaseRotationDays/,
    );
  });

  it('rotate both database secrets in prod and let the rotation functions reach Secrets Manager’s endpoint', () => {
    const { stack, template } = prod;
    const rotated = Object.values(resourcesOfType(template, 'AWS::SecretsManager::RotationSchedule')).map(
      (s) => (s.Properties.SecretId as Json).Ref,
    );
    expect(rotated).toHaveLength(2);
    const mlflow = stack.mlflow as MlflowService;
    const group = mlflow.databaseRotationSecurityGroup;
    if (!group) throw new Error('prod: no rotation security group');
    const endpoint = stack.network.secretsEndpoint;
    if (!endpoint) throw new Error('prod: no Secrets Manager endpoint');
    const endpointGroups = endpoint.connections.securityGroups.map(
      (g) => stack.resolve(g.securityGroupId)['Fn::GetAtt'][0],
    );
    const rotationGroup = stack.resolve(group.securityGroupId)['Fn::GetAtt'][0];
    const admitted = Object.values(resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress'))
      .map((r) => r.Properties)
      .filter((r) => endpointGroups.includes(((r.GroupId as Json)['Fn::GetAtt'] as string[])[0]))
      .map((r) => ({
        port: r.FromPort,
        from: ((r.SourceSecurityGroupId as Json)['Fn::GetAtt'] as string[])[0],
      }));
    expect(admitted).toContainEqual({ port: 443, from: rotationGroup });
  });
});

/** The AwsSolutions rules acknowledged in a stack, by construct path. */
function acknowledged(stack: Stack): { path: string; rule: string }[] {
  return stack.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.keys(entry.data as Record<string, string>)
          .map((id) => id.replace(/^annotation::/i, ''))
          .filter((id) => id.startsWith('AwsSolutions-'))
          .map((id) => ({ path: construct.node.path, rule: id.replace(/^AwsSolutions-/, '') })),
      ),
  );
}

describe('the cdk-nag acknowledgements the rotation, the WAF and IAM authorization made unnecessary', () => {
  it('are gone in prod: no SMG4 but on MLflow’s own secrets and the webhook’s, no APIG3, no APIG4', () => {
    const acks = acknowledged(synthStage('prod').stack);
    expect(
      acks
        .filter((a) => a.rule === 'SMG4')
        .map((a) => a.path)
        .sort(),
    ).toEqual([
      ...['AdminSecret', 'FlaskSecretKey', 'PipelinesSecret', 'ReaderSecret'].map(
        (id) => `MlopsStack-prod/Mlflow/${id}`,
      ),
      // The MLflow webhook's HMAC secret: MLflow keeps its copy, so a rotation must re-register it.
      'MlopsStack-prod/ServingSync/WebhookSecret',
    ]);
    expect(acks.filter((a) => a.rule === 'APIG3' || a.rule === 'APIG4')).toEqual(
      // Only the public routes: anonymous by design.
      [
        { path: 'MlopsStack-prod/PredictApi/Api/Default/health/GET', rule: 'APIG4' },
        { path: 'MlopsStack-prod/PredictApi/Api/Default/ping/GET', rule: 'APIG4' },
        { path: 'MlopsStack-prod/PredictApi/Api/Default/openapi.json/GET', rule: 'APIG4' },
        // Authenticated by MLflow's HMAC signature in the function, not by API Gateway.
        { path: 'MlopsStack-prod/PredictApi/Api/Default/webhooks/mlflow/POST', rule: 'APIG4' },
      ],
    );
  });

  it('remain in dev for the self-hosted Postgres secret (not rotated) and the stage without a WAF', () => {
    const acks = acknowledged(synthStage('dev').stack);
    expect(acks).toContainEqual({ path: 'MlopsStack-dev/Mlflow/Postgres/Credentials', rule: 'SMG4' });
    expect(acks.filter((a) => a.rule === 'APIG3')).toHaveLength(1);
  });
});

describe('the MLflow image', () => {
  it('bundles the RDS CA bundle where the task looks for it, and the role bootstrap script', () => {
    const dockerfile = readFileSync(join(PROJECT_ROOT, 'docker/mlflow/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(
      new RegExp(
        `^ADD --chmod=0644 https://truststore\\.pki\\.rds\\.amazonaws\\.com/global/global-bundle\\.pem ${RDS_CA_BUNDLE_PATH}$`,
        'm',
      ),
    );
    expect(dockerfile).toMatch(/^COPY --chmod=0644 db_roles\.py \/usr\/local\/lib\/mlflow\/db_roles\.py$/m);
  });
});

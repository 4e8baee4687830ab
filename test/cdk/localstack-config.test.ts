/**
 * `-c localstack=true` (npm run local:deploy): the stack without what LocalStack's free edition
 * cannot run — the ECS MLflow service, its load balancer and database, container images — with
 * the functions pointed at the compose file's MLflow instead.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ConfigError, LOCALSTACK_MLFLOW_URI, loadStageConfig } from '../../lib/config';
import { ExternalMlflow } from '../../lib/localstack-target';
import { PROJECT_ROOT } from '../../lib/mlops-function';
import { MlopsStack } from '../../lib/mlops-stack';
import { MLFLOW_STEPS } from '../../lib/pipelines';

const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** Synthesizes like `cdk synth` with the given context (Lambda bundling skipped, as test/support/cdk-stage.ts). */
function synth(extra: Record<string, unknown>) {
  const context: Record<string, unknown> = { ...cdkJson.context, ...extra, 'aws:cdk:bundling-stacks': [] };
  const config = loadStageConfig((key) => context[key]);
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-localstack-'));
  const app = new App({ context, outdir });
  const stack = new MlopsStack(app, 'MlopsStack-dev', { config, env: { region: config.region } });
  app.synth();
  const assets = JSON.parse(readFileSync(join(outdir, 'MlopsStack-dev.assets.json'), 'utf8')) as {
    files: Record<string, unknown>;
    dockerImages: Record<string, unknown>;
  };
  return { config, stack, template: Template.fromStack(stack), assets };
}

// As local:deploy to ministack synthesizes it: the local MLflow's user and password in the context.
const local = synth({
  localstack: 'true',
  localstackMlflowUser: 'pipelines',
  localstackMlflowPassword: 'local-p4ss',
});
// With a NAT gateway, so the AWS variant has everything an emulator leaves out (dev's default has none).
const aws = synth({ natGateways: '1' });

type Json = Record<string, unknown>;
/** MLflow callers besides the steps in both variants: the webhook receiver and the reconciler. */
const LOCAL_SERVING_SYNC_CALLERS = 2;
/** Only the AWS variant registers the webhook (the registration function; -c mlflowWebhook). */
const AWS_ONLY_MLFLOW_CALLERS = 1;
const mlflowUris = (template: Template) =>
  Object.values(template.findResources('AWS::Lambda::Function'))
    .map((fn) => ((fn.Properties as Json).Environment as { Variables?: Json } | undefined)?.Variables)
    .filter((vars): vars is Json => vars?.MLFLOW_TRACKING_URI !== undefined)
    .map((vars) => vars.MLFLOW_TRACKING_URI);

describe('context localstack / localstackMlflowUri', () => {
  it('is off by default and on with -c localstack=true, with the compose MLflow as tracking URI', () => {
    expect(aws.config.localStack).toEqual({ enabled: false, mlflowTrackingUri: LOCALSTACK_MLFLOW_URI });
    expect(local.config.localStack).toEqual({
      enabled: true,
      mlflowTrackingUri: 'http://mlflow:5000',
      mlflowUsername: 'pipelines',
      mlflowPassword: 'local-p4ss',
    });
    const moved = loadStageConfig(
      (key) => ({ localstack: 'true', localstackMlflowUri: 'http://host.docker.internal:5000' })[key],
    );
    expect(moved.localStack.mlflowTrackingUri).toBe('http://host.docker.internal:5000');
  });

  it('rejects a tracking URI that is not an http(s) URL, naming the context key', () => {
    const load = () =>
      loadStageConfig((key) => ({ localstack: 'true', localstackMlflowUri: 'mlflow:5000' })[key]);
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      /context "localstackMlflowUri" \(localStack\.mlflowTrackingUri\): must be an http\(s\) URL/,
    );
  });
});

describe('MlopsStack with localstack=true', () => {
  it('has no ECS service, load balancer, database or Cloud Map namespace', () => {
    for (const type of [
      'AWS::ECS::Cluster',
      'AWS::ECS::Service',
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      'AWS::RDS::DBInstance',
      'AWS::EFS::FileSystem',
      'AWS::ServiceDiscovery::PrivateDnsNamespace',
    ]) {
      expect(Object.keys(local.template.findResources(type)), type).toEqual([]);
    }
    expect(Object.keys(aws.template.findResources('AWS::ECS::Service')).length).toBeGreaterThan(0);
    expect(local.stack.mlflow).toBeInstanceOf(ExternalMlflow);
  });

  it('points every MLflow caller (the steps, the serving-manifest writers) at the compose MLflow', () => {
    const uris = mlflowUris(local.template);
    expect(uris.length).toBe(mlflowUris(aws.template).length - AWS_ONLY_MLFLOW_CALLERS);
    expect(uris.length).toBe(MLFLOW_STEPS.size + LOCAL_SERVING_SYNC_CALLERS);
    expect(new Set(uris)).toEqual(new Set(['http://mlflow:5000']));
    // Each logs in as the local MLflow's user, handed over as is (no Secrets Manager to read it from).
    for (const fn of Object.values(local.template.findResources('AWS::Lambda::Function'))) {
      const vars = ((fn.Properties as Json).Environment as { Variables?: Json } | undefined)?.Variables ?? {};
      if (vars.MLFLOW_TRACKING_URI === undefined) continue;
      expect(vars).toMatchObject({
        MLFLOW_TRACKING_USERNAME: 'pipelines',
        MLFLOW_TRACKING_PASSWORD: 'local-p4ss',
      });
      expect(vars.MLFLOW_TRACKING_PASSWORD_SECRET_ARN).toBeUndefined();
    }
  });

  it('publishes the function and layer assets but no container image (LocalStack has no ECR)', () => {
    expect(Object.keys(local.assets.dockerImages)).toEqual([]);
    expect(Object.keys(aws.assets.dockerImages).length).toBe(2); // the MLflow server and the trainer
    const names = (files: Record<string, unknown>) =>
      Object.values(files).map((file) => (file as { displayName?: string }).displayName ?? '');
    const localNames = new Set(names(local.assets.files));
    // The same function, layer and template assets, less the code of the custom resources: CDK's
    // own, the MLflow database upgrade (its handlers and CDK's provider framework, which runs an ECS
    // task) and the MLflow webhook registration (its handler and the provider framework).
    const awsOnly = [
      'MlopsStack-dev/Custom::S3AutoDeleteObjectsCustomResourceProvider Code',
      'MlopsStack-dev/Custom::VpcRestrictDefaultSGCustomResourceProvider Code',
      'Mlflow/DatabaseUpgrade/OnEvent/Function/Code',
      'Mlflow/DatabaseUpgrade/IsComplete/Function/Code',
      'Mlflow/DatabaseUpgrade/Provider/framework-onEvent/Code',
      // The registration's provider framework is the same asset as the upgrade's, listed once.
      'ServingSync/Registration/Function/Code',
    ];
    expect(names(aws.assets.files).filter((name) => !localNames.has(name))).toEqual(awsOnly);
    expect(localNames.size).toBe(Object.keys(aws.assets.files).length - awsOnly.length);
  });

  it('leaves out what a local emulator neither needs nor runs; the AWS variant keeps all of it', () => {
    const count = (template: Template, type: string) => Object.keys(template.findResources(type)).length;
    for (const type of ['AWS::EC2::NatGateway', 'AWS::EC2::EIP', 'AWS::EC2::FlowLog']) {
      expect(count(local.template, type), `local ${type}`).toBe(0);
      expect(count(aws.template, type), `aws ${type}`).toBe(1);
    }
    const customResources = (template: Template) =>
      Object.values(template.toJSON().Resources as Record<string, { Type: string }>)
        .map((resource) => resource.Type)
        .filter((type) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource');
    expect(customResources(local.template)).toEqual([]);
    expect(new Set(customResources(aws.template))).toEqual(
      new Set([
        'Custom::S3AutoDeleteObjects',
        'Custom::VpcRestrictDefaultSG',
        'Custom::MlflowDatabaseUpgrade',
        'Custom::MlflowWebhook',
      ]),
    );
    const mathAlarms = (template: Template) =>
      Object.entries(template.findResources('AWS::CloudWatch::Alarm'))
        .filter(([, alarm]) => (alarm.Properties as Json).Metrics !== undefined)
        .map(([id]) => id);
    expect(mathAlarms(local.template)).toEqual([]);
    expect(mathAlarms(aws.template)).toEqual([expect.stringMatching(/ServerErrorRate/)]);
    // Every other alarm stays, but those on the MLflow tier the emulator does not run.
    const mlflowTier = Object.keys(aws.template.findResources('AWS::CloudWatch::Alarm')).filter((id) =>
      /^Observability(Mlflow|Database)/.test(id),
    );
    expect(mlflowTier.length).toBeGreaterThan(0);
    expect(count(local.template, 'AWS::CloudWatch::Alarm')).toBe(
      count(aws.template, 'AWS::CloudWatch::Alarm') - 1 - mlflowTier.length,
    );
  });

  it('puts the functions in the isolated `private` subnets, routed to no NAT gateway', () => {
    const routes = Object.values(local.template.findResources('AWS::EC2::Route')).map(
      (route) => route.Properties as Json,
    );
    expect(routes.filter((route) => route.NatGatewayId !== undefined)).toEqual([]);
    expect(routes.length).toBe(2); // the public subnets' internet gateway routes
    const inVpc = Object.values(local.template.findResources('AWS::Lambda::Function')).filter(
      (fn) => (fn.Properties as Json).VpcConfig !== undefined,
    );
    // The steps that call MLflow and the serving-manifest writers; the rest (predict too) are outside the VPC.
    expect(inVpc.length).toBe(MLFLOW_STEPS.size + LOCAL_SERVING_SYNC_CALLERS);
    expect(local.stack.network.privateSubnetIds).toHaveLength(2);
  });

  it('keeps the four pipelines, the predict API and its key, and the outputs local:e2e reads', () => {
    local.template.resourceCountIs('AWS::StepFunctions::StateMachine', 4);
    local.template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    const outputs = Object.keys(local.template.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining([
        'PredictApiUrl',
        'PredictApiKeyId',
        'LandingBucket',
        'DataPipelineArn',
        'TrainingPipelineArn',
        'InferencePipelineArn',
        'MonitoringPipelineArn',
      ]),
    );
  });

  it('passes the AwsSolutions checks', () => {
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(local.stack);
    expect(
      report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});

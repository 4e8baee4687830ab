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

const local = synth({ localstack: 'true' });
const aws = synth({});

type Json = Record<string, unknown>;
const mlflowUris = (template: Template) =>
  Object.values(template.findResources('AWS::Lambda::Function'))
    .map((fn) => ((fn.Properties as Json).Environment as { Variables?: Json } | undefined)?.Variables)
    .filter((vars): vars is Json => vars?.MLFLOW_TRACKING_URI !== undefined)
    .map((vars) => vars.MLFLOW_TRACKING_URI);

describe('context localstack / localstackMlflowUri', () => {
  it('is off by default and on with -c localstack=true, with the compose MLflow as tracking URI', () => {
    expect(aws.config.localStack).toEqual({ enabled: false, mlflowTrackingUri: LOCALSTACK_MLFLOW_URI });
    expect(local.config.localStack).toEqual({ enabled: true, mlflowTrackingUri: 'http://mlflow:5000' });
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

  it('points every MLflow caller (the steps and the predict function) at the compose MLflow', () => {
    const uris = mlflowUris(local.template);
    expect(uris.length).toBe(mlflowUris(aws.template).length);
    expect(uris.length).toBeGreaterThan(10);
    expect(new Set(uris)).toEqual(new Set(['http://mlflow:5000']));
  });

  it('publishes the function and layer assets but no container image (LocalStack has no ECR)', () => {
    expect(Object.keys(local.assets.dockerImages)).toEqual([]);
    expect(Object.keys(aws.assets.dockerImages).length).toBe(2); // the MLflow server and the trainer
    expect(Object.keys(local.assets.files).length).toBe(Object.keys(aws.assets.files).length);
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

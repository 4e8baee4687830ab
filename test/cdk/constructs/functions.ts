import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { pascalCase } from '../../../lambdas/steps/catalogue';
import { MLFLOW_STEPS } from '../../../lib/pipelines';
import { PIPELINE_STEPS } from '../../../lib/state-machine-substitutions';
import { resourcesOfType, synthStage } from '../../support/cdk-stage';

type Json = Record<string, unknown>;

/** The serving-manifest writers that resolve aliases in MLflow (lib/serving-sync.ts). */
const SERVING_SYNC_FUNCTIONS = ['ServingSyncWebhook', 'ServingSyncReconciler', 'ServingSyncRegistration'];
interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
  Effect: string;
}

/** The project's functions (CDK's own custom-resource handlers carry no Powertools settings). */
function projectFunctions(stage: 'dev' | 'prod') {
  const functions = resourcesOfType(synthStage(stage).template, 'AWS::Lambda::Function');
  return Object.entries(functions).filter(
    ([, fn]) =>
      (fn.Properties.Environment as { Variables?: Json } | undefined)?.Variables?.POWERTOOLS_SERVICE_NAME,
  );
}

function statementsOf(stage: 'dev' | 'prod', policyIdPrefix: string): Statement[] {
  const policies = resourcesOfType(synthStage(stage).template, 'AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => id.startsWith(policyIdPrefix))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const objectArn = (bucketPrefix: string, keyPrefix: string) => ({
  'Fn::Join': [
    '',
    [
      { 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^DataLake${bucketPrefix}`)), 'Arn'] },
      `/${keyPrefix}*`,
    ],
  ],
});

describe('MlopsFunction', () => {
  it('builds every step, the predict API, the health check and the serving-manifest writers with the same defaults', () => {
    const functions = projectFunctions('dev');
    const steps = Object.values(PIPELINE_STEPS).flat();
    // + the predict API, the health check, the MLflow database upgrade's two handlers and serving sync's.
    expect(functions).toHaveLength(steps.length + 4 + SERVING_SYNC_FUNCTIONS.length);
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
        Environment: {
          Variables: expect.objectContaining({
            POWERTOOLS_METRICS_NAMESPACE: 'ServerlessMlops',
            POWERTOOLS_LOG_LEVEL: 'INFO',
            POWERTOOLS_SERVICE_NAME: expect.stringMatching(
              /^(data|training|inference|monitoring)-pipeline|predict|health-check|mlflow-db-upgrade|serving-(webhook|reconciler|webhook-registration)$/,
            ),
          }),
        },
      });
    }
  });

  it('puts only the MLflow callers in the VPC, with the MLflow client group and tracking URI; predict is not one', () => {
    for (const stage of ['dev', 'prod'] as const) {
      const { stack } = synthStage(stage);
      const clientGroup = stack.getLogicalId(stack.mlflow.clientSecurityGroup.node.defaultChild as never);
      const callers = new Set(
        [...MLFLOW_STEPS].map((step) => `Pipelines${pascalCase(step)}`).concat(SERVING_SYNC_FUNCTIONS),
      );
      const functions = projectFunctions(stage);
      const inVpc = functions.filter(([id]) => [...callers].some((prefix) => id.startsWith(prefix)));
      expect(inVpc).toHaveLength(callers.size);
      for (const [, fn] of inVpc) {
        expect(fn.Properties.VpcConfig).toMatchObject({
          SecurityGroupIds: [{ 'Fn::GetAtt': [clientGroup, 'GroupId'] }],
        });
        const uri = (fn.Properties.Environment as { Variables: Json }).Variables.MLFLOW_TRACKING_URI;
        // dev has no load balancer: the task's Cloud Map name; prod: the internal load balancer.
        expect(uri).toEqual(
          stage === 'dev'
            ? 'http://mlflow.mlflow.internal:5000'
            : {
                'Fn::Join': [
                  '',
                  ['http://', { 'Fn::GetAtt': [expect.stringMatching(/^MlflowLoadBalancer/), 'DNSName'] }],
                ],
              },
        );
      }
      // The rest (data steps, the alert sender, the health probe) reach AWS APIs from outside the VPC.
      for (const [, fn] of functions.filter((entry) => !inVpc.includes(entry))) {
        expect(fn.Properties.VpcConfig).toBeUndefined();
      }
    }
  });

  it('gives every MLflow caller a user and its secret to read: the manifest writers the reader, the pipelines the writer', () => {
    const { template } = synthStage('dev');
    const policies = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'));
    const callers = projectFunctions('dev').filter(
      ([id, fn]) =>
        !id.startsWith('ObservabilityHealthCheck') &&
        (fn.Properties.Environment as { Variables: Json }).Variables.MLFLOW_TRACKING_URI !== undefined,
    );
    expect(callers.length).toBeGreaterThan(5);
    // Functions that never call MLflow get no user either.
    for (const [id, fn] of projectFunctions('dev')) {
      const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
      if (variables.MLFLOW_TRACKING_URI === undefined)
        expect(variables.MLFLOW_TRACKING_USERNAME, id).toBeUndefined();
    }
    for (const [id, fn] of callers) {
      const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
      const admin = id.startsWith('ServingSyncRegistration');
      const reader = !admin && id.startsWith('ServingSync');
      expect(variables.MLFLOW_TRACKING_USERNAME, id).toBe(admin ? 'admin' : reader ? 'reader' : 'pipelines');
      const secret = admin ? /^MlflowAdminSecret/ : reader ? /^MlflowReaderSecret/ : /^MlflowPipelinesSecret/;
      expect(variables.MLFLOW_TRACKING_PASSWORD_SECRET_ARN, id).toEqual({
        Ref: expect.stringMatching(secret),
      });
      expect(variables.MLFLOW_TRACKING_PASSWORD, id).toBeUndefined();
      const role = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
      const granted = policies
        .filter((p) => ((p.Properties.Roles as { Ref: string }[]) ?? []).some((r) => r.Ref === role))
        .flatMap(
          (p) =>
            (p.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] })
              .Statement,
        )
        .filter((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue'));
      // The webhook receiver and its registration also read the webhook's HMAC secret.
      const webhookSecret = id.startsWith('ServingSyncWebhook') || admin;
      expect(
        granted.flatMap((st) => [st.Resource].flat()),
        id,
      ).toEqual(
        webhookSecret
          ? expect.arrayContaining([
              { Ref: expect.stringMatching(secret) },
              { Ref: expect.stringMatching(/^ServingSyncWebhookSecret/) },
            ])
          : [{ Ref: expect.stringMatching(secret) }],
      );
      if (webhookSecret)
        expect(
          granted.flatMap((st) => [st.Resource].flat()),
          id,
        ).toHaveLength(2);
    }
  });

  it('keeps function logs 14 days in dev and 90 in prod', () => {
    const retention = (stage: 'dev' | 'prod') =>
      new Set(
        Object.entries(resourcesOfType(synthStage(stage).template, 'AWS::Logs::LogGroup'))
          .filter(([id]) => /Logs[0-9A-F]{8}$/.test(id))
          .map(([, g]) => g.Properties.RetentionInDays),
      );
    expect(retention('dev')).toEqual(new Set([14]));
    expect(retention('prod')).toEqual(new Set([90]));
  });

  it('grants no wildcard S3 actions to any role', () => {
    const policies = resourcesOfType(synthStage('dev').template, 'AWS::IAM::Policy');
    const s3Actions = Object.values(policies)
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .flatMap((s) => [s.Action].flat())
      .filter((a) => a.startsWith('s3:'));
    expect(s3Actions.length).toBeGreaterThan(20);
    expect(s3Actions.filter((a) => a.includes('*'))).toEqual([]);
  });

  it('gives the ingest step read on landing/ and write on work/ only', () => {
    const s3 = statementsOf('dev', 'PipelinesIngestDataRole').filter((s) =>
      [s.Action].flat()[0]?.startsWith('s3:'),
    );
    expect(s3).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: objectArn('Landing', 'landing/') },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DataLakeLanding/), 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['landing/', 'landing/*'] } },
      },
      {
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:PutObject'],
        Resource: objectArn('Curated', 'work/'),
      },
    ]);
  });

  it('lets predict-batch read landing/ and write predictions/, and nothing else in S3', () => {
    const s3 = statementsOf('dev', 'PipelinesPredictBatchRole').filter((s) =>
      [s.Action].flat()[0]?.startsWith('s3:'),
    );
    expect(s3.map((s) => [s.Action, s.Resource])).toEqual([
      ['s3:GetObject', objectArn('Landing', 'landing/')],
      [['s3:AbortMultipartUpload', 's3:PutObject'], objectArn('Predictions', 'predictions/')],
    ]);
  });

  it('gives the functions that load ONNX models the onnxruntime layer', () => {
    const { template } = synthStage('dev');
    const withLayer = projectFunctions('dev')
      .filter(([, fn]) => fn.Properties.Layers)
      .map(([id]) => id.replace(/Function[0-9A-F]{8}$/, ''));
    expect(withLayer.sort()).toEqual(
      [
        'PipelinesEvaluateCandidate',
        'PipelinesPredictBatch',
        'PipelinesPromoteModel',
        'PredictApiHandler',
      ].sort(),
    );
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['arm64'],
      CompatibleRuntimes: ['nodejs22.x'],
      Description: Match.stringLikeRegexp('linux-arm64 binaries only'),
    });
  });
});

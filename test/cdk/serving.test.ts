/**
 * Issue #19's infrastructure: the versioned serving bucket, the predict function out of the VPC
 * reading only the manifests and the model copies, and the writers' grants.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadStageConfig } from '../../lib/config';
import { resourcesOfType, synthStage } from '../support/cdk-stage';

type Json = Record<string, unknown>;
interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
  Effect: string;
}

beforeAll(() => {
  synthStage('dev');
  synthStage('prod');
}, 120_000);

/** The logical id of the one resource of `type` whose id starts with `prefix`. */
function onlyId(template: Template, type: string, prefix: RegExp): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => prefix.test(id));
  expect(ids, `${type} ${prefix}`).toHaveLength(1);
  return ids[0] as string;
}

/** Every statement of the inline policies attached to the role of the function `functionPrefix`. */
function roleStatements(template: Template, functionPrefix: RegExp): Statement[] {
  const fnId = onlyId(template, 'AWS::Lambda::Function', functionPrefix);
  const fn = template.toJSON().Resources[fnId] as { Properties: Json };
  const role = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((p) => ((p.Properties.Roles as { Ref: string }[]) ?? []).some((r) => r.Ref === role))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const servingObjects = (prefix: string) => ({
  'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^ServingBucket/), 'Arn'] }, `/${prefix}*`]],
});

describe('the serving bucket', () => {
  it.each(['dev', 'prod'] as const)(
    '%s: versioned, private, encrypted, TLS only, keeping noncurrent versions 365 days',
    (stage) => {
      const { template } = synthStage(stage);
      const id = onlyId(template, 'AWS::S3::Bucket', /^ServingBucket/);
      const bucket = template.toJSON().Resources[id] as { Properties: Json; DeletionPolicy: string };
      expect(bucket.Properties).toMatchObject({
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        LoggingConfiguration: { LogFilePrefix: 's3/serving/' },
      });
      const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Json[] }).Rules;
      expect(rules).toContainEqual(
        expect.objectContaining({
          Id: 'keep-history',
          NoncurrentVersionExpiration: { NoncurrentDays: 365 },
          Status: 'Enabled',
        }),
      );
      expect(bucket.DeletionPolicy).toBe(stage === 'prod' ? 'Retain' : 'Delete');
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      template.hasOutput('ServingBucket', { Value: { Ref: id } });
    },
  );

  it('keeps the history as long as -c servingHistoryDays says, and names the key when it is wrong', () => {
    const config = (value: unknown) =>
      loadStageConfig((key) => ({ servingHistoryDays: value })[key as 'servingHistoryDays']);
    expect(config('730').serving.historyDays).toBe(730);
    expect(config(undefined).serving.historyDays).toBe(365);
    expect(() => config('0')).toThrow(ConfigError);
    expect(() => config('0')).toThrow(/servingHistoryDays/);
  });

  it('registers the MLflow webhook by default on AWS, not on an emulator unless -c mlflowWebhook=true', () => {
    const config = (context: Record<string, string>) => loadStageConfig((key) => context[key]);
    expect(config({}).serving.mlflowWebhook).toBe(true);
    expect(config({ mlflowWebhook: 'false' }).serving.mlflowWebhook).toBe(false);
    expect(config({ localstack: 'true' }).serving.mlflowWebhook).toBe(false);
    expect(config({ localstack: 'true', mlflowWebhook: 'true' }).serving.mlflowWebhook).toBe(true);
    expect(() => config({ mlflowWebhook: 'maybe' })).toThrow(/context "mlflowWebhook"/);
  });
});

describe('the predict function', () => {
  it.each(['dev', 'prod'] as const)(
    '%s: outside the VPC, no MLflow settings or user, SERVING_BUCKET set',
    (stage) => {
      const { template } = synthStage(stage);
      const id = onlyId(template, 'AWS::Lambda::Function', /^PredictApiHandler/);
      const fn = template.toJSON().Resources[id] as { Properties: Json };
      expect(fn.Properties.VpcConfig).toBeUndefined();
      const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
      expect(variables.SERVING_BUCKET).toEqual({ Ref: expect.stringMatching(/^ServingBucket/) });
      for (const name of Object.keys(variables)) expect(name).not.toMatch(/^MLFLOW_/);
    },
  );

  it('may only s3:GetObject the manifests (serving/*) and the model copies (models/*), and list: no write, no secrets', () => {
    const { template } = synthStage('dev');
    const statements = roleStatements(template, /^PredictApiHandler/);
    const s3 = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
    expect(s3.map((s) => [s.Action, s.Resource])).toEqual([
      ['s3:GetObject', [servingObjects('models/'), servingObjects('serving/')]],
      // Only so that a missing manifest answers 404 (not published), not 403.
      ['s3:ListBucket', { 'Fn::GetAtt': [expect.stringMatching(/^ServingBucket/), 'Arn'] }],
    ]);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => a.startsWith('secretsmanager:') || a.startsWith('ec2:'))).toEqual([]);
  });
});

describe("the training pipeline's promote step", () => {
  it('publishes manifests: SERVING_BUCKET, read/write/delete on serving/*, read/write on models/*, list', () => {
    const { template } = synthStage('dev');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Production when the new version wins'),
      Environment: {
        Variables: Match.objectLike({ SERVING_BUCKET: { Ref: Match.stringLikeRegexp('^ServingBucket') } }),
      },
    });
    const s3 = roleStatements(template, /^PipelinesPromoteModel/).filter((s) =>
      [s.Action].flat().some((a) => a.startsWith('s3:')),
    );
    const onServing = s3.filter((s) => JSON.stringify(s.Resource).includes('ServingBucket'));
    expect(onServing.map((s) => [[s.Action].flat().sort(), s.Resource])).toEqual([
      [
        ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        servingObjects('serving/'),
      ],
      // S3 answers a missing manifest or model copy with 404 only to a caller that may list.
      [['s3:ListBucket'], { 'Fn::GetAtt': [expect.stringMatching(/^ServingBucket/), 'Arn'] }],
      [['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], servingObjects('models/')],
    ]);
  });
});

describe('the MLflow webhook receiver', () => {
  it.each(['dev', 'prod'] as const)(
    '%s: POST /webhooks/mlflow is its own method, no API Gateway authorization, with its own throttle',
    (stage) => {
      const { template } = synthStage(stage);
      const resources = resourcesOfType(template, 'AWS::ApiGateway::Resource');
      const webhooks = Object.entries(resources).find(([, r]) => r.Properties.PathPart === 'webhooks');
      const mlflow = Object.entries(resources).find(
        ([, r]) =>
          r.Properties.PathPart === 'mlflow' &&
          (r.Properties.ParentId as { Ref?: string }).Ref === webhooks?.[0],
      );
      expect(mlflow, '/webhooks/mlflow').toBeDefined();
      const methods = Object.values(resourcesOfType(template, 'AWS::ApiGateway::Method')).filter(
        (m) => (m.Properties.ResourceId as { Ref: string }).Ref === mlflow?.[0],
      );
      expect(methods).toHaveLength(1);
      expect(methods[0]?.Properties).toMatchObject({
        HttpMethod: 'POST',
        AuthorizationType: 'NONE',
        ApiKeyRequired: false,
      });
      // Its integration is the webhook function, not the predict function.
      const uri = JSON.stringify(((methods[0]?.Properties.Integration ?? {}) as Json).Uri);
      expect(uri).toMatch(/ServingSyncWebhookFunction/);
      expect(uri).not.toMatch(/PredictApiHandler/);
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: 'POST',
            ResourcePath: '/~1webhooks~1mlflow',
            ThrottlingRateLimit: 5,
            ThrottlingBurstLimit: 10,
          }),
        ]),
      });
    },
  );

  it('prod: the stage WAF covers the webhook route too (one web ACL on the whole stage)', () => {
    const { template } = synthStage('prod');
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  it('runs in the VPC as the MLflow reader, with the generated HMAC secret, writing only the serving bucket', () => {
    const { template, stack } = synthStage('dev');
    const id = onlyId(template, 'AWS::Lambda::Function', /^ServingSyncWebhookFunction/);
    const fn = template.toJSON().Resources[id] as { Properties: Json };
    const clientGroup = stack.getLogicalId(stack.mlflow.clientSecurityGroup.node.defaultChild as never);
    expect(fn.Properties.VpcConfig).toMatchObject({
      SecurityGroupIds: [{ 'Fn::GetAtt': [clientGroup, 'GroupId'] }],
    });
    const secretId = onlyId(template, 'AWS::SecretsManager::Secret', /^ServingSyncWebhookSecret/);
    expect(template.toJSON().Resources[secretId].Properties.GenerateSecretString).toMatchObject({
      ExcludePunctuation: true,
      PasswordLength: 48,
    });
    expect((fn.Properties.Environment as { Variables: Json }).Variables).toMatchObject({
      SERVING_BUCKET: { Ref: expect.stringMatching(/^ServingBucket/) },
      SERVED_MODELS: 'iris-classifier',
      // GetAtt Id: the ARN on AWS and on ministack (whose Ref is the name).
      MLFLOW_WEBHOOK_SECRET_ARN: { 'Fn::GetAtt': [secretId, 'Id'] },
      MLFLOW_TRACKING_USERNAME: 'reader',
      MLFLOW_TRACKING_PASSWORD_SECRET_ARN: { Ref: expect.stringMatching(/^MlflowReaderSecret/) },
    });
    const statements = roleStatements(template, /^ServingSyncWebhookFunction/);
    const secrets = statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(secrets.flatMap((s) => [s.Resource].flat())).toEqual(
      expect.arrayContaining([{ Ref: secretId }, { Ref: expect.stringMatching(/^MlflowReaderSecret/) }]),
    );
    expect(secrets.flatMap((s) => [s.Resource].flat())).toHaveLength(2);
    const s3Resources = statements
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')))
      .map((s) => JSON.stringify(s.Resource));
    for (const resource of s3Resources) expect(resource).toMatch(/ServingBucket/);
    expect(s3Resources.join()).toMatch(/webhooks\/deliveries\/\*/);
  });
});

describe('the reconciler', () => {
  it.each(['dev', 'prod'] as const)(
    '%s: runs every minute from a schedule with a dead-letter queue and alarms',
    (stage) => {
      const { template } = synthStage(stage);
      const fnId = onlyId(template, 'AWS::Lambda::Function', /^ServingSyncReconcilerFunction/);
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Target: {
          Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ServingSyncReconcileDeadLetters'), 'Arn'] },
          },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        },
      });
      const fn = template.toJSON().Resources[fnId] as { Properties: Json };
      expect(fn.Properties.VpcConfig).toBeDefined();
      expect((fn.Properties.Environment as { Variables: Json }).Variables).toMatchObject({
        SERVING_BUCKET: { Ref: expect.stringMatching(/^ServingBucket/) },
        SERVED_MODELS: 'iris-classifier',
        MLFLOW_TRACKING_USERNAME: 'reader',
      });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: fnId },
        MaximumRetryAttempts: 0,
      });
      const alarms = Object.keys(resourcesOfType(template, 'AWS::CloudWatch::Alarm'));
      for (const name of ['ServingReconcilerErrors', 'ServingReconcilerThrottles', 'ServingWebhookErrors']) {
        expect(
          alarms.some((id) => id.includes(name)),
          name,
        ).toBe(true);
      }
      expect(
        alarms.some((id) => /ServingReconcile.*Dead/i.test(id) || /DeadLetters.*ServingReconcile/i.test(id)),
      ).toBe(true);
    },
  );
});

describe('the webhook registration', () => {
  it.each(['dev', 'prod'] as const)(
    '%s: a custom resource with the webhook URL, after the MLflow service, run as the MLflow admin',
    (stage) => {
      const { template, stack } = synthStage(stage);
      const resources = template.toJSON().Resources as Record<
        string,
        { Type: string; Properties: Json; DependsOn?: string[] }
      >;
      const [id, resource] =
        Object.entries(resources).find(([, r]) => r.Type === 'Custom::MlflowWebhook') ?? [];
      expect(id).toBeDefined();
      const restApi = onlyId(template, 'AWS::ApiGateway::RestApi', /^PredictApi[0-9A-F]{8}$/);
      const url = JSON.stringify(resource?.Properties.WebhookUrl);
      expect(url).toContain(restApi);
      expect(url).toMatch(/\/webhooks\/mlflow"/);
      expect(resource?.Properties.WebhookSecretArn).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^ServingSyncWebhookSecret/), 'Id'],
      });
      expect(resource?.Properties.ServedModels).toBe('iris-classifier');
      const service = stack.getLogicalId(
        (stack.mlflow as import('../../lib/mlflow-service').MlflowService).service.node.defaultChild as never,
      );
      expect(resource?.DependsOn).toContain(service);

      const fnId = onlyId(template, 'AWS::Lambda::Function', /^ServingSyncRegistrationFunction/);
      const fn = resources[fnId] as { Properties: Json };
      expect(fn.Properties.VpcConfig).toBeDefined();
      expect((fn.Properties.Environment as { Variables: Json }).Variables).toMatchObject({
        MLFLOW_TRACKING_USERNAME: 'admin',
        MLFLOW_TRACKING_PASSWORD_SECRET_ARN: { Ref: expect.stringMatching(/^MlflowAdminSecret/) },
        MLFLOW_WEBHOOK_SECRET_ARN: {
          'Fn::GetAtt': [expect.stringMatching(/^ServingSyncWebhookSecret/), 'Id'],
        },
      });
    },
  );

  it('is left out with -c mlflowWebhook=false; an external MLflow cannot register it', () => {
    const config = (context: Record<string, string>) => loadStageConfig((key) => context[key]);
    expect(config({ mlflowWebhook: 'false' }).serving.mlflowWebhook).toBe(false);
  });
});

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { loadStageConfig } from '../../../lib/config';
import { PROJECT_ROOT } from '../../../lib/mlops-function';
import { MlopsStack } from '../../../lib/mlops-stack';
import { PREDICT_API_SECURITY_POLICY } from '../../../lib/predict-api';
import { resourcesOfType, synthStage } from '../../support/cdk-stage';

type Json = Record<string, unknown>;

/** `cdk synth -c stage=dev -c apiAuth=api-key`, built once for this file. */
let keyedStack: { template: Template; stack: MlopsStack } | undefined;
function keyedDev(): { template: Template; stack: MlopsStack } {
  if (keyedStack) return keyedStack;
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Json };
  const context: Json = {
    ...cdkJson.context,
    stage: 'dev',
    apiAuth: 'api-key',
    'aws:cdk:bundling-stacks': [],
  };
  const config = loadStageConfig((key) => context[key]);
  const app = new App({ context, outdir: mkdtempSync(join(tmpdir(), 'cdk-test-api-key-')) });
  const stack = new MlopsStack(app, 'MlopsStack-dev-api-key', { config, env: { region: config.region } });
  keyedStack = { template: Template.fromStack(stack), stack };
  return keyedStack;
}

function methodsOf(template: Template) {
  const resources = resourcesOfType(template, 'AWS::ApiGateway::Resource');
  const pathOf = (ref: unknown) => resources[(ref as { Ref: string }).Ref]?.Properties.PathPart;
  return Object.values(resourcesOfType(template, 'AWS::ApiGateway::Method'))
    .map((m) => ({
      route: `${m.Properties.HttpMethod} /${pathOf(m.Properties.ResourceId)}`,
      authorization: m.Properties.AuthorizationType,
      apiKeyRequired: m.Properties.ApiKeyRequired,
      integration: (m.Properties.Integration as Json).Type,
    }))
    .sort((a, b) => a.route.localeCompare(b.route));
}

describe('PredictApi', () => {
  it.each(['dev', 'prod'] as const)(
    '%s: IAM authorization on every /predict, /invocations and /status method, public probes',
    (stage) => {
      const { template } = synthStage(stage);
      expect(methodsOf(template)).toEqual([
        { route: 'GET /health', authorization: 'NONE', apiKeyRequired: false, integration: 'AWS_PROXY' },
        {
          route: 'GET /openapi.json',
          authorization: 'NONE',
          apiKeyRequired: false,
          integration: 'AWS_PROXY',
        },
        { route: 'GET /ping', authorization: 'NONE', apiKeyRequired: false, integration: 'AWS_PROXY' },
        { route: 'GET /status', authorization: 'AWS_IAM', apiKeyRequired: false, integration: 'AWS_PROXY' },
        {
          route: 'POST /invocations',
          authorization: 'AWS_IAM',
          apiKeyRequired: false,
          integration: 'AWS_PROXY',
        },
        // POST /webhooks/mlflow: MLflow's deliveries, authenticated by their HMAC in the function.
        { route: 'POST /mlflow', authorization: 'NONE', apiKeyRequired: false, integration: 'AWS_PROXY' },
        { route: 'POST /predict', authorization: 'AWS_IAM', apiKeyRequired: false, integration: 'AWS_PROXY' },
      ]);
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'POST',
        RequestValidatorId: Match.anyValue(),
        RequestModels: { 'application/json': Match.anyValue() },
      });
      // IAM mode has no key to meter.
      template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
      template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    },
  );

  it('gives callers a managed policy to invoke exactly POST /predict, POST /invocations and GET /status, as a stack output', () => {
    const { template } = synthStage('dev');
    const policies = Object.values(resourcesOfType(template, 'AWS::IAM::ManagedPolicy')).filter((p) =>
      JSON.stringify(p.Properties).includes('execute-api:Invoke'),
    );
    expect(policies).toHaveLength(1);
    const document = policies[0]?.Properties.PolicyDocument as { Statement: Json[] } | undefined;
    const statements = document?.Statement ?? [];
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Action: 'execute-api:Invoke', Effect: 'Allow' });
    const resources = JSON.stringify(statements[0]?.Resource);
    expect(resources).toContain('/v1/POST/predict');
    expect(resources).toContain('/v1/POST/invocations');
    expect(resources).toContain('/v1/GET/status');
    expect(resources).not.toContain('*');
    template.hasOutput('PredictApiInvokePolicyArn', {
      Value: { Ref: Match.stringLikeRegexp('InvokePolicy') },
    });
    expect(Object.keys(template.findOutputs('PredictApiKeyId'))).toEqual([]);
  });

  it('api-key mode: the key and usage plan guard /predict and /status, the key id is an output', () => {
    const { template } = keyedDev();
    expect(methodsOf(template).map((m) => [m.route, m.authorization, m.apiKeyRequired])).toEqual([
      ['GET /health', 'NONE', false],
      ['GET /openapi.json', 'NONE', false],
      ['GET /ping', 'NONE', false],
      ['GET /status', 'NONE', true],
      ['POST /invocations', 'NONE', true],
      ['POST /mlflow', 'NONE', false],
      ['POST /predict', 'NONE', true],
    ]);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 50, BurstLimit: 100 },
      Quota: { Limit: 100_000, Period: 'MONTH' },
    });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    template.hasOutput('PredictApiKeyId', {});
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ API_AUTH: 'api-key' }) },
    });
  });

  it('api-key mode passes cdk-nag with its acknowledgements', () => {
    const { stack } = keyedDev();
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    expect(
      report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });

  it('prod associates a WAF web ACL (rate limit per IP, AWS common rules) with the stage; dev has none', () => {
    const prod = synthStage('prod').template;
    prod.resourceCountIs('AWS::WAFv2::WebACL', 1);
    prod.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Name: 'RateLimitPerIp',
          Action: { Block: {} },
          Statement: { RateBasedStatement: { Limit: 20_000, AggregateKeyType: 'IP' } },
        }),
        Match.objectLike({
          Name: 'AWSManagedRulesCommonRuleSet',
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({
              VendorName: 'AWS',
              Name: 'AWSManagedRulesCommonRuleSet',
              // Scoring bodies are larger than the rule set's 8 KB limit.
              RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }],
            }),
          },
        }),
      ],
    });
    const associations = Object.values(resourcesOfType(prod, 'AWS::WAFv2::WebACLAssociation'));
    expect(associations).toHaveLength(1);
    const stages = Object.keys(resourcesOfType(prod, 'AWS::ApiGateway::Stage'));
    const association = JSON.stringify(associations[0]?.Properties);
    expect(association).toContain('/stages/');
    expect(stages.some((id) => association.includes(id) || association.includes('v1'))).toBe(true);
    expect(associations[0]?.Properties.WebACLArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/WebAcl/), 'Arn'],
    });

    synthStage('dev').template.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });

  it.each(['dev', 'prod'] as const)('%s: the regional endpoint negotiates TLS 1.2 at least', (stage) => {
    expect(PREDICT_API_SECURITY_POLICY).toBe('TLS_1_2');
    synthStage(stage).template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'TLS_1_2',
    });
  });

  it('throttles the stage, the public routes lower, logs access as JSON and traces requests', () => {
    synthStage('dev').template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId"') },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
          LoggingLevel: 'ERROR',
        }),
        Match.objectLike({
          HttpMethod: 'GET',
          ResourcePath: '/~1health',
          ThrottlingRateLimit: 5,
          ThrottlingBurstLimit: 10,
        }),
        Match.objectLike({
          HttpMethod: 'GET',
          ResourcePath: '/~1openapi.json',
          ThrottlingRateLimit: 5,
          ThrottlingBurstLimit: 10,
        }),
      ]),
    });
    synthStage('prod').template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 }),
      ]),
    });
  });

  it('configures the predict function from the stage config, onnxruntime-node from the layer', () => {
    const { template } = synthStage('dev');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          MODEL_NAME: 'iris-classifier',
          MODEL_ALIAS: 'Production',
          ALIAS_TTL_SECONDS: '1',
          MAX_ROWS: '1000',
          ALLOWED_ALIASES: 'Production,Challenger',
          API_AUTH: 'iam',
          POWERTOOLS_SERVICE_NAME: 'predict',
        }),
      },
      MemorySize: 1024,
      Timeout: 29,
      Layers: [{ Ref: Match.stringLikeRegexp('^PredictApiOnnxRuntimeLayer') }],
    });
  });
});

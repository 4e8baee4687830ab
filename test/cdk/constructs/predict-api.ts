import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { resourcesOfType, synthStage } from '../../support/cdk-stage';

type Json = Record<string, unknown>;

describe('PredictApi', () => {
  it('routes /predict, /health, /status and /openapi.json to the predict function, keys where it matters', () => {
    const { template } = synthStage('dev');
    const resources = resourcesOfType(template, 'AWS::ApiGateway::Resource');
    const pathOf = (ref: unknown) => resources[(ref as { Ref: string }).Ref]?.Properties.PathPart;
    const methods = Object.values(resourcesOfType(template, 'AWS::ApiGateway::Method')).map((m) => ({
      route: `${m.Properties.HttpMethod} /${pathOf(m.Properties.ResourceId)}`,
      apiKeyRequired: m.Properties.ApiKeyRequired,
      integration: (m.Properties.Integration as Json).Type,
    }));
    expect(methods.sort((a, b) => a.route.localeCompare(b.route))).toEqual([
      { route: 'GET /health', apiKeyRequired: false, integration: 'AWS_PROXY' },
      { route: 'GET /openapi.json', apiKeyRequired: false, integration: 'AWS_PROXY' },
      { route: 'GET /status', apiKeyRequired: true, integration: 'AWS_PROXY' },
      { route: 'POST /predict', apiKeyRequired: true, integration: 'AWS_PROXY' },
    ]);
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      RequestValidatorId: Match.anyValue(),
      RequestModels: { 'application/json': Match.anyValue() },
    });
  });

  it('throttles the stage, logs access as JSON and traces requests', () => {
    synthStage('dev').template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId"') },
      MethodSettings: [
        Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, LoggingLevel: 'ERROR' }),
      ],
    });
    synthStage('prod').template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 })],
    });
  });

  it('binds an API key to a usage plan with throttling and a monthly quota', () => {
    const { template } = synthStage('dev');
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 50, BurstLimit: 100 },
      Quota: { Limit: 100_000, Period: 'MONTH' },
    });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
  });

  it('configures the predict function from the stage config, onnxruntime-node from the layer', () => {
    const { template } = synthStage('dev');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          MODEL_NAME: 'iris-classifier',
          MODEL_ALIAS: 'Production',
          ALIAS_TTL_SECONDS: '30',
          MAX_ROWS: '1000',
          POWERTOOLS_SERVICE_NAME: 'predict',
        }),
      },
      MemorySize: 1024,
      Timeout: 29,
      Layers: [{ Ref: Match.stringLikeRegexp('^PredictApiOnnxRuntimeLayer') }],
    });
  });
});

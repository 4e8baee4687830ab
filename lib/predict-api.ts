import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ALIAS_NAME_RULE, ALIAS_TTL_SECONDS, isAliasName, PREDICT_MAX_ROWS } from '../lambdas/core/settings';
import { type ApiAuthMode, allowedAliases } from '../lambdas/predict/config';
import { PUBLIC_ROUTES } from '../lambdas/predict/route-access';
import { MlopsFunction } from './mlops-function';
import { acknowledgeManagedPolicy, acknowledgeRule } from './nag-acknowledgements';
import { OnnxRuntimeLayer } from './onnxruntime-layer';
import type { ServingBucket } from './serving';

/** The route MLflow delivers its webhooks to (lambdas/serving-sync/webhook-handler.ts). */
export const WEBHOOK_PATH = '/webhooks/mlflow';

export interface PredictApiProps {
  /** Where the function reads the alias manifests and the model files (SERVING_BUCKET): its only source. */
  readonly serving: ServingBucket;
  /**
   * The MLflow webhook receiver on `POST /webhooks/mlflow`: no API Gateway authorization (the
   * function checks the delivery's HMAC signature and timestamp), the stage's WAF, and its own
   * throttle. Left out: no such route.
   */
  readonly webhook?: {
    readonly handler: lambda.IFunction;
    readonly throttle: { readonly ratePerSecond: number; readonly burst: number };
  };
  readonly architecture: lambda.Architecture;
  readonly logRetention: logs.RetentionDays;
  /** Registered model and alias the function follows (MODEL_NAME, MODEL_ALIAS). */
  readonly modelName: string;
  readonly modelAlias: string;
  /** How long a resolved alias is trusted before it is looked up again (ALIAS_TTL_SECONDS). */
  readonly aliasTtlSeconds: number;
  /** Rows per request (MAX_ROWS). */
  readonly maxRows: number;
  /** Steady-state requests per second, for the stage and for each API key. */
  readonly throttleRatePerSecond: number;
  readonly throttleBurst: number;
  /** Requests per month per API key (api-key mode). */
  readonly monthlyQuota: number;
  /**
   * How callers of /predict and /status authenticate: `iam` (SigV4; give callers `invokePolicy`)
   * or `api-key` (a key bound to the usage plan: metering, not identity). @default 'iam'
   */
  readonly apiAuth?: ApiAuthMode;
  /** What `?alias=` may name besides `modelAlias` (ALLOWED_ALIASES). @default ['Challenger'] */
  readonly allowedAliases?: readonly string[];
  /**
   * The own, low throttle of the public routes (/health, /openapi.json), so anonymous traffic
   * cannot use up what authenticated callers get. @default { ratePerSecond: 5, burst: 10 }
   */
  readonly publicThrottle?: { readonly ratePerSecond: number; readonly burst: number };
  /**
   * A WAFv2 web ACL on the stage: a rate-based rule (requests per source IP in 5 minutes) and
   * AWS's common rule set. Left out: no web ACL. @default undefined
   */
  readonly webAcl?: { readonly requestsPerIpPer5Minutes: number };
  /** @default 1024 */
  readonly memoryMiB?: number;
  /** @default 'v1' */
  readonly stageName?: string;
  /** Also the `ApiName` dimension of the API's metrics, so keep it unique per account and region. @default 'mlops-predict' */
  readonly apiName?: string;
  /** @default RemovalPolicy.DESTROY (log groups) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The minimum TLS the regional endpoint negotiates: API Gateway's TLS 1.2 policy (TLS 1.2 and
 * 1.3; the default for a regional REST API without a custom domain is TLS 1.0).
 */
export const PREDICT_API_SECURITY_POLICY = 'TLS_1_2';

/**
 * The HTTPS predict API: a REST API in front of the predict Lambda (lambdas/predict/handler.ts),
 * which serves ONNX models with onnxruntime-node from a layer and follows an MLflow alias through
 * its manifest in the serving bucket (outside the VPC: it never calls MLflow).
 * POST /predict and GET /status need SigV4-signed requests (AWS_IAM authorization; callers get
 * `invokePolicy`) or, with `apiAuth: 'api-key'`, an API key bound to a usage plan (throttling
 * and a monthly quota). GET /health and GET /openapi.json are open so probes and clients can use
 * them, under their own low throttle. TLS 1.2 at least; a WAF web ACL when `webAcl` is given.
 */
export class PredictApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly handler: MlopsFunction;
  readonly onnxRuntime: OnnxRuntimeLayer;
  readonly apiAuth: ApiAuthMode;
  /** The API key (api-key mode only). */
  readonly apiKey?: apigateway.IApiKey;
  /** The usage plan the key is bound to (api-key mode only). */
  readonly usagePlan?: apigateway.UsagePlan;
  /** `execute-api:Invoke` on POST /predict and GET /status: attach it to the callers' roles. */
  readonly invokePolicy: iam.ManagedPolicy;
  readonly webAcl?: wafv2.CfnWebACL;
  readonly accessLogs: logs.LogGroup;
  /** `https://…/<stage>/health`. */
  readonly healthUrl: string;
  /** `POST /webhooks/mlflow` (only with `webhook`). */
  readonly webhookMethod?: apigateway.Method;
  /** `https://…/<stage>/webhooks/mlflow` (only with `webhook`). */
  readonly webhookUrl?: string;

  constructor(scope: Construct, id: string, props: PredictApiProps) {
    super(scope, id);
    validateProps(props);
    const stageName = props.stageName ?? 'v1';
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.apiAuth = props.apiAuth ?? 'iam';
    const publicThrottle = props.publicThrottle ?? { ratePerSecond: 5, burst: 10 };

    this.onnxRuntime = new OnnxRuntimeLayer(this, 'OnnxRuntime', { architecture: props.architecture });
    // Outside the VPC and without an MLflow user: the function reads the alias manifests and the
    // model files from the serving bucket, so neither a cold start nor a request waits on MLflow.
    this.handler = new MlopsFunction(this, 'Handler', {
      entry: 'lambdas/predict/handler.ts',
      description: `Predict API: serves ${props.modelName}@${props.modelAlias} with onnxruntime`,
      serviceName: 'predict',
      architecture: props.architecture,
      logRetention: props.logRetention,
      removalPolicy,
      memorySize: props.memoryMiB ?? 1024,
      // API Gateway gives up after 29 s; a cold start that loads a model must fit in it.
      timeout: Duration.seconds(29),
      layers: [this.onnxRuntime.layer],
      externalModules: ['onnxruntime-node'],
      environment: {
        MODEL_NAME: props.modelName,
        MODEL_ALIAS: props.modelAlias,
        ALIAS_TTL_SECONDS: String(props.aliasTtlSeconds),
        MAX_ROWS: String(props.maxRows),
        ALLOWED_ALIASES: allowedAliases(props.modelAlias, props.allowedAliases ?? []).join(','),
        API_AUTH: this.apiAuth,
        SERVING_BUCKET: props.serving.bucket.bucketName,
      },
    });
    props.serving.grantServe(this.handler.role);

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: props.apiName ?? 'mlops-predict',
      description: `Predict API for ${props.modelName}`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // Execution logs (errors) need the account-level CloudWatch role.
      cloudWatchRole: true,
      deployOptions: {
        stageName,
        throttlingRateLimit: props.throttleRatePerSecond,
        throttlingBurstLimit: props.throttleBurst,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        methodOptions: {
          ...Object.fromEntries(
            PUBLIC_ROUTES.map((route) => [
              `${route}/GET`,
              {
                throttlingRateLimit: publicThrottle.ratePerSecond,
                throttlingBurstLimit: publicThrottle.burst,
              },
            ]),
          ),
          ...(props.webhook
            ? {
                [`${WEBHOOK_PATH}/POST`]: {
                  throttlingRateLimit: props.webhook.throttle.ratePerSecond,
                  throttlingBurstLimit: props.webhook.throttle.burst,
                },
              }
            : {}),
        },
      },
    });
    // Not an L2 prop yet: the regional endpoint's TLS policy (CloudFormation's SecurityPolicy).
    (this.api.node.defaultChild as apigateway.CfnRestApi).securityPolicy = PREDICT_API_SECURITY_POLICY;

    const integration = new apigateway.LambdaIntegration(this.handler.function, { proxy: true });
    const validator = this.api.addRequestValidator('BodyValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // Only the outer shape: the handler accepts instances, dataframe_records and inputs, and names
    // the offending field itself (400 with the field), which a gateway schema error cannot.
    const requestModel = this.api.addModel('PredictRequest', {
      contentType: 'application/json',
      schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, type: apigateway.JsonSchemaType.OBJECT },
    });
    const keyed = this.apiAuth === 'api-key';
    const protectedOptions: apigateway.MethodOptions = keyed
      ? { apiKeyRequired: true, authorizationType: apigateway.AuthorizationType.NONE }
      : { apiKeyRequired: false, authorizationType: apigateway.AuthorizationType.IAM };
    const predictMethod = this.api.root.addResource('predict').addMethod('POST', integration, {
      ...protectedOptions,
      requestValidator: validator,
      requestModels: { 'application/json': requestModel },
    });
    const statusMethod = this.api.root.addResource('status').addMethod('GET', integration, protectedOptions);
    // MLflow's scoring protocol (`mlflow models serve` clients): JSON or CSV bodies, so no JSON model.
    const invocationsMethod = this.api.root
      .addResource('invocations')
      .addMethod('POST', integration, protectedOptions);
    const publicMethods = PUBLIC_ROUTES.map((route) =>
      this.api.root.addResource(route.slice(1)).addMethod('GET', integration, {
        apiKeyRequired: false,
        authorizationType: apigateway.AuthorizationType.NONE,
      }),
    );
    if (props.webhook) {
      this.webhookMethod = this.api.root
        .addResource('webhooks')
        .addResource('mlflow')
        .addMethod('POST', new apigateway.LambdaIntegration(props.webhook.handler, { proxy: true }), {
          apiKeyRequired: false,
          authorizationType: apigateway.AuthorizationType.NONE,
        });
      this.webhookUrl = this.api.urlForPath(WEBHOOK_PATH);
      const reason =
        'MLflow delivers webhooks without AWS credentials: the function authenticates each delivery by its X-MLflow-Signature HMAC (a secret shared with MLflow) and timestamp window; the route has its own throttle and the stage WAF.';
      acknowledgeRule(this.webhookMethod, 'APIG4', reason);
      acknowledgeRule(this.webhookMethod, 'COG4', reason);
    }

    if (keyed) {
      this.usagePlan = this.api.addUsagePlan('UsagePlan', {
        description: 'Predict API clients',
        throttle: { rateLimit: props.throttleRatePerSecond, burstLimit: props.throttleBurst },
        quota: { limit: props.monthlyQuota, period: apigateway.Period.MONTH },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      this.apiKey = this.api.addApiKey('DefaultKey', { description: 'Default predict API client key' });
      this.usagePlan.addApiKey(this.apiKey);
    }
    this.invokePolicy = new iam.ManagedPolicy(this, 'InvokePolicy', {
      description: `Call the predict API of ${props.modelName}: POST /predict, POST /invocations and GET /status (SigV4)`,
      statements: [
        new iam.PolicyStatement({
          actions: ['execute-api:Invoke'],
          resources: [
            this.api.arnForExecuteApi('POST', '/predict', stageName),
            this.api.arnForExecuteApi('POST', '/invocations', stageName),
            this.api.arnForExecuteApi('GET', '/status', stageName),
          ],
        }),
      ],
    });
    // /health answers whenever the function runs; /ping only once a model is loaded: the canary's question.
    this.healthUrl = this.api.urlForPath('/ping');

    if (props.webAcl) {
      this.webAcl = predictWebAcl(this, props.webAcl.requestsPerIpPer5Minutes);
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn: this.webAcl.attrArn,
      });
    } else {
      acknowledgeRule(
        this.api.deploymentStage,
        'APIG3',
        'No WAF web ACL in this stage (about $5/month plus $1 per rule): throttling and SigV4 bound abuse; prod attaches one (-c waf=true adds it anywhere).',
      );
    }

    // The public routes are anonymous by design: probes and clients without credentials read them.
    for (const method of publicMethods) {
      const reason = `${method.resource.path} is public by design (health probes, the OpenAPI document), under its own low throttle; it returns no upstream detail.`;
      acknowledgeRule(method, 'APIG4', reason);
      acknowledgeRule(method, 'COG4', reason);
    }
    for (const method of [predictMethod, invocationsMethod, statusMethod]) {
      acknowledgeRule(
        method,
        'COG4',
        keyed
          ? 'A machine-to-machine scoring API in api-key mode (-c apiAuth=api-key): callers present a usage-plan key; Cognito user pools serve end-user sign-in, not this.'
          : 'Machine-to-machine callers authenticate with IAM (SigV4, AWS_IAM authorization) and are granted the invoke policy; Cognito user pools serve end-user sign-in, not this.',
      );
      if (keyed) {
        acknowledgeRule(
          method,
          'APIG4',
          'api-key mode was chosen (-c apiAuth=api-key): a usage-plan key meters callers; the default (iam) authorizes with SigV4.',
        );
      }
    }
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledgeManagedPolicy(
        cloudWatchRole,
        'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
        'The account-level API Gateway logging role CDK creates uses the AWS managed push-to-CloudWatch policy.',
      );
    }
  }
}

/**
 * The stage's web ACL: requests per source IP over 5 minutes above the limit are blocked, then
 * AWS's common rule set (bad inputs, known exploits). Its 8 KB body-size rule only counts: a
 * scoring request may carry up to the function's body limit (1 MB by default).
 */
function predictWebAcl(scope: Construct, requestsPerIpPer5Minutes: number): wafv2.CfnWebACL {
  const visibility = (metricName: string) => ({
    cloudWatchMetricsEnabled: true,
    sampledRequestsEnabled: true,
    metricName,
  });
  return new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'REGIONAL',
    description: 'Predict API: per-IP rate limit and the AWS common rule set',
    defaultAction: { allow: {} },
    visibilityConfig: visibility('PredictApiWebAcl'),
    rules: [
      {
        name: 'RateLimitPerIp',
        priority: 0,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: requestsPerIpPer5Minutes, aggregateKeyType: 'IP' } },
        visibilityConfig: visibility('PredictApiRateLimit'),
      },
      {
        name: 'AWSManagedRulesCommonRuleSet',
        priority: 1,
        overrideAction: { none: {} },
        statement: {
          managedRuleGroupStatement: {
            vendorName: 'AWS',
            name: 'AWSManagedRulesCommonRuleSet',
            ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
          },
        },
        visibilityConfig: visibility('PredictApiCommonRules'),
      },
    ],
  });
}

function validateProps(props: PredictApiProps): void {
  if (!Number.isInteger(props.maxRows) || props.maxRows < 1 || props.maxRows > PREDICT_MAX_ROWS.max) {
    throw new Error(
      `PredictApiProps.maxRows must be a whole number from 1 to ${PREDICT_MAX_ROWS.max} (got ${props.maxRows})`,
    );
  }
  if (!isAliasName(props.modelAlias)) {
    throw new Error(`PredictApiProps.modelAlias must be ${ALIAS_NAME_RULE} (got '${props.modelAlias}')`);
  }
  const ttl = ALIAS_TTL_SECONDS;
  if (!(props.aliasTtlSeconds >= ttl.deployedMin && props.aliasTtlSeconds <= ttl.max)) {
    throw new Error(
      `PredictApiProps.aliasTtlSeconds must be from ${ttl.deployedMin} to ${ttl.max} (got ${props.aliasTtlSeconds})`,
    );
  }
  const hook = props.webhook?.throttle;
  if (hook && !(hook.ratePerSecond > 0 && hook.burst >= hook.ratePerSecond)) {
    throw new Error(
      `PredictApiProps.webhook.throttle must have ratePerSecond > 0 and burst >= ratePerSecond (got ${hook.ratePerSecond}/${hook.burst})`,
    );
  }
  if (props.throttleBurst < props.throttleRatePerSecond) {
    throw new Error(
      `PredictApiProps.throttleBurst (${props.throttleBurst}) must be at least throttleRatePerSecond (${props.throttleRatePerSecond})`,
    );
  }
  for (const alias of props.allowedAliases ?? []) {
    if (!isAliasName(alias)) {
      throw new Error(`PredictApiProps.allowedAliases: '${alias}' is not an alias name (${ALIAS_NAME_RULE})`);
    }
  }
  const limit = props.webAcl?.requestsPerIpPer5Minutes;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 10 && limit <= 2_000_000_000)) {
    throw new Error(
      `PredictApiProps.webAcl.requestsPerIpPer5Minutes must be a whole number from 10 to 2000000000 (got ${limit})`,
    );
  }
  if (props.stageName !== undefined && !/^[A-Za-z0-9_]{1,128}$/.test(props.stageName)) {
    throw new Error(`PredictApiProps.stageName must be letters, digits or _ (got '${props.stageName}')`);
  }
}

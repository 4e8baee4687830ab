import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ALIAS_NAME_RULE, ALIAS_TTL_SECONDS, isAliasName, PREDICT_MAX_ROWS } from '../lambdas/core/settings';
import { type MlflowAccess, MlopsFunction } from './mlops-function';
import { acknowledgeManagedPolicy, acknowledgeRule } from './nag-acknowledgements';
import { OnnxRuntimeLayer } from './onnxruntime-layer';

export interface PredictApiProps {
  readonly mlflow: MlflowAccess;
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
  /** Requests per month per API key. */
  readonly monthlyQuota: number;
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
 * The HTTPS predict API: a REST API in front of the predict Lambda (lambdas/predict/handler.ts),
 * which serves ONNX models with onnxruntime-node from a layer and follows an MLflow alias.
 * POST /predict and GET /status need an API key (usage plan: throttling and a monthly quota);
 * GET /health and GET /openapi.json are open so probes and clients can use them.
 */
export class PredictApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly handler: MlopsFunction;
  readonly onnxRuntime: OnnxRuntimeLayer;
  readonly apiKey: apigateway.IApiKey;
  readonly usagePlan: apigateway.UsagePlan;
  readonly accessLogs: logs.LogGroup;
  /** `https://…/<stage>/health`. */
  readonly healthUrl: string;

  constructor(scope: Construct, id: string, props: PredictApiProps) {
    super(scope, id);
    validateProps(props);
    const stageName = props.stageName ?? 'v1';
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    this.onnxRuntime = new OnnxRuntimeLayer(this, 'OnnxRuntime', { architecture: props.architecture });
    this.handler = new MlopsFunction(this, 'Handler', {
      entry: 'lambdas/predict/handler.ts',
      description: `Predict API: serves ${props.modelName}@${props.modelAlias} with onnxruntime`,
      serviceName: 'predict',
      architecture: props.architecture,
      logRetention: props.logRetention,
      removalPolicy,
      mlflow: props.mlflow,
      // Read-only MLflow user: the internet-facing function cannot register or move an alias.
      mlflowRole: 'reader',
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
      },
    });
    // No S3 grant: with the server's artifact proxy, model versions live at mlflow-artifacts:/
    // locations and the function downloads them through MLflow.

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
      },
    });

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
    this.api.root.addResource('predict').addMethod('POST', integration, {
      apiKeyRequired: true,
      requestValidator: validator,
      requestModels: { 'application/json': requestModel },
    });
    this.api.root.addResource('status').addMethod('GET', integration, { apiKeyRequired: true });
    this.api.root.addResource('health').addMethod('GET', integration, { apiKeyRequired: false });
    this.api.root.addResource('openapi.json').addMethod('GET', integration, { apiKeyRequired: false });

    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      description: 'Predict API clients',
      throttle: { rateLimit: props.throttleRatePerSecond, burstLimit: props.throttleBurst },
      quota: { limit: props.monthlyQuota, period: apigateway.Period.MONTH },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    this.apiKey = this.api.addApiKey('DefaultKey', { description: 'Default predict API client key' });
    this.usagePlan.addApiKey(this.apiKey);
    this.healthUrl = this.api.urlForPath('/health');

    const clientAuth =
      'A machine-to-machine scoring API: clients authenticate with an API key bound to a usage plan (throttling, quota); /health and /openapi.json are public by design.';
    acknowledgeRule(this.api, 'APIG4', clientAuth);
    acknowledgeRule(this.api, 'COG4', clientAuth);
    acknowledgeRule(
      this.api.deploymentStage,
      'APIG3',
      'Stage and per-key throttling bound abuse; a WAF web ACL (about $5/month plus rules) is left for the operator to attach.',
    );
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
  if (props.throttleBurst < props.throttleRatePerSecond) {
    throw new Error(
      `PredictApiProps.throttleBurst (${props.throttleBurst}) must be at least throttleRatePerSecond (${props.throttleRatePerSecond})`,
    );
  }
  if (props.stageName !== undefined && !/^[A-Za-z0-9_]{1,128}$/.test(props.stageName)) {
    throw new Error(`PredictApiProps.stageName must be letters, digits or _ (got '${props.stageName}')`);
  }
}

import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { pascalCase } from '../lambdas/steps/catalogue';
import type { StageConfig } from './config';
import { DataLake } from './data-lake';
import { DriftAlerts } from './drift-alerts';
import { ExternalMlflow, LocalStackSynthesizer } from './localstack-target';
import { MlflowService } from './mlflow-service';
import { Network } from './network';
import { Observability } from './observability';
import { Pipelines } from './pipelines';
import { PredictApi } from './predict-api';
import { PipelineSchedules } from './schedules';
import { ServingBucket } from './serving';
import { ServingSync } from './serving-sync';
import { stageNamePrefix } from './state-machine-substitutions';

export interface MlopsStackProps extends StackProps {
  readonly config: StageConfig;
}

/** The whole platform for one stage: data lake, MLflow, pipelines, predict API, schedules, alarms. */
export class MlopsStack extends Stack {
  readonly dataLake: DataLake;
  readonly network: Network;
  /** The alias manifests and model copies the predict API serves from. */
  readonly serving: ServingBucket;
  /** The ECS service; under LocalStack (`config.localStack.enabled`) the compose file's server. */
  readonly mlflow: MlflowService | ExternalMlflow;
  readonly predictApi: PredictApi;
  /** The webhook receiver and the reconciler that keep the manifests equal to MLflow's aliases. */
  readonly servingSync: ServingSync;
  readonly pipelines: Pipelines;
  readonly schedules: PipelineSchedules;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: MlopsStackProps) {
    super(
      scope,
      id,
      props.config.localStack.enabled ? { ...props, synthesizer: new LocalStackSynthesizer() } : props,
    );
    const { config } = props;
    const prefix = stageNamePrefix(config.stage);
    const architecture =
      config.lambdaArchitecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // -c localstack=true: what a local emulator neither needs nor can run stays out (NAT gateway,
    // EIP, flow log, metric-math alarm, CDK's own custom resources); see localstack/README.md.
    const emulator = config.localStack.enabled;
    this.dataLake = new DataLake(this, 'DataLake', {
      retainData: config.retainData,
      autoDeleteObjects: !emulator,
    });
    this.serving = new ServingBucket(this, 'Serving', {
      retainData: config.retainData,
      historyDays: config.serving.historyDays,
      accessLogsBucket: this.dataLake.accessLogs,
      autoDeleteObjects: !emulator,
    });
    this.network = new Network(this, 'Network', {
      natGateways: config.network.natGateways,
      flowLogBucket: this.dataLake.accessLogs,
      emulator,
    });
    this.mlflow = emulator
      ? new ExternalMlflow(this, 'Mlflow', {
          vpc: this.network.vpc,
          trackingUri: config.localStack.mlflowTrackingUri,
          ...(config.localStack.mlflowUsername && config.localStack.mlflowPassword
            ? {
                credentials: {
                  username: config.localStack.mlflowUsername,
                  password: config.localStack.mlflowPassword,
                },
              }
            : {}),
        })
      : new MlflowService(this, 'Mlflow', {
          vpc: this.network.vpc,
          artifactsBucket: this.dataLake.artifacts,
          accessLogsBucket: this.dataLake.accessLogs,
          database: config.mlflow.database,
          retainData: config.retainData,
          logRetention,
          cpu: config.mlflow.cpu,
          memoryMiB: config.mlflow.memoryMiB,
          desiredCount: config.mlflow.desiredCount,
          rdsMultiAz: config.mlflow.rdsMultiAz,
          rdsInstanceClass: config.mlflow.rdsInstanceClass,
          auroraMinCapacity: config.mlflow.auroraMinCapacity,
          auroraMaxCapacity: config.mlflow.auroraMaxCapacity,
          architecture: config.mlflow.architecture,
          spot: config.mlflow.spot,
          loadBalancer: config.mlflow.loadBalancer,
          containerInsights: config.mlflow.containerInsights,
          mlflowVersion: config.mlflow.version,
          tasksInPublicSubnets: this.network.tasksInPublicSubnets,
          namePrefix: prefix,
          databaseRotation: Duration.days(config.mlflow.databaseRotationDays),
          ...(config.mlflow.certificateArn && config.mlflow.domainName
            ? { tls: { certificateArn: config.mlflow.certificateArn, domainName: config.mlflow.domainName } }
            : {}),
        });
    // The MLflow callers in the isolated subnets read their password through the endpoint.
    this.network.allowSecretsFrom(this.mlflow.clientSecurityGroup);
    // So do the database password rotation functions (RDS and Aurora).
    if (this.mlflow instanceof MlflowService && this.mlflow.databaseRotationSecurityGroup) {
      this.network.allowSecretsFrom(this.mlflow.databaseRotationSecurityGroup);
    }

    this.servingSync = new ServingSync(this, 'ServingSync', {
      serving: this.serving,
      mlflow: this.mlflow,
      servedModels: [config.modelName],
      architecture,
      logRetention,
      removalPolicy,
    });
    this.predictApi = new PredictApi(this, 'PredictApi', {
      serving: this.serving,
      webhook: {
        handler: this.servingSync.webhook.function,
        throttle: {
          ratePerSecond: config.serving.webhookThrottleRatePerSecond,
          burst: config.serving.webhookThrottleBurst,
        },
      },
      architecture,
      logRetention,
      removalPolicy,
      modelName: config.modelName,
      modelAlias: config.predict.modelAlias,
      aliasTtlSeconds: config.predict.aliasTtlSeconds,
      maxRows: config.predict.maxRows,
      memoryMiB: config.predict.memoryMiB,
      throttleRatePerSecond: config.predict.throttleRatePerSecond,
      throttleBurst: config.predict.throttleBurst,
      monthlyQuota: config.predict.monthlyQuota,
      apiAuth: config.predict.apiAuth,
      allowedAliases: config.predict.allowedAliases,
      ...(config.predict.waf && {
        webAcl: { requestsPerIpPer5Minutes: config.predict.wafRequestsPerIpPer5Minutes },
      }),
      apiName: `${prefix}-predict`,
    });

    // -c mlflowWebhook=false (the emulators' default): no registration; the reconciler converges.
    if (config.serving.mlflowWebhook) {
      if (!(this.mlflow instanceof MlflowService) || !this.predictApi.webhookUrl) {
        throw new Error(
          "mlflowWebhook=true needs the stack's own MLflow service (its admin registers the webhook): pass -c mlflowWebhook=false with an external MLflow",
        );
      }
      this.servingSync.registerWebhook({
        webhookUrl: this.predictApi.webhookUrl,
        mlflowService: this.mlflow.service,
      });
    }

    const alerts = new DriftAlerts(this, 'DriftAlerts', {
      senderEmail: config.alerts.senderEmail,
      recipients: config.alerts.recipients,
    });
    this.pipelines = new Pipelines(this, 'Pipelines', {
      namePrefix: prefix,
      dataLake: this.dataLake,
      serving: this.serving,
      mlflow: this.mlflow,
      privateSubnetIds: this.network.privateSubnetIds,
      alerts,
      onnxRuntime: this.predictApi.onnxRuntime,
      architecture,
      logRetention,
      removalPolicy,
      modelName: config.modelName,
      datasetName: config.datasetName,
      training: config.training,
      inference: config.inference,
      drift: config.drift,
    });

    const machines = this.pipelines.stateMachines;
    this.schedules = new PipelineSchedules(this, 'Schedules', {
      enabled: config.schedules.enabled,
      schedules: [
        {
          name: 'Data',
          expression: config.schedules.data,
          stateMachine: machines.data.stateMachine,
          input: {
            dataset: config.datasetName,
            source: { type: 's3', prefix: `landing/${config.datasetName}/` },
          },
        },
        {
          name: 'Retraining',
          expression: config.schedules.retraining,
          stateMachine: machines.training.stateMachine,
          input: { dataset: { name: config.datasetName }, reason: 'schedule' },
        },
        {
          name: 'Inference',
          expression: config.schedules.inference,
          stateMachine: machines.inference.stateMachine,
          input: {},
        },
        {
          name: 'Monitoring',
          expression: config.schedules.monitoring,
          stateMachine: machines.monitoring.stateMachine,
          input: { dataset: { name: config.datasetName } },
        },
      ],
    });

    this.observability = new Observability(this, 'Observability', {
      api: this.predictApi.api,
      modelAlias: config.predict.modelAlias,
      healthUrl: this.predictApi.healthUrl,
      stateMachines: Object.fromEntries(Object.entries(machines).map(([name, m]) => [name, m.stateMachine])),
      driftThreshold: config.drift.threshold,
      deadLetterQueues: {
        ...this.schedules.deadLetterQueues,
        ServingReconcile: this.servingSync.deadLetterQueue,
      },
      functions: {
        ...Object.fromEntries(
          Object.entries(this.pipelines.functions).map(([step, fn]) => [pascalCase(step), fn.function]),
        ),
        Predict: this.predictApi.handler.function,
        ServingWebhook: this.servingSync.webhook.function,
        ServingReconciler: this.servingSync.reconciler.function,
        // Not the webhook registration (like the MLflow upgrade's handlers): it runs only during a
        // deployment, and its failure fails the deployment.
      },
      mlflow: this.mlflow instanceof MlflowService ? this.mlflow.alarmTier() : undefined,
      alarmEmail: config.alerts.alarmEmail,
      requireSubscriber: config.stage === 'prod',
      architecture,
      logRetention,
      removalPolicy,
      dashboardName: `ServerlessMlops-${config.stage}`,
      metricMathAlarms: !emulator,
    });

    new CfnOutput(this, 'PredictApiUrl', { value: this.predictApi.api.url });
    if (this.predictApi.apiKey) {
      new CfnOutput(this, 'PredictApiKeyId', {
        value: this.predictApi.apiKey.keyId,
        description: 'aws apigateway get-api-key --include-value --api-key <id> --query value --output text',
      });
    }
    new CfnOutput(this, 'PredictApiInvokePolicyArn', {
      value: this.predictApi.invokePolicy.managedPolicyArn,
      description: 'Attach to the roles or users that call POST /predict and GET /status (SigV4)',
    });
    new CfnOutput(this, 'MlflowTrackingUri', {
      value: this.mlflow.trackingUri,
      description: 'Internal: reachable from inside the VPC only',
    });
    new CfnOutput(this, 'LandingBucket', { value: this.dataLake.landing.bucketName });
    new CfnOutput(this, 'ServingBucket', {
      value: this.serving.bucket.bucketName,
      description:
        'Alias manifests (serving/<model>/<alias>.json, versioned: the history) and model copies (models/)',
    });
    for (const [name, machine] of Object.entries(machines)) {
      new CfnOutput(this, `${name[0]?.toUpperCase()}${name.slice(1)}PipelineArn`, {
        value: machine.stateMachine.stateMachineArn,
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.observability.topic.topicArn });
  }
}

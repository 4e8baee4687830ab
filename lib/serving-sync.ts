import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';
import { DELIVERIES_PREFIX } from '../lambdas/serving-sync/delivery-log';
import { grantPrefixAccess } from './bucket-access';
import { type MlflowAccess, MlopsFunction } from './mlops-function';
import { acknowledgeManagedPolicy, acknowledgeRule, acknowledgeWildcards } from './nag-acknowledgements';
import type { ServingBucket } from './serving';

/** How often the reconciler compares MLflow's aliases with the manifests and repairs drift. */
export const RECONCILE_SCHEDULE = 'rate(1 minute)';

export interface ServingSyncProps {
  readonly serving: ServingBucket;
  /** The registry the writers resolve aliases in; they log in as its read-only user. */
  readonly mlflow: MlflowAccess;
  /** The registered models whose aliases get manifests (SERVED_MODELS). */
  readonly servedModels: readonly string[];
  readonly architecture: lambda.Architecture;
  readonly logRetention: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY (log groups, the webhook secret) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * What keeps the serving manifests equal to MLflow's aliases when the alias moves outside our CLI
 * and pipeline (the MLflow UI, the Python client):
 * - the webhook receiver (lambdas/serving-sync/webhook-handler.ts), behind `POST /webhooks/mlflow`
 *   of the predict API, checking each delivery's HMAC with a secret generated here;
 * - the reconciler (lambdas/serving-sync/reconcile-handler.ts), every minute, because MLflow's
 *   webhook delivery is not durable;
 * - `registerWebhook`: the custom resource that registers the webhook with MLflow on deploy.
 * Both functions sit in the VPC as MLflow clients, read the registry as its read-only user and
 * write only the serving bucket.
 */
export class ServingSync extends Construct {
  /** The HMAC secret MLflow signs deliveries with (SecretString: the plain secret). */
  readonly webhookSecret: secretsmanager.Secret;
  /** Its ARN, as every emulator reports it too (the functions' MLFLOW_WEBHOOK_SECRET_ARN). */
  readonly webhookSecretArn: string;
  readonly webhook: MlopsFunction;
  readonly reconciler: MlopsFunction;
  readonly schedule: scheduler.Schedule;
  /** Where an undeliverable reconciler invocation lands. */
  readonly deadLetterQueue: sqs.Queue;
  /** The custom resource's onEvent function (after `registerWebhook`). */
  registration?: MlopsFunction;
  private readonly props: ServingSyncProps;

  constructor(scope: Construct, id: string, props: ServingSyncProps) {
    super(scope, id);
    validateProps(props);
    this.props = props;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const environment = {
      SERVING_BUCKET: props.serving.bucket.bucketName,
      SERVED_MODELS: props.servedModels.join(','),
    };

    this.webhookSecret = new secretsmanager.Secret(this, 'WebhookSecret', {
      description: "HMAC secret of MLflow's webhook deliveries to POST /webhooks/mlflow",
      generateSecretString: { excludePunctuation: true, passwordLength: 48 },
      removalPolicy,
    });
    // The ARN as GetAtt Id: Ref is the ARN on AWS but the name on ministack, and the receiver
    // checks that it was given an ARN.
    this.webhookSecretArn = (this.webhookSecret.node.defaultChild as secretsmanager.CfnSecret).attrId;
    acknowledgeRule(
      this.webhookSecret,
      'SMG4',
      'The webhook secret is registered with MLflow by the deployment (the registration custom resource) and read by the receiver at cold start; rotate it by updating the secret and redeploying, which registers it again.',
    );

    this.webhook = new MlopsFunction(this, 'Webhook', {
      entry: 'lambdas/serving-sync/webhook-handler.ts',
      description: "MLflow webhook: an alias moved, publish that alias's serving manifest",
      serviceName: 'serving-webhook',
      architecture: props.architecture,
      logRetention: props.logRetention,
      removalPolicy,
      mlflow: props.mlflow,
      mlflowRole: 'reader',
      memorySize: 1024,
      // API Gateway gives up after 29 s (MLflow after 30 s): resolving and copying a model fits.
      timeout: Duration.seconds(29),
      environment: { ...environment, MLFLOW_WEBHOOK_SECRET_ARN: this.webhookSecretArn },
    });
    this.webhookSecret.grantRead(this.webhook.role);
    props.serving.grantPublish(this.webhook.role);
    // The delivery log (lambdas/serving-sync/delivery-log.ts): a delivery id is claimed with a
    // conditional put, and released when its work fails so MLflow's retry is processed.
    grantPrefixAccess(this.webhook.role, {
      bucket: props.serving.bucket,
      prefix: DELIVERIES_PREFIX,
      write: true,
      delete: true,
    });

    this.reconciler = new MlopsFunction(this, 'Reconciler', {
      entry: 'lambdas/serving-sync/reconcile-handler.ts',
      description: "Reconciler: every minute, make the serving manifests equal to MLflow's aliases",
      serviceName: 'serving-reconciler',
      architecture: props.architecture,
      logRetention: props.logRetention,
      removalPolicy,
      mlflow: props.mlflow,
      mlflowRole: 'reader',
      memorySize: 512,
      // Within the schedule's period, so two runs rarely overlap (publishing is idempotent if they do).
      timeout: Duration.seconds(50),
      environment,
    });
    props.serving.grantPublish(this.reconciler.role);
    // A failed run is repaired by the next one a minute later: no asynchronous retries piling up.
    this.reconciler.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });

    this.deadLetterQueue = new sqs.Queue(this, 'ReconcileDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(
      this.deadLetterQueue,
      'SQS3',
      "This queue is the dead-letter queue of the reconciler's Scheduler schedule.",
    );
    const schedulerRole = new iam.Role(this, 'ReconcileSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description: 'Lets the reconcile schedule invoke the reconciler',
    });
    this.schedule = new scheduler.Schedule(this, 'ReconcileSchedule', {
      description: `Serving manifests reconciler, ${RECONCILE_SCHEDULE}`,
      schedule: scheduler.ScheduleExpression.expression(RECONCILE_SCHEDULE),
      target: new targets.LambdaInvoke(this.reconciler.function, {
        role: schedulerRole,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
    });
    acknowledgeWildcards(
      schedulerRole,
      { resources: [`${this.reconciler.function.functionArn}:*`] },
      "CDK's Lambda invoke grant covers the reconciler's versions and aliases (<arn>:*); the role invokes only that function.",
    );
  }

  /**
   * Registers the webhook with MLflow on deploy (create or update by name and URL) and removes it
   * on delete: a custom resource whose onEvent handler
   * (lambdas/serving-sync/register-webhook-handler.ts) calls MLflow's webhook API as the admin,
   * which MLflow's auth app requires. It waits for `mlflowService` (the server must answer).
   */
  registerWebhook(options: {
    readonly webhookUrl: string;
    readonly mlflowService: IDependable;
  }): CustomResource {
    const props = this.props;
    if (!props.mlflow.adminCredentials) {
      throw new Error(
        'ServingSync.registerWebhook needs the MLflow admin (MlflowAccess.adminCredentials): MLflow lets only admins manage webhooks; an external MLflow has none here (-c mlflowWebhook=false)',
      );
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const onEvent = new MlopsFunction(this, 'Registration', {
      entry: 'lambdas/serving-sync/register-webhook-handler.ts',
      description: 'Custom resource: registers the MLflow webhook for alias moves (as the MLflow admin)',
      serviceName: 'serving-webhook-registration',
      architecture: props.architecture,
      logRetention: props.logRetention,
      removalPolicy,
      mlflow: props.mlflow,
      mlflowRole: 'admin',
      timeout: Duration.minutes(2),
      environment: { MLFLOW_WEBHOOK_SECRET_ARN: this.webhookSecretArn },
    });
    this.webhookSecret.grantRead(onEvent.role);
    this.registration = onEvent;

    const provider = new cr.Provider(this, 'RegistrationProvider', {
      onEventHandler: onEvent.function,
      logGroup: new logs.LogGroup(this, 'RegistrationProviderLogs', {
        retention: props.logRetention,
        removalPolicy,
      }),
    });
    const resource = new CustomResource(this, 'MlflowWebhook', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::MlflowWebhook',
      // The handler reads the secret itself (MLFLOW_WEBHOOK_SECRET_ARN); its ARN and the served
      // models are here so that a new secret or model list registers the webhook again.
      properties: {
        WebhookUrl: options.webhookUrl,
        WebhookSecretArn: this.webhookSecretArn,
        ServedModels: props.servedModels.join(','),
      },
    });
    resource.node.addDependency(options.mlflowService);

    const framework = provider.node.tryFindChild('framework-onEvent');
    if (framework) {
      const role = (framework as lambda.Function).role;
      if (role) {
        acknowledgeManagedPolicy(
          role,
          'service-role/AWSLambdaBasicExecutionRole',
          "CDK's custom-resource provider framework function logs with the AWS managed basic execution policy.",
        );
        acknowledgeWildcards(
          role,
          { resources: [`${onEvent.function.functionArn}:*`] },
          'The provider framework invokes any version of its own onEvent handler (CDK grants <arn>:*).',
        );
      }
      acknowledgeRule(
        framework,
        'L1',
        "CDK's custom-resource provider framework picks its own Node.js runtime; it runs only on deploy.",
      );
    }
    return resource;
  }
}

function validateProps(props: ServingSyncProps): void {
  if (props.servedModels.length === 0) {
    throw new Error('ServingSyncProps.servedModels must name at least one registered model');
  }
  for (const model of props.servedModels) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(model)) {
      throw new Error(
        `ServingSyncProps.servedModels: '${model}' is not a model name (letters, digits, _ . - only)`,
      );
    }
  }
}

import { z } from 'zod';
import {
  ALIAS_NAME_PATTERN,
  ALIAS_NAME_RULE,
  ALIAS_TTL_SECONDS,
  DRIFT_THRESHOLD,
  EMAIL_ADDRESS_PATTERN,
  isReservedAliasName,
  PREDICT_MAX_ROWS,
  PRODUCTION_ALIAS,
  PROMOTION_MODES,
  promotionModeOf,
} from '../lambdas/core/settings';
import { API_AUTH_MODES, SHADOW_ALIAS } from '../lambdas/predict/config';

export type { PromotionMode } from '../lambdas/core/settings';

/**
 * Typed stage settings, parsed once from CDK context (`-c stage=prod`, `-c alertEmail=…`).
 * Every value a user may set is validated here, and a bad one fails synth with a message
 * naming the context key and what it accepts.
 */

const STAGES = ['dev', 'prod'] as const;

/**
 * The MLflow version deployed when `-c mlflowVersion` is not given: the one localstack/requirements.txt
 * pins and docker/mlflow/Dockerfile defaults to (test/cdk/mlflow-upgrade.test.ts keeps them equal).
 */
export const DEFAULT_MLFLOW_VERSION = '3.17.2';
/** An exact release (`3.17.2`; release candidates as `3.18.0rc1`), the image tag being `v<version>`. */
export const MLFLOW_VERSION_PATTERN = /^\d+\.\d+\.\d+(rc\d+)?$/;

export const MLFLOW_DATABASES = ['ecs-postgres', 'rds', 'aurora-serverless'] as const;
export type MlflowDatabaseKind = (typeof MLFLOW_DATABASES)[number];
export type Stage = (typeof STAGES)[number];

// EventBridge Scheduler cron: six fields, `cron(min hour day-of-month month day-of-week year)`.
const cronExpression = z
  .string()
  .regex(/^cron\((\S+\s){5}\S+\)$/, 'must be an EventBridge Scheduler expression like cron(0 3 * * ? *)');

const email = z.string().regex(EMAIL_ADDRESS_PATTERN, 'must be an e-mail address');

/** The retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const stageConfigSchema = z.object({
  stage: z.enum(STAGES),
  /**
   * Region the stack is pinned to. Concrete (not env-agnostic) because ALB access logging and the
   * SES identity ARN need it; taken from `-c region=`, else the CLI's default region.
   */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region like eu-west-1'),
  /** Registered model the predict API serves and the pipelines train. */
  modelName: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'letters, digits, _ . - only (max 128 characters)'),
  /** Dataset the scheduled data, training and monitoring runs work on (`landing/<datasetName>/`). */
  datasetName: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, _ - only (max 64 characters)'),
  /** Lambda CPU architecture; the onnxruntime layer carries only this architecture's binaries. */
  lambdaArchitecture: z.enum(['x86_64', 'arm64']),
  network: z.object({
    /**
     * NAT gateways in the two-AZ VPC ($32.85 a month each). 0 (the default): the ECS tasks run in
     * the public subnets with a public IPv4 address ($3.65 a month each) and security groups that
     * admit only their clients, and the Lambdas that call MLflow sit in isolated subnets reaching
     * S3 through the free gateway endpoint. 1 or 2: the tasks and those Lambdas get NAT egress.
     */
    natGateways: z.number().int().min(0).max(2),
  }),
  mlflow: z.object({
    /**
     * Where MLflow's Postgres backend runs: a Fargate task on EFS (cheap), RDS (managed), or Aurora
     * Serverless v2 (managed, scales to 0 ACU and pauses when idle).
     */
    database: z.enum(MLFLOW_DATABASES),
    cpu: z.number().int().positive(),
    memoryMiB: z.number().int().positive(),
    /** MLflow server tasks behind the load balancer. */
    desiredCount: z.number().int().min(1).max(10),
    /** Standby RDS instance in the second AZ (`rds`), or an Aurora reader in it (`aurora-serverless`). */
    rdsMultiAz: z.boolean(),
    /**
     * An ACM certificate for `domainName`: the load balancer then listens with HTTPS on 443 and
     * the tracking URI is `https://<domainName>` (a DNS name you point at the internal ALB).
     */
    certificateArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
        'must be an ACM certificate ARN',
      )
      .optional(),
    domainName: z
      .string()
      .regex(
        /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/,
        'must be a DNS name like mlflow.internal.example.com',
      )
      .optional(),
    /** RDS instance class without the `db.` prefix (only when `database` is `rds`). */
    rdsInstanceClass: z
      .string()
      .regex(/^[a-z][a-z0-9]*\.[a-z0-9]+$/, 'must be an RDS instance class like t4g.micro (no db. prefix)'),
    /** Aurora Serverless v2 capacity in ACUs; a minimum of 0 lets the cluster pause when idle. */
    auroraMinCapacity: z.number().min(0).max(256).multipleOf(0.5),
    auroraMaxCapacity: z.number().min(1).max(256).multipleOf(0.5),
    /** CPU architecture of the Fargate tasks (MLflow and the ECS Postgres): arm64 is Graviton, ~20% cheaper. */
    architecture: z.enum(['x86_64', 'arm64']),
    /** Run the MLflow and ECS Postgres tasks on Fargate Spot (up to 70% cheaper; may be interrupted). */
    spot: z.boolean(),
    /**
     * An internal Application Load Balancer in front of MLflow ($22.27 a month idle). Without it
     * the clients reach the task by its Cloud Map name (`mlflow.mlflow.internal:5000`).
     */
    loadBalancer: z.boolean(),
    /** ECS Container Insights on the cluster (custom metrics, ~$0.30 each a month). */
    containerInsights: z.boolean(),
    /**
     * Days between rotations of the database passwords (`rds` and `aurora-serverless`; the ECS
     * Postgres is not rotated): MLflow's user alternates with a clone, so a password stays valid
     * for one more period after it is replaced.
     */
    databaseRotationDays: z.number().int().min(1).max(365),
    /**
     * The MLflow server version: the image is built for it (docker/mlflow, build argument
     * MLFLOW_VERSION), and a deployment that changes it runs `mlflow db upgrade` first
     * (lib/mlflow-upgrade.ts). An exact release, `3.17.2`.
     */
    version: z
      .string()
      .regex(MLFLOW_VERSION_PATTERN, 'must be an exact MLflow release like 3.17.2 (major.minor.patch)'),
  }),
  training: z.object({
    /** Candidates trained at once by the training pipeline's Map state. */
    maxConcurrency: z.number().int().min(1).max(40),
    /** Datasets with more rows than this train in a SageMaker training job instead of Lambda. */
    sageMakerRowThreshold: z.number().int().positive(),
    sageMakerInstanceType: z
      .string()
      .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a SageMaker instance type like ml.m5.xlarge'),
    /**
     * What the training pipeline does with the best new version: nothing, set `Challenger`, or set
     * `Production` when it beats the current `Production` on the same holdout.
     */
    promotion: z.enum(PROMOTION_MODES),
  }),
  inference: z.object({
    /** Input objects up to this count are scored by an inline Map; more take the Distributed Map. */
    inlineObjectLimit: z.number().int().min(1).max(1000),
  }),
  predict: z.object({
    modelAlias: z
      .string()
      .regex(ALIAS_NAME_PATTERN, `must be ${ALIAS_NAME_RULE}`)
      .refine((alias) => !isReservedAliasName(alias), 'is reserved by MLflow (latest, v<digits>)'),
    /** Whole seconds here; see ALIAS_TTL_SECONDS for the bounds. */
    aliasTtlSeconds: z.number().int().min(ALIAS_TTL_SECONDS.deployedMin).max(ALIAS_TTL_SECONDS.max),
    maxRows: z.number().int().min(1).max(PREDICT_MAX_ROWS.max),
    throttleRatePerSecond: z.number().int().positive(),
    throttleBurst: z.number().int().positive(),
    memoryMiB: z.number().int().min(256).max(10_240),
    /** Requests per month per API key (usage plan quota; api-key mode). */
    monthlyQuota: z.number().int().positive(),
    /** How /predict and /status callers authenticate: SigV4 (IAM) or an API key (metering). */
    apiAuth: z.enum(API_AUTH_MODES),
    /** Aliases `?alias=` may name besides the served one. */
    allowedAliases: z
      .array(z.string().regex(ALIAS_NAME_PATTERN, `must be ${ALIAS_NAME_RULE}`))
      .min(1, 'must name at least one alias'),
    /** WAFv2 web ACL on the stage (rate limit per IP and AWS's common rule set). */
    waf: z.boolean(),
    /** The web ACL's rate-based rule: requests per source IP in 5 minutes. */
    wafRequestsPerIpPer5Minutes: z.number().int().min(10),
  }),
  serving: z.object({
    /**
     * Days the serving bucket keeps an overwritten or deleted manifest (and model copy) as a
     * noncurrent version: the alias history `mlops history` reads goes back this far.
     */
    historyDays: z.number().int().min(1).max(3650),
    /**
     * Register the MLflow webhook on deploy (a custom resource calling MLflow's REST API as its
     * admin) so alias moves made in MLflow reach the serving manifests within seconds. Off, the
     * reconciler (every minute) still converges them. Off by default on a local emulator.
     */
    mlflowWebhook: z.boolean(),
    /** The webhook route's own throttle (MLflow's deliveries; requests per second and burst). */
    webhookThrottleRatePerSecond: z.number().int().positive(),
    webhookThrottleBurst: z.number().int().positive(),
  }),
  drift: z.object({
    /**
     * Headline drift metric value above which an alert is sent (the reference stack's 0.20). The
     * deployed monitoring runs use the share of drifted features, so it is a share.
     */
    threshold: z.number().gt(DRIFT_THRESHOLD.exclusiveMin).lte(DRIFT_THRESHOLD.shareMax),
    retrainOnDrift: z.boolean(),
  }),
  alerts: z.object({
    /** Verified SES identity the drift alerts are sent from. */
    senderEmail: email,
    recipients: z.array(email).min(1),
    /** Subscribed to the CloudWatch alarm topic; required in prod, so alarms reach someone. */
    alarmEmail: email.optional(),
  }),
  schedules: z.object({
    enabled: z.boolean(),
    data: cronExpression,
    retraining: cronExpression,
    inference: cronExpression,
    monitoring: cronExpression,
  }),
  /**
   * A deployment to a local emulator (`npm run local:deploy`, `-c localstack=true`: LocalStack in
   * Docker or ministack without): the functions use the MLflow server at `mlflowTrackingUri` (the
   * compose file's, or `mlops local up`'s) instead of the ECS service, no container image is
   * published — ECS, the load balancer, RDS, ECR and SageMaker do not run there — and the stack
   * leaves out the NAT gateway, EIP, flow log, metric-math alarm and CDK's own custom resources
   * (see localstack/README.md).
   */
  localStack: z.object({
    enabled: z.boolean(),
    /** As the functions' containers reach it: the compose service name on the compose network. */
    mlflowTrackingUri: z
      .string()
      .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http(s) URL like http://mlflow:5000'),
    /**
     * The local MLflow's basic-auth user and password (`mlops local up` generates them): the
     * functions get them as plain environment variables, there being no Secrets Manager to trust
     * on an emulator. Never set for AWS.
     */
    mlflowUsername: z.string().min(1).optional(),
    mlflowPassword: z.string().min(1).optional(),
  }),
  /** prod keeps buckets and the database on stack deletion and turns on deletion protection. */
  retainData: z.boolean(),
  logRetentionDays: z
    .number()
    .int()
    .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      message: `must be a CloudWatch Logs retention: ${LOG_RETENTION_DAYS.join(', ')}`,
    }),
});

export type StageConfig = z.infer<typeof stageConfigSchema>;

/** The MLflow service of localstack/deploy/compose.yml, by its name on the compose network. */
export const LOCALSTACK_MLFLOW_URI = 'http://mlflow:5000';

const DEV: StageConfig = {
  stage: 'dev',
  region: 'us-east-1',
  modelName: 'iris-classifier',
  datasetName: 'iris',
  lambdaArchitecture: 'arm64',
  network: { natGateways: 0 },
  mlflow: {
    database: 'ecs-postgres',
    cpu: 512,
    memoryMiB: 1024,
    desiredCount: 1,
    rdsMultiAz: false,
    rdsInstanceClass: 't4g.micro',
    auroraMinCapacity: 0,
    auroraMaxCapacity: 2,
    architecture: 'arm64',
    spot: true,
    loadBalancer: false,
    containerInsights: false,
    databaseRotationDays: 30,
    version: DEFAULT_MLFLOW_VERSION,
  },
  training: {
    maxConcurrency: 4,
    sageMakerRowThreshold: 200_000,
    sageMakerInstanceType: 'ml.m5.xlarge',
    promotion: 'challenger',
  },
  inference: { inlineObjectLimit: 100 },
  predict: {
    modelAlias: PRODUCTION_ALIAS,
    aliasTtlSeconds: ALIAS_TTL_SECONDS.default,
    maxRows: PREDICT_MAX_ROWS.default,
    throttleRatePerSecond: 50,
    throttleBurst: 100,
    memoryMiB: 1024,
    monthlyQuota: 100_000,
    apiAuth: 'iam',
    allowedAliases: [SHADOW_ALIAS],
    waf: false,
    wafRequestsPerIpPer5Minutes: 2000,
  },
  serving: {
    historyDays: 365,
    mlflowWebhook: true,
    webhookThrottleRatePerSecond: 5,
    webhookThrottleBurst: 10,
  },
  drift: { threshold: DRIFT_THRESHOLD.default, retrainOnDrift: false },
  alerts: { senderEmail: 'mlops-alerts@example.com', recipients: ['data-science@example.com'] },
  schedules: {
    enabled: true,
    data: 'cron(0 1 * * ? *)',
    retraining: 'cron(0 3 ? * MON *)',
    inference: 'cron(0 2 * * ? *)',
    monitoring: 'cron(30 2 * * ? *)',
  },
  localStack: { enabled: false, mlflowTrackingUri: LOCALSTACK_MLFLOW_URI },
  retainData: false,
  logRetentionDays: 14,
};

/**
 * prod is dev with two AZs' worth of MLflow and its database (two tasks on demand behind the load
 * balancer, Multi-AZ RDS), Container Insights, retained data and automatic promotion.
 */
const PROD: StageConfig = {
  ...DEV,
  stage: 'prod',
  mlflow: {
    ...DEV.mlflow,
    database: 'rds',
    cpu: 512,
    memoryMiB: 1024,
    desiredCount: 2,
    rdsMultiAz: true,
    spot: false,
    loadBalancer: true,
    containerInsights: true,
  },
  training: { ...DEV.training, promotion: 'production' },
  predict: {
    ...DEV.predict,
    throttleRatePerSecond: 500,
    throttleBurst: 1000,
    memoryMiB: 1769,
    monthlyQuota: 10_000_000,
    waf: true,
    wafRequestsPerIpPer5Minutes: 20_000,
  },
  drift: { ...DEV.drift, retrainOnDrift: true },
  retainData: true,
  logRetentionDays: 90,
};

const DEFAULTS: Record<Stage, StageConfig> = { dev: DEV, prod: PROD };

/** A dotted path to a value of the config that is not an object itself (`drift.threshold`). */
type ConfigPath<T> = {
  [K in keyof T & string]: NonNullable<T[K]> extends readonly unknown[]
    ? K
    : NonNullable<T[K]> extends object
      ? `${K}.${ConfigPath<NonNullable<T[K]>>}`
      : K;
}[keyof T & string];

interface ContextKey {
  /** Where the value lands in the config; stageConfigSchema validates it there. */
  readonly path: ConfigPath<StageConfig>;
  /** Context values from the command line are strings: this turns one into the config's type. */
  readonly parse: (value: unknown) => unknown;
}

/** `-c key=value` as typed: strings pass through and the schema says what is wrong with them. */
const asIs = (value: unknown): unknown => value;

/** A version in cdk.json may come as a number (`3.18`): as text, the schema says what it lacks. */
function asText(value: unknown): unknown {
  return typeof value === 'number' ? String(value) : value;
}

function asNumber(value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
}

function asBoolean(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

/** `a@x.io, b@x.io` on the command line, an array in cdk.json. */
function asList(value: unknown): unknown {
  return typeof value === 'string' ? value.split(',').map((item) => item.trim()) : value;
}

/** The earlier word for a promotion mode still works (`production-if-better` is `production`). */
function asPromotionMode(value: unknown): unknown {
  return typeof value === 'string' ? (promotionModeOf(value) ?? value) : value;
}

/**
 * The context keys a user may pass with `-c key=value`: where each lands in the config and how
 * its text is read. Errors name the key back from the path.
 */
const CONTEXT_KEY_TABLE = {
  region: { path: 'region', parse: asIs },
  modelName: { path: 'modelName', parse: asIs },
  datasetName: { path: 'datasetName', parse: asIs },
  lambdaArchitecture: { path: 'lambdaArchitecture', parse: asIs },
  natGateways: { path: 'network.natGateways', parse: asNumber },
  mlflowDatabase: { path: 'mlflow.database', parse: asIs },
  rdsMultiAz: { path: 'mlflow.rdsMultiAz', parse: asBoolean },
  mlflowCertificateArn: { path: 'mlflow.certificateArn', parse: asIs },
  mlflowDomainName: { path: 'mlflow.domainName', parse: asIs },
  rdsInstanceClass: { path: 'mlflow.rdsInstanceClass', parse: asIs },
  auroraMinCapacity: { path: 'mlflow.auroraMinCapacity', parse: asNumber },
  auroraMaxCapacity: { path: 'mlflow.auroraMaxCapacity', parse: asNumber },
  mlflowCpu: { path: 'mlflow.cpu', parse: asNumber },
  mlflowMemoryMiB: { path: 'mlflow.memoryMiB', parse: asNumber },
  mlflowDesiredCount: { path: 'mlflow.desiredCount', parse: asNumber },
  mlflowArchitecture: { path: 'mlflow.architecture', parse: asIs },
  mlflowSpot: { path: 'mlflow.spot', parse: asBoolean },
  mlflowLoadBalancer: { path: 'mlflow.loadBalancer', parse: asBoolean },
  containerInsights: { path: 'mlflow.containerInsights', parse: asBoolean },
  databaseRotationDays: { path: 'mlflow.databaseRotationDays', parse: asNumber },
  mlflowVersion: { path: 'mlflow.version', parse: asText },
  promotion: { path: 'training.promotion', parse: asPromotionMode },
  sageMakerRowThreshold: { path: 'training.sageMakerRowThreshold', parse: asNumber },
  modelAlias: { path: 'predict.modelAlias', parse: asIs },
  aliasTtlSeconds: { path: 'predict.aliasTtlSeconds', parse: asNumber },
  apiAuth: { path: 'predict.apiAuth', parse: asIs },
  allowedAliases: { path: 'predict.allowedAliases', parse: asList },
  waf: { path: 'predict.waf', parse: asBoolean },
  servingHistoryDays: { path: 'serving.historyDays', parse: asNumber },
  mlflowWebhook: { path: 'serving.mlflowWebhook', parse: asBoolean },
  driftThreshold: { path: 'drift.threshold', parse: asNumber },
  retrainOnDrift: { path: 'drift.retrainOnDrift', parse: asBoolean },
  alertSender: { path: 'alerts.senderEmail', parse: asIs },
  alertRecipients: { path: 'alerts.recipients', parse: asList },
  alarmEmail: { path: 'alerts.alarmEmail', parse: asIs },
  schedulesEnabled: { path: 'schedules.enabled', parse: asBoolean },
  dataSchedule: { path: 'schedules.data', parse: asIs },
  retrainingSchedule: { path: 'schedules.retraining', parse: asIs },
  inferenceSchedule: { path: 'schedules.inference', parse: asIs },
  monitoringSchedule: { path: 'schedules.monitoring', parse: asIs },
  localstack: { path: 'localStack.enabled', parse: asBoolean },
  localstackMlflowUri: { path: 'localStack.mlflowTrackingUri', parse: asIs },
  localstackMlflowUser: { path: 'localStack.mlflowUsername', parse: asIs },
  localstackMlflowPassword: { path: 'localStack.mlflowPassword', parse: asIs },
} as const satisfies Record<string, ContextKey>;

/** The context key that sets a config path, for error messages. */
const KEY_FOR_PATH = new Map<string, string>(
  Object.entries(CONTEXT_KEY_TABLE).map(([key, { path }]) => [path, key]),
);

function setPath(config: StageConfig, path: string, value: unknown): void {
  const names = path.split('.');
  const last = names.pop() as string;
  let target = config as unknown as Record<string, unknown>;
  for (const name of names) target = target[name] as Record<string, unknown>;
  target[last] = value;
}

/** Rules between settings; each issue's path names the setting to change. */
function crossFieldRules(config: StageConfig, ctx: z.RefinementCtx): void {
  if (config.stage === 'prod' && config.alerts.alarmEmail === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['alerts', 'alarmEmail'],
      message: 'is required in prod so the alarms reach someone: pass -c alarmEmail=ops@example.com',
    });
  }
  if (config.serving.webhookThrottleBurst < config.serving.webhookThrottleRatePerSecond) {
    ctx.addIssue({
      code: 'custom',
      path: ['serving', 'webhookThrottleBurst'],
      message: `must be at least webhookThrottleRatePerSecond (${config.serving.webhookThrottleRatePerSecond})`,
    });
  }
  if (config.mlflow.auroraMaxCapacity < config.mlflow.auroraMinCapacity) {
    ctx.addIssue({
      code: 'custom',
      path: ['mlflow', 'auroraMaxCapacity'],
      message: `must be at least auroraMinCapacity (${config.mlflow.auroraMinCapacity})`,
    });
  }
  if (!config.mlflow.loadBalancer && config.mlflow.desiredCount > 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['mlflow', 'desiredCount'],
      message: 'must be 1 without a load balancer (set -c mlflowLoadBalancer=true for more tasks)',
    });
  }
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const CONTEXT_KEYS = ['stage', ...Object.keys(CONTEXT_KEY_TABLE)];

/**
 * Builds the stage config from a context lookup (`app.node.tryGetContext`).
 * Throws a ConfigError naming every bad key and what it accepts.
 */
export function loadStageConfig(getContext: (key: string) => unknown): StageConfig {
  const stage = getContext('stage') ?? 'dev';
  if (typeof stage !== 'string' || !(STAGES as readonly string[]).includes(stage)) {
    throw new ConfigError(
      `Invalid context "stage": ${JSON.stringify(stage)}. Allowed: ${STAGES.join(', ')}.`,
    );
  }
  const config = structuredClone(DEFAULTS[stage as Stage]);
  for (const [key, { path, parse }] of Object.entries(CONTEXT_KEY_TABLE)) {
    const value = getContext(key);
    if (value !== undefined) setPath(config, path, parse(value));
  }
  // The emulators do not enforce AWS_IAM authorization, so a local deployment keeps the API key
  // (which they do check) unless -c apiAuth= says otherwise; `npm run serve` checks SigV4 itself.
  if (config.localStack.enabled && getContext('apiAuth') === undefined) config.predict.apiAuth = 'api-key';
  // The webhook registration is a custom resource calling MLflow as its admin: a local deployment
  // has neither CDK's custom-resource framework nor the admin's password, so the reconciler keeps
  // the manifests in step there unless -c mlflowWebhook=true says otherwise.
  if (config.localStack.enabled && getContext('mlflowWebhook') === undefined) {
    config.serving.mlflowWebhook = false;
  }
  // An emulator runs the functions on this machine: the onnxruntime layer must carry its binaries.
  if (config.localStack.enabled && getContext('lambdaArchitecture') === undefined) {
    config.lambdaArchitecture = process.arch === 'arm64' ? 'arm64' : 'x86_64';
  }
  const parsed = stageConfigSchema.superRefine(crossFieldRules).safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.join('.');
      const key = KEY_FOR_PATH.get(path) ?? KEY_FOR_PATH.get(issue.path.slice(0, -1).join('.')) ?? path;
      return `context "${key}" (${path}): ${issue.message}`;
    });
    throw new ConfigError(`Invalid ${stage} configuration:\n  - ${problems.join('\n  - ')}`);
  }
  const { certificateArn, domainName } = parsed.data.mlflow;
  if ((certificateArn === undefined) !== (domainName === undefined)) {
    const missing = certificateArn === undefined ? 'mlflowCertificateArn' : 'mlflowDomainName';
    throw new ConfigError(
      `Invalid ${stage} configuration:\n  - context "${missing}": mlflowCertificateArn and mlflowDomainName go together (HTTPS needs a name the certificate covers)`,
    );
  }
  return parsed.data;
}

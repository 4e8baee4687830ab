import { z } from 'zod';

/**
 * Typed stage settings, parsed once from CDK context (`-c stage=prod`, `-c alertEmail=…`).
 * Every value a user may set is validated here, and a bad one fails synth with a message
 * naming the context key and what it accepts.
 */

const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

// EventBridge Scheduler cron: six fields, `cron(min hour day-of-month month day-of-week year)`.
const cronExpression = z
  .string()
  .regex(/^cron\((\S+\s){5}\S+\)$/, 'must be an EventBridge Scheduler expression like cron(0 3 * * ? *)');

const email = z.string().email('must be an e-mail address');

/** The retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const PROMOTION_MODES = ['none', 'challenger', 'production'] as const;
export type PromotionMode = (typeof PROMOTION_MODES)[number];

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
    /** NAT gateways in the two-AZ VPC: 1 is cheap (dev), 2 survives an AZ outage (prod). */
    natGateways: z.number().int().min(1).max(2),
  }),
  mlflow: z.object({
    /** Where MLflow's Postgres backend runs: a Fargate task on EFS (cheap) or RDS (managed). */
    database: z.enum(['ecs-postgres', 'rds']),
    cpu: z.number().int().positive(),
    memoryMiB: z.number().int().positive(),
    /** MLflow server tasks behind the load balancer. */
    desiredCount: z.number().int().min(1).max(10),
    /** Standby RDS instance in the second AZ (only when `database` is `rds`). */
    rdsMultiAz: z.boolean(),
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
    modelAlias: z.string().min(1),
    aliasTtlSeconds: z.number().int().min(1).max(3600),
    maxRows: z.number().int().min(1).max(100_000),
    throttleRatePerSecond: z.number().int().positive(),
    throttleBurst: z.number().int().positive(),
    memoryMiB: z.number().int().min(256).max(10_240),
    /** Requests per month per API key (usage plan quota). */
    monthlyQuota: z.number().int().positive(),
  }),
  drift: z.object({
    /** Headline drift metric value above which an alert is sent (the reference stack's 0.20). */
    threshold: z.number().gt(0).lte(1),
    retrainOnDrift: z.boolean(),
  }),
  alerts: z.object({
    /** Verified SES identity the drift alerts are sent from. */
    senderEmail: email,
    recipients: z.array(email).min(1),
    /** Subscribed to the CloudWatch alarm topic. */
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
   * A deployment to LocalStack (`npm run local:deploy`, `-c localstack=true`): the functions use the
   * MLflow server of localstack/deploy/compose.yml at `mlflowTrackingUri` instead of the ECS service, and
   * no container image is published — ECS, the load balancer, RDS, ECR and SageMaker are not in
   * LocalStack's free edition.
   */
  localStack: z.object({
    enabled: z.boolean(),
    /** As the functions' containers reach it: the compose service name on the compose network. */
    mlflowTrackingUri: z
      .string()
      .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http(s) URL like http://mlflow:5000'),
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

const DEFAULTS: Record<Stage, StageConfig> = {
  dev: {
    stage: 'dev',
    region: 'us-east-1',
    modelName: 'iris-classifier',
    datasetName: 'iris',
    lambdaArchitecture: 'x86_64',
    network: { natGateways: 1 },
    mlflow: { database: 'ecs-postgres', cpu: 512, memoryMiB: 1024, desiredCount: 1, rdsMultiAz: false },
    training: {
      maxConcurrency: 4,
      sageMakerRowThreshold: 200_000,
      sageMakerInstanceType: 'ml.m5.xlarge',
      promotion: 'challenger',
    },
    inference: { inlineObjectLimit: 100 },
    predict: {
      modelAlias: 'Production',
      aliasTtlSeconds: 30,
      maxRows: 1000,
      throttleRatePerSecond: 50,
      throttleBurst: 100,
      memoryMiB: 1024,
      monthlyQuota: 100_000,
    },
    drift: { threshold: 0.2, retrainOnDrift: false },
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
  },
  prod: {
    stage: 'prod',
    region: 'us-east-1',
    modelName: 'iris-classifier',
    datasetName: 'iris',
    lambdaArchitecture: 'x86_64',
    network: { natGateways: 2 },
    mlflow: { database: 'rds', cpu: 1024, memoryMiB: 2048, desiredCount: 2, rdsMultiAz: true },
    training: {
      maxConcurrency: 4,
      sageMakerRowThreshold: 200_000,
      sageMakerInstanceType: 'ml.m5.xlarge',
      promotion: 'production',
    },
    inference: { inlineObjectLimit: 100 },
    predict: {
      modelAlias: 'Production',
      aliasTtlSeconds: 30,
      maxRows: 1000,
      throttleRatePerSecond: 500,
      throttleBurst: 1000,
      memoryMiB: 1769,
      monthlyQuota: 10_000_000,
    },
    drift: { threshold: 0.2, retrainOnDrift: true },
    alerts: { senderEmail: 'mlops-alerts@example.com', recipients: ['data-science@example.com'] },
    schedules: {
      enabled: true,
      data: 'cron(0 1 * * ? *)',
      retraining: 'cron(0 3 ? * MON *)',
      inference: 'cron(0 2 * * ? *)',
      monitoring: 'cron(30 2 * * ? *)',
    },
    localStack: { enabled: false, mlflowTrackingUri: LOCALSTACK_MLFLOW_URI },
    retainData: true,
    logRetentionDays: 90,
  },
};

/** Context keys a user may pass with `-c key=value`, and where each lands in the config. */
const OVERRIDES: Record<string, (c: StageConfig, v: unknown) => void> = {
  region: (c, v) => {
    c.region = v as string;
  },
  modelName: (c, v) => {
    c.modelName = v as string;
  },
  datasetName: (c, v) => {
    c.datasetName = v as string;
  },
  lambdaArchitecture: (c, v) => {
    c.lambdaArchitecture = v as StageConfig['lambdaArchitecture'];
  },
  mlflowDatabase: (c, v) => {
    c.mlflow.database = v as StageConfig['mlflow']['database'];
  },
  rdsMultiAz: (c, v) => {
    c.mlflow.rdsMultiAz = asBoolean(v);
  },
  promotion: (c, v) => {
    c.training.promotion = v as PromotionMode;
  },
  sageMakerRowThreshold: (c, v) => {
    c.training.sageMakerRowThreshold = asNumber(v);
  },
  modelAlias: (c, v) => {
    c.predict.modelAlias = v as string;
  },
  aliasTtlSeconds: (c, v) => {
    c.predict.aliasTtlSeconds = asNumber(v);
  },
  driftThreshold: (c, v) => {
    c.drift.threshold = asNumber(v);
  },
  retrainOnDrift: (c, v) => {
    c.drift.retrainOnDrift = asBoolean(v);
  },
  alertSender: (c, v) => {
    c.alerts.senderEmail = v as string;
  },
  alertRecipients: (c, v) => {
    c.alerts.recipients = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : (v as string[]);
  },
  alarmEmail: (c, v) => {
    c.alerts.alarmEmail = v as string;
  },
  schedulesEnabled: (c, v) => {
    c.schedules.enabled = asBoolean(v);
  },
  dataSchedule: (c, v) => {
    c.schedules.data = v as string;
  },
  retrainingSchedule: (c, v) => {
    c.schedules.retraining = v as string;
  },
  inferenceSchedule: (c, v) => {
    c.schedules.inference = v as string;
  },
  monitoringSchedule: (c, v) => {
    c.schedules.monitoring = v as string;
  },
  localstack: (c, v) => {
    c.localStack.enabled = asBoolean(v);
  },
  localstackMlflowUri: (c, v) => {
    c.localStack.mlflowTrackingUri = v as string;
  },
};

/** Maps a config path back to the context key that sets it, for error messages. */
const KEY_FOR_PATH: Record<string, string> = {
  region: 'region',
  modelName: 'modelName',
  datasetName: 'datasetName',
  lambdaArchitecture: 'lambdaArchitecture',
  'mlflow.database': 'mlflowDatabase',
  'mlflow.rdsMultiAz': 'rdsMultiAz',
  'training.promotion': 'promotion',
  'training.sageMakerRowThreshold': 'sageMakerRowThreshold',
  'predict.modelAlias': 'modelAlias',
  'predict.aliasTtlSeconds': 'aliasTtlSeconds',
  'drift.threshold': 'driftThreshold',
  'drift.retrainOnDrift': 'retrainOnDrift',
  'alerts.senderEmail': 'alertSender',
  'alerts.recipients': 'alertRecipients',
  'alerts.alarmEmail': 'alarmEmail',
  'schedules.enabled': 'schedulesEnabled',
  'schedules.data': 'dataSchedule',
  'schedules.retraining': 'retrainingSchedule',
  'schedules.inference': 'inferenceSchedule',
  'schedules.monitoring': 'monitoringSchedule',
  'localStack.enabled': 'localstack',
  'localStack.mlflowTrackingUri': 'localstackMlflowUri',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function asNumber(v: unknown): number {
  return typeof v === 'string' && v.trim() !== '' ? Number(v) : (v as number);
}

function asBoolean(v: unknown): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  return v as boolean;
}

export const CONTEXT_KEYS = ['stage', ...Object.keys(OVERRIDES)];

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
  for (const [key, apply] of Object.entries(OVERRIDES)) {
    const value = getContext(key);
    if (value !== undefined) apply(config, value);
  }
  const parsed = stageConfigSchema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.join('.');
      const key = KEY_FOR_PATH[path] ?? KEY_FOR_PATH[issue.path.slice(0, -1).join('.')] ?? path;
      return `context "${key}" (${path}): ${issue.message}`;
    });
    throw new ConfigError(`Invalid ${stage} configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return parsed.data;
}

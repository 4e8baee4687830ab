/**
 * The pipelines, run locally: each ASL file in stepfunctions/ executed unchanged by the local
 * runner, with its Task resources (local stand-in ARNs, bound through the same
 * `pipelineSubstitutions()` CDK uses) mapped to the steps' tasks (lambdas/steps/tasks/, as the
 * step catalogue names them) running in this process against the local S3 endpoint and MLflow.
 *
 * Every step of the catalogue is bound, and the SageMaker training branch to an emulation of
 * the training job that runs the trainer container's entry in-process
 * (`localstack/runner/sagemaker-training-job.ts`); a run that reaches an unbound Task (the Distributed
 * Map, `StartRetraining` with `retrainOnDrift`) fails with UnboundTaskError naming the state.
 */
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PromotionMode } from '../../lambdas/core/settings';
import { DRIFT_THRESHOLD } from '../../lambdas/core/settings';
import {
  type PipelineName,
  STEP_NAMES,
  type StepName,
  stepsOf,
  taskModule,
} from '../../lambdas/steps/catalogue';
import { createStepContext, type StepContext } from '../../lambdas/steps/support/step-context';
import { step as withStepErrors } from '../../lambdas/steps/support/step-errors';
import { loadStageConfig } from '../../lib/config';
import {
  definitionFile,
  pipelineSubstitutions,
  type SubstitutionInputs,
} from '../../lib/state-machine-substitutions';
import { CREATE_TRAINING_JOB_SYNC, localTrainingJob } from './sagemaker-training-job';
import { type LocalTaskHandler, type RunnerEvent, runStateMachine } from './state-machine-runner';

type Environment = Readonly<Record<string, string | undefined>>;
type JsonValue = Parameters<LocalTaskHandler>[0];

/** A step's task as the local runner calls it: the Task's JSON input and the run's context. */
type LocalTask = (input: JsonValue, context: StepContext) => Promise<unknown> | unknown;

const loadedTasks = new Map<StepName, Promise<LocalTask>>();

/**
 * A step's task, imported from the module the step catalogue names at the step's first call: a
 * run loads only what its pipeline's steps need (no onnxruntime-node for a data pipeline run).
 */
export function loadTask(step: StepName): Promise<LocalTask> {
  let task = loadedTasks.get(step);
  if (!task) {
    const { path, exportName } = taskModule(step);
    task = import(new URL(`../../${path}`, import.meta.url).href).then((module: Record<string, unknown>) => {
      const fn = module[exportName];
      if (typeof fn !== 'function') throw new Error(`${path} exports no function ${exportName}`);
      return fn as LocalTask;
    });
    loadedTasks.set(step, task);
  }
  return task;
}

/** The stand-in ARN of a step's function (never called: the runner binds it to the step). */
export function localFunctionArn(step: StepName): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:mlops-local-${step}`;
}

/** Local defaults for what lib/pipelines.ts sets on the step functions; the given env wins. */
export const LOCAL_DEFAULTS = {
  LANDING_BUCKET: 'mlops-local-landing',
  CURATED_BUCKET: 'mlops-local-curated',
  QUARANTINE_BUCKET: 'mlops-local-quarantine',
  PREDICTIONS_BUCKET: 'mlops-local-predictions',
  MONITORING_BUCKET: 'mlops-local-monitoring',
  MODEL_NAME: 'iris-classifier',
  DATASET_NAME: 'iris',
} as const;

export interface LocalSettings {
  /** @default 'challenger' */
  readonly promotion?: PromotionMode;
  /** @default 2 */
  readonly maxConcurrency?: number;
  /** The monitoring pipeline's `DriftThreshold`. @default DRIFT_THRESHOLD.default (0.2) */
  readonly driftThreshold?: number;
  /**
   * Datasets with more rows train in the (emulated) SageMaker job instead of the Lambda Map.
   * @default the dev stage's `training.sageMakerRowThreshold` (200000)
   */
  readonly sageMakerRowThreshold?: number;
}

/** The substitution inputs of the local run: local ARNs, settings, placeholders for the AWS-only parts. */
export function localSubstitutionInputs(env: Environment, settings: LocalSettings = {}): SubstitutionInputs {
  return {
    functionArns: Object.fromEntries(STEP_NAMES.map((step) => [step, localFunctionArn(step)])) as Record<
      StepName,
      string
    >,
    training: {
      sageMakerRowThreshold:
        settings.sageMakerRowThreshold ?? loadStageConfig(() => undefined).training.sageMakerRowThreshold,
      maxConcurrency: settings.maxConcurrency ?? 2,
      promotion: settings.promotion ?? 'challenger',
      modelName: env.MODEL_NAME ?? LOCAL_DEFAULTS.MODEL_NAME,
      datasetName: env.DATASET_NAME ?? LOCAL_DEFAULTS.DATASET_NAME,
      mlflowTrackingUri: env.MLFLOW_TRACKING_URI ?? 'http://127.0.0.1:5000',
      // No Secrets Manager locally: the job gets the password the way the runner has it (below).
      mlflowUsername: env.MLFLOW_TRACKING_USERNAME ?? '',
      mlflowPasswordSecretArn: '',
      buckets: {
        landing: env.LANDING_BUCKET ?? LOCAL_DEFAULTS.LANDING_BUCKET,
        curated: env.CURATED_BUCKET ?? LOCAL_DEFAULTS.CURATED_BUCKET,
        quarantine: env.QUARANTINE_BUCKET ?? LOCAL_DEFAULTS.QUARANTINE_BUCKET,
        predictions: env.PREDICTIONS_BUCKET ?? LOCAL_DEFAULTS.PREDICTIONS_BUCKET,
        monitoring: env.MONITORING_BUCKET ?? LOCAL_DEFAULTS.MONITORING_BUCKET,
      },
      trainerImageUri: '000000000000.dkr.ecr.us-east-1.amazonaws.com/mlops-trainer:local',
      sageMakerRoleArn: 'arn:aws:iam::000000000000:role/mlops-local-sagemaker',
      sageMakerInstanceType: 'ml.m5.xlarge',
      sageMakerSecurityGroupId: 'sg-00000000000000000',
      privateSubnetIds: ['subnet-00000000000000000', 'subnet-00000000000000001'],
    },
    inference: { inlineObjectLimit: 100 },
    monitoring: {
      driftThreshold: settings.driftThreshold ?? DRIFT_THRESHOLD.default,
      retrainOnDrift: false,
      trainingStateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:mlops-local-training',
    },
  };
}

/**
 * ARN → in-process step, for every step of the pipeline (and the training job's emulation): the
 * step's task with the run's context, its outages mapped to TransientStepError as in the Lambdas.
 */
export function localHandlers(
  pipeline: PipelineName,
  context: StepContext,
): Record<string, LocalTaskHandler> {
  const handlers: Record<string, LocalTaskHandler> = {};
  for (const name of stepsOf(pipeline)) {
    handlers[localFunctionArn(name)] = async (input) => {
      const task = await loadTask(name);
      return (await withStepErrors(async () => task(input, context))) as JsonValue;
    };
  }
  if (pipeline === 'training') handlers[CREATE_TRAINING_JOB_SYNC] = localTrainingJob({ env: context.env });
  return handlers;
}

export interface RunPipelineOptions extends LocalSettings {
  /** Overrides and additions to `process.env` (buckets, MODEL_NAME, MLflow, the local AWS endpoint). */
  readonly env?: Environment;
  readonly onEvent?: (event: RunnerEvent) => void;
}

/** The environment of a local run: `process.env`, the local defaults where it has none, then `env`. */
export function localPipelineEnv(env: Environment = {}): Environment {
  const merged: Record<string, string | undefined> = { ...process.env };
  for (const [name, value] of Object.entries(LOCAL_DEFAULTS)) merged[name] ||= value;
  return { ...merged, ...env };
}

/** Runs one execution of a pipeline locally and returns its output; a failed one throws with its error and cause. */
export async function runPipeline(
  pipeline: PipelineName,
  input: JsonValue,
  options: RunPipelineOptions = {},
): Promise<JsonValue> {
  const env = localPipelineEnv(options.env);
  const context = createStepContext(env);
  try {
    await ensureLocalBuckets(context.s3, Object.values(context.config.buckets));
    return await runStateMachine(definitionFile(pipeline), {
      substitutions: pipelineSubstitutions(pipeline, localSubstitutionInputs(env, options)),
      handlers: localHandlers(pipeline, context),
      input,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  } finally {
    context.close();
  }
}

/** Creates the data lake's buckets on the local endpoint where they are missing. */
export async function ensureLocalBuckets(s3: S3Client, buckets: readonly string[]): Promise<void> {
  for (const bucket of buckets) {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    }
  }
}

/**
 * The settings every pipeline step reads from its environment, with the names lib/pipelines.ts
 * sets on the step functions, parsed once and failing with a message that names the variable.
 */
import { StepConfigError } from './step-errors';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface StepConfig {
  readonly buckets: {
    readonly landing: string;
    readonly curated: string;
    readonly quarantine: string;
    readonly predictions: string;
    readonly monitoring: string;
  };
  /** The registered model the training pipeline adds versions to. */
  readonly modelName: string;
  /** The dataset a run uses when its input names none. */
  readonly datasetName: string;
  /**
   * MLflow experiment of training runs: `MLFLOW_EXPERIMENT_NAME` (MLflow's own variable), else
   * the model name, so each model's candidates are found in one place.
   */
  readonly experimentName: string;
}

// S3 bucket names: 3-63 lower-case letters, digits, dots and hyphens.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function stepConfigFrom(env: Environment): StepConfig {
  const bucket = (name: string) => {
    const value = required(env, name, 'an S3 bucket name');
    if (!BUCKET.test(value)) throw new StepConfigError(name, `must be an S3 bucket name, got '${value}'`);
    return value;
  };
  const buckets = {
    landing: bucket('LANDING_BUCKET'),
    curated: bucket('CURATED_BUCKET'),
    quarantine: bucket('QUARANTINE_BUCKET'),
    predictions: bucket('PREDICTIONS_BUCKET'),
    monitoring: bucket('MONITORING_BUCKET'),
  };
  const modelName = required(env, 'MODEL_NAME', 'the registered model name');
  return {
    buckets,
    modelName,
    datasetName: required(env, 'DATASET_NAME', 'the default dataset, e.g. iris'),
    experimentName: env.MLFLOW_EXPERIMENT_NAME?.trim() || modelName,
  };
}

function required(env: Environment, name: string, meaning: string): string {
  const value = env[name]?.trim();
  if (!value) throw new StepConfigError(name, `is required: ${meaning}`);
  return value;
}

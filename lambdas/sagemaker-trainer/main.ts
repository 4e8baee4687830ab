/**
 * Entry point of the trainer container (docker/trainer/Dockerfile) for the training pipeline's
 * SageMaker branch. SageMaker starts the image as `<entrypoint> train`, hands the hyperparameters
 * in /opt/ml/input/config/hyperparameters.json (every value a string) and reads a failure reason
 * from /opt/ml/output/failure, which becomes the training job's FailureReason and so the cause
 * the state machine reports. `SM_ML_ROOT` moves /opt/ml (tests, the local runner's emulation).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CandidateResult, SageMakerTrainerHyperparameters } from '../steps/step-io';
import { createStepContext, type StepContext } from '../steps/support/step-context';
import { step } from '../steps/support/step-errors';
import { parseMaxConcurrency, trainPlanInContainer } from './train-plan';

type Environment = Readonly<Record<string, string | undefined>>;

export const DEFAULT_ML_ROOT = '/opt/ml';

/** The files of SageMaker's container contract the trainer uses, below the ML root. */
export function trainerPaths(root: string) {
  return {
    hyperparameters: join(root, 'input', 'config', 'hyperparameters.json'),
    failure: join(root, 'output', 'failure'),
  };
}

export class TrainerInputError extends Error {
  override name = 'TrainerInputError';
}

const KEYS = ['plan_bucket', 'plan_key', 'max_concurrency'] as const;
const REQUIRED: ReadonlySet<string> = new Set(['plan_bucket', 'plan_key']);

/** Validates SageMaker's hyperparameters JSON; names the missing or bad key. */
export function parseHyperparameters(
  text: string,
  file = 'hyperparameters.json',
): SageMakerTrainerHyperparameters {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TrainerInputError(`${file} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TrainerInputError(`${file} must hold a JSON object`);
  }
  const record = parsed as Record<string, unknown>;
  const result: Record<string, string> = {};
  for (const key of KEYS) {
    const value = record[key];
    if (value === undefined && !REQUIRED.has(key)) continue;
    if (typeof value !== 'string' || value.trim() === '') {
      throw new TrainerInputError(
        `hyperparameter '${key}' ${REQUIRED.has(key) ? 'is required' : 'must be a non-empty string'} (got ${JSON.stringify(value)})`,
      );
    }
    result[key] = value.trim();
  }
  // Checked here too, so a bad value fails before anything else is read.
  parseMaxConcurrency(result.max_concurrency);
  return result as unknown as SageMakerTrainerHyperparameters;
}

export interface TrainerOptions {
  /** The container's environment: SM_ML_ROOT, the step settings (stepConfigFrom), MLflow's. @default process.env */
  readonly env?: Environment;
  /** Where progress and the failure reason go (the job's CloudWatch log stream). @default console.error */
  readonly log?: (line: string) => void;
}

/** Trains the plan named by the hyperparameters; 0 when the results were written, else 1 with the reason in the failure file. */
export async function main(options: TrainerOptions = {}): Promise<number> {
  const env = withRegion(options.env ?? process.env);
  const log = options.log ?? ((line: string) => console.error(line));
  const paths = trainerPaths(env.SM_ML_ROOT?.trim() || DEFAULT_ML_ROOT);
  let context: StepContext | undefined;
  try {
    const hyperparameters = parseHyperparameters(
      await readHyperparameters(paths.hyperparameters),
      paths.hyperparameters,
    );
    context = createStepContext(env);
    const results = await trainPlan(hyperparameters, context);
    for (const result of results) {
      log(
        result.status === 'succeeded'
          ? `candidate ${result.candidateId}: succeeded, MLflow run ${result.mlflowRunId}`
          : `candidate ${result.candidateId}: failed, ${result.error}: ${result.cause}`,
      );
    }
    return 0;
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    log(reason);
    // SageMaker keeps the first 1024 characters of the failure file as FailureReason.
    await mkdir(dirname(paths.failure), { recursive: true });
    await writeFile(paths.failure, reason.slice(0, 1024));
    return 1;
  } finally {
    context?.close();
  }
}

/** The job's work, with outages named TransientStepError as in the Lambda steps. */
function trainPlan(
  hyperparameters: SageMakerTrainerHyperparameters,
  context: StepContext,
): Promise<readonly CandidateResult[]> {
  return step(() => trainPlanInContainer(hyperparameters, context));
}

async function readHyperparameters(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') throw new TrainerInputError(`${file} is missing`);
    throw error;
  }
}

/**
 * The AWS SDK needs a region. SageMaker names the job's ARN in TRAINING_JOB_ARN; its region is
 * used when the container was given none.
 */
function withRegion(env: Environment): Environment {
  if (env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim()) return env;
  const region = /^arn:[^:]+:sagemaker:([^:]+):/.exec(env.TRAINING_JOB_ARN ?? '')?.[1];
  return region ? { ...env, AWS_REGION: region } : env;
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  process.exitCode = await main();
}

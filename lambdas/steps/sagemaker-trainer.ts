/**
 * Entry point of the trainer container (docker/trainer/Dockerfile) for the training pipeline's
 * SageMaker branch. SageMaker starts the image as `<entrypoint> train`, hands the hyperparameters
 * in /opt/ml/input/config/hyperparameters.json (every value a string) and reads a failure reason
 * from /opt/ml/output/failure, which becomes the training job's FailureReason and so the cause
 * the state machine reports.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SageMakerTrainerHyperparameters } from './contracts';
import { trainPlanInContainer } from './impl';

const ML_ROOT = process.env.SM_ML_ROOT ?? '/opt/ml';
export const HYPERPARAMETERS_FILE = `${ML_ROOT}/input/config/hyperparameters.json`;
export const FAILURE_FILE = `${ML_ROOT}/output/failure`;

export class TrainerInputError extends Error {
  override name = 'TrainerInputError';
}

/** Validates SageMaker's hyperparameters JSON; names the missing or bad key. */
export function parseHyperparameters(text: string): SageMakerTrainerHyperparameters {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TrainerInputError(`${HYPERPARAMETERS_FILE} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new TrainerInputError(`${HYPERPARAMETERS_FILE} must hold a JSON object`);
  }
  const record = parsed as Record<string, unknown>;
  const read = (key: keyof SageMakerTrainerHyperparameters): string => {
    const value = record[key];
    if (typeof value !== 'string' || value.trim() === '') {
      throw new TrainerInputError(`hyperparameter '${key}' is required (got ${JSON.stringify(value)})`);
    }
    return value.trim();
  };
  return { plan_bucket: read('plan_bucket'), plan_key: read('plan_key') };
}

export async function main(): Promise<number> {
  try {
    const hyperparameters = parseHyperparameters(await readFile(HYPERPARAMETERS_FILE, 'utf8'));
    await trainPlanInContainer(hyperparameters);
    return 0;
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    console.error(reason);
    // SageMaker keeps the first 1024 characters of the failure file as FailureReason.
    await mkdir(dirname(FAILURE_FILE), { recursive: true });
    await writeFile(FAILURE_FILE, reason.slice(0, 1024));
    return 1;
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  process.exitCode = await main();
}

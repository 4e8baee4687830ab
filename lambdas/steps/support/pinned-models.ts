/**
 * The model versions an inference run scores with: resolved from their aliases once, by
 * plan-inference, then loaded by exact version in every batch, so an alias moved mid-run does
 * not mix versions in one run's predictions.
 */
import { MlflowApiError, type MlflowClient } from '../../core/mlflow';
import { type ModelDirectory, readModelDirectory } from '../../core/model-format';
import { ModelProblem } from '../../core/serving/errors';
import { MlflowRegistry } from '../../core/serving/mlflow-registry';
import { CHALLENGER_ALIAS, PRODUCTION_ALIAS } from '../../core/settings';
import type { ModelVersionRef } from '../step-io';
import { StepInputError, TransientStepError } from './step-errors';

/** The version an alias points at now, or null when the model has no such alias. */
export async function resolveAlias(
  mlflow: MlflowClient,
  name: string,
  alias: string,
): Promise<ModelVersionRef | null> {
  try {
    const version = await mlflow.getModelVersionByAlias(name, alias);
    return { name, version: version.version, alias, mlflowRunId: version.run_id ?? '' };
  } catch (error) {
    if (error instanceof MlflowApiError && error.isNotFound) return null;
    throw error;
  }
}

/**
 * Production is required; Challenger is optional (no shadow scoring without it), and a Challenger
 * on the Production version itself would only score every row twice, so it counts as none.
 */
export async function pinServedVersions(
  mlflow: MlflowClient,
  name: string,
): Promise<{ production: ModelVersionRef; challenger: ModelVersionRef | null }> {
  const [production, challenger] = await Promise.all([
    resolveAlias(mlflow, name, PRODUCTION_ALIAS),
    resolveAlias(mlflow, name, CHALLENGER_ALIAS),
  ]);
  if (!production) {
    throw new StepInputError(
      'models.production',
      `model '${name}' has no ${PRODUCTION_ALIAS} alias: promote a version before running inference`,
    );
  }
  return {
    production,
    challenger: challenger && challenger.version !== production.version ? challenger : null,
  };
}

/**
 * Registered versions never change, so a warm function keeps the few it has parsed: the batches of
 * one run (and the inline Map's concurrent items locally) download each version once.
 */
const CACHE_SIZE = 4;
const loaded = new Map<string, Promise<ModelDirectory>>();

/** The model directory of an exact version, through the serving core's registry download. */
export function loadPinnedVersion(mlflow: MlflowClient, ref: ModelVersionRef): Promise<ModelDirectory> {
  const key = `${mlflow.trackingUri} ${ref.name} ${ref.version}`;
  const cached = loaded.get(key);
  if (cached) return cached;
  const loading = new MlflowRegistry(mlflow)
    .downloadModel({ name: ref.name, version: ref.version, runId: ref.mlflowRunId, source: '' })
    .then(readModelDirectory)
    .catch((error: unknown) => {
      loaded.delete(key);
      throw asLoadError(error, ref);
    });
  loaded.set(key, loading);
  while (loaded.size > CACHE_SIZE) loaded.delete(loaded.keys().next().value as string);
  return loading;
}

/** The registry being unreachable is worth a retry; anything else about the version is not. */
function asLoadError(error: unknown, ref: ModelVersionRef): unknown {
  if (error instanceof ModelProblem) {
    const message = `${ref.name} version ${ref.version} (${ref.alias}): ${error.message}`;
    return error.code === 'REGISTRY_UNREACHABLE'
      ? new TransientStepError(message, { cause: error })
      : new StepInputError(`models.${ref.alias.toLowerCase()}`, message);
  }
  return error;
}

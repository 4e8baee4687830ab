/**
 * Register the best candidate's `model` artifact as a new version of the configured model, tagged
 * with the dataset version, digest, contract, selection metric and the plan's training
 * fingerprint (the core's `selectAndRegister`).
 *
 * Idempotent: a version already registered with the same fingerprint, or from the same best run
 * (a retry of this step after MLflow created the version but the answer was lost), is returned as
 * it is (`reused: true`) instead of registering a duplicate.
 */
import { selectAndRegister } from '../../core/lifecycle/register-best';
import { versionFromRun, versionWithTag } from '../../core/registry/existing-versions';
import type { RegisterModelInput, RegisterModelOutput } from '../step-io';
import { loadPrepared } from '../support/dataset-manifest';
import type { StepContext } from '../support/step-context';
import { FINGERPRINT_TAG } from '../support/training-fingerprint';
import { toCoreResult } from './select-best';

export async function registerModel(
  input: RegisterModelInput,
  context: StepContext,
): Promise<RegisterModelOutput> {
  const mlflow = context.mlflow();
  const modelName = context.config.modelName;
  const existing =
    (input.fingerprint
      ? await versionWithTag(mlflow, modelName, FINGERPRINT_TAG, input.fingerprint)
      : undefined) ?? (await versionFromRun(mlflow, modelName, input.best.mlflowRunId));
  if (existing) {
    return {
      name: existing.name,
      version: existing.version,
      mlflowRunId: existing.run_id ?? input.best.mlflowRunId,
      source: existing.source ?? input.best.modelUri,
      reused: true,
    };
  }
  const prepared = await loadPrepared(context, input.dataset, input.runId);
  const registered = await selectAndRegister(
    {
      prepared,
      results: [toCoreResult(input.best)],
      modelName,
      metric: input.selection,
      ...(input.fingerprint ? { extraTags: { [FINGERPRINT_TAG]: input.fingerprint } } : {}),
    },
    { mlflow },
  );
  return {
    name: registered.model,
    version: registered.version,
    mlflowRunId: registered.runId,
    source: registered.source,
    reused: false,
  };
}

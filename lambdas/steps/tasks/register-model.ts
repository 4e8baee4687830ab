/**
 * Register the best candidate's `model` artifact as a new version of the configured model, tagged
 * with the dataset version, digest, contract and selection metric (the core's `selectAndRegister`).
 */
import { selectAndRegister } from '../../core/lifecycle/register-best';
import type { RegisterModelInput, RegisterModelOutput } from '../step-io';
import { loadPrepared } from '../support/dataset-manifest';
import type { StepContext } from '../support/step-context';
import { toCoreResult } from './select-best';

export async function registerModel(
  input: RegisterModelInput,
  context: StepContext,
): Promise<RegisterModelOutput> {
  const prepared = await loadPrepared(context, input.dataset, input.runId);
  const registered = await selectAndRegister(
    {
      prepared,
      results: [toCoreResult(input.best)],
      modelName: context.config.modelName,
      metric: input.selection,
    },
    { mlflow: context.mlflow() },
  );
  return {
    name: registered.model,
    version: registered.version,
    mlflowRunId: registered.runId,
    source: registered.source,
  };
}

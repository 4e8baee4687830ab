/**
 * The promotion gate (the core's `promoteVersion`): `challenger` sets the Challenger alias;
 * `production` scores the new and the current Production version on the same holdout, from their
 * registered artifacts through onnxruntime, and moves Production only when the new one is better.
 */
import { s3BlobStore } from '../../core/lifecycle/blob-store';
import { promoteVersion } from '../../core/lifecycle/promote-version';
import type { PromoteModelInput, PromoteModelOutput } from '../step-io';
import { loadPrepared } from '../support/dataset-manifest';
import type { StepContext } from '../support/step-context';
import { StepInputError } from '../support/step-errors';

export async function promoteModel(
  input: PromoteModelInput,
  context: StepContext,
): Promise<PromoteModelOutput> {
  const mode = input.mode;
  if (mode !== 'challenger' && mode !== 'production')
    throw new StepInputError('mode', `must be challenger or production, got ${JSON.stringify(input.mode)}`);
  const prepared = await loadPrepared(context, input.dataset, `promote-${input.model.version}`);
  const decision = await promoteVersion(
    { model: input.model.name, version: input.model.version, mode, metric: input.selection, prepared },
    {
      mlflow: context.mlflow(),
      store: s3BlobStore({ client: context.s3, bucket: context.config.buckets.curated }),
    },
  );
  if (decision.alias === null) throw new StepInputError('mode', `promotion mode ${input.mode} set no alias`);
  return {
    alias: decision.alias,
    promotedToProduction: decision.promotedToProduction,
    candidateScore: decision.candidateScore,
    productionVersion: decision.productionVersion,
    productionScore: decision.productionScore,
    reason: decision.reason,
  };
}

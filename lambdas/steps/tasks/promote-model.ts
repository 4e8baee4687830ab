/**
 * The promotion gate (the core's `promoteVersion`): `challenger` sets the Challenger alias;
 * `production` scores the new and the current Production version on the same holdout, from their
 * registered artifacts through onnxruntime, and moves Production only when the new one is better.
 *
 * Then the alias's serving manifest is written (SERVING_BUCKET; publishAliasManifest via
 * `pipeline`), so the predict API serves the new version without waiting for the webhook or the
 * reconciler. Without SERVING_BUCKET (a stack without serving) that is skipped with a log line;
 * a failure to write it is logged and left to the reconciler: the alias has moved either way.
 */
import { s3BlobStore } from '../../core/lifecycle/blob-store';
import { promoteVersion } from '../../core/lifecycle/promote-version';
import { publishAliasManifest } from '../../core/serving-manifest';
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
  await publishServing(context, input.model.name, decision.alias);
  return {
    alias: decision.alias,
    promotedToProduction: decision.promotedToProduction,
    candidateScore: decision.candidateScore,
    productionVersion: decision.productionVersion,
    productionScore: decision.productionScore,
    reason: decision.reason,
  };
}

/** Writes the moved alias's serving manifest, or logs why not (one JSON line). */
export async function publishServing(
  context: StepContext,
  model: string,
  alias: string,
  log: (entry: Record<string, unknown>) => void = (entry) => console.log(JSON.stringify(entry)),
): Promise<void> {
  const bucket = context.env.SERVING_BUCKET?.trim();
  if (!bucket) {
    log({
      serving: 'skipped',
      model,
      alias,
      reason: 'SERVING_BUCKET is not set: no serving manifest to write',
    });
    return;
  }
  try {
    const result = await publishAliasManifest(
      { mlflow: context.mlflow(), s3: context.s3, bucket },
      { model, alias, via: 'pipeline', movedBy: 'training-pipeline' },
    );
    const version = 'manifest' in result ? result.manifest.version : null;
    log({ serving: result.action, model, alias, version, bucket });
  } catch (error) {
    log({
      serving: 'failed',
      model,
      alias,
      bucket,
      error: (error as Error).message,
      note: 'the alias has moved; the reconciler writes the manifest',
    });
  }
}

/**
 * Plan an inference run: the input batch (the given prefix, else the newest landing batch of the
 * configured dataset), its data objects, where the predictions go, and the Production and
 * Challenger versions pinned for the whole run.
 */
import type { PlanInferenceInput, PlanInferenceOutput, S3Prefix } from '../step-io';
import { checkedPrefix, dataObjectFormat, newestLandingBatch } from '../support/landing-batches';
import { pinServedVersions } from '../support/pinned-models';
import { listKeys } from '../support/s3-objects';
import type { StepContext } from '../support/step-context';
import { StepInputError } from '../support/step-errors';
import { newRunId } from '../support/work-area';

export async function planInference(
  input: PlanInferenceInput,
  context: StepContext,
): Promise<PlanInferenceOutput> {
  const limit = input.inlineObjectLimit;
  if (!Number.isInteger(limit) || limit < 0)
    throw new StepInputError('inlineObjectLimit', `must be a whole number, got ${JSON.stringify(limit)}`);
  const given = input.request?.input;
  const batch: S3Prefix =
    given === undefined
      ? await newestLandingBatch(context, context.config.datasetName, 'request.input')
      : checkedPrefix(given, 'request.input');
  // Versions first: without a Production version there is nothing to score with.
  const models = await pinServedVersions(context.mlflow(), context.config.modelName);
  const keys = (await listKeys(context.s3, batch.bucket, batch.prefix)).filter(
    (key) => dataObjectFormat(key) !== null,
  );
  const runId = newRunId('i');
  return {
    runId,
    input: batch,
    objectCount: keys.length,
    objects: keys.length <= limit ? keys.map((Key) => ({ Key })) : [],
    output: { bucket: context.config.buckets.predictions, prefix: `predictions/${runId}/` },
    models,
  };
}

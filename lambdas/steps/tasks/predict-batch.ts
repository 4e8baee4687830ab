/**
 * Score one input object with the run's pinned Production version and, in shadow, its Challenger:
 * both read the same rows (under Production's data contract), each model's predictions go to
 * their own Parquet file, and the per-object counts compare-predictions adds up go to a summary.
 * Rows that break the model's data contract, and rows a model cannot take (a category it was not
 * trained on), go with their reasons to `quarantine/<key>.jsonl` beside the predictions and count
 * as rejected.
 * Objects that are not data (the Distributed Map lists every key) are skipped, not failed.
 */
import { encodeFrame, type Frame, quarantineToJsonLines } from '../../core/data';
import type { PredictBatchInput, PredictBatchOutput, S3Pointer } from '../step-io';
import {
  modelContract,
  predictionsFrame,
  readInputBatch,
  type ScoredBatch,
  scoreWithModels,
} from '../support/batch-scoring';
import { dataObjectFormat } from '../support/landing-batches';
import { loadPinnedVersion } from '../support/pinned-models';
import { type BatchSummary, comparePair, SUMMARY_FORMAT, tallyOf } from '../support/prediction-summary';
import { getBytes, putBytes, putJson } from '../support/s3-objects';
import type { StepContext } from '../support/step-context';
import { StepInputError } from '../support/step-errors';

export async function predictBatch(
  input: PredictBatchInput,
  context: StepContext,
): Promise<PredictBatchOutput> {
  const { object, output, models } = input;
  if (!models?.production) throw new StepInputError('models.production', 'is required');
  const format = dataObjectFormat(object.key);
  if (format === null) return skipped(object, 'not a data file');

  const mlflow = context.mlflow();
  const [production, challenger] = await Promise.all([
    loadPinnedVersion(mlflow, models.production),
    models.challenger ? loadPinnedVersion(mlflow, models.challenger) : Promise.resolve(null),
  ]);
  const contract = modelContract(production, models.production);
  const source = `s3://${object.bucket}/${object.key}`;
  const batch = await readInputBatch(await getBytes(context.s3, object), format, source, contract);
  const at = (kind: string, extension: string): S3Pointer => ({
    bucket: output.bucket,
    key: `${output.prefix}${kind}/${object.key}${extension}`,
  });

  let predictions: S3Pointer | null = null;
  let shadow: S3Pointer | null = null;
  let scores: ScoredBatch | null = null;
  if (batch.frame.rowCount > 0) {
    scores = await scoreWithModels(
      batch,
      { directory: production, ref: models.production },
      challenger && models.challenger ? { directory: challenger, ref: models.challenger } : null,
    );

    if (scores.rowIds.length > 0) {
      predictions = await writePredictions(
        context,
        at('production', '.parquet'),
        predictionsFrame(scores.rowIds, scores.production, models.production),
      );
      if (scores.challenger && models.challenger)
        shadow = await writePredictions(
          context,
          at('challenger', '.parquet'),
          predictionsFrame(scores.rowIds, scores.challenger, models.challenger),
        );
    }
  }
  // Every row left out, for breaking the contract or for a value the model cannot take, is kept
  // with its reasons, in source-row order.
  const quarantined = [...batch.contractRejects, ...(scores?.quarantined ?? [])].sort(
    (a, b) => a.row - b.row,
  );
  if (quarantined.length > 0) {
    const lines = new TextEncoder().encode(quarantineToJsonLines(quarantined));
    await putBytes(context.s3, at('quarantine', '.jsonl'), lines, 'application/x-ndjson');
  }
  const scoredRows = scores ? scores.rowIds.length : 0;
  const rejectedRows = batch.rejectedRows + (scores?.quarantined.length ?? 0);

  const summary: BatchSummary = {
    format: SUMMARY_FORMAT,
    object,
    rows: scoredRows,
    rejectedRows,
    production: scores
      ? tallyOf(scores.production, models.production.version)
      : { version: models.production.version, labelCounts: {} },
    challenger: models.challenger
      ? scores?.challenger
        ? tallyOf(scores.challenger, models.challenger.version)
        : { version: models.challenger.version, labelCounts: {} }
      : null,
    // An object with no valid rows adds nothing to the sums (0), unless there is nothing to compare (null).
    ...(scores?.challenger
      ? comparePair(scores.production, scores.challenger)
      : { agreements: models.challenger ? 0 : null, gapSum: models.challenger ? 0 : null }),
  };
  const summaryAt = await putJson(context.s3, at('summaries', '.json'), summary);
  return {
    object,
    rows: scoredRows,
    rejectedRows,
    predictions,
    shadow,
    summary: summaryAt,
    skipped: null,
  };
}

function skipped(object: S3Pointer, reason: string): PredictBatchOutput {
  return {
    object,
    rows: 0,
    rejectedRows: 0,
    predictions: null,
    shadow: null,
    summary: null,
    skipped: reason,
  };
}

function writePredictions(context: StepContext, at: S3Pointer, frame: Frame): Promise<S3Pointer> {
  return putBytes(context.s3, at, encodeFrame(frame, 'parquet'), 'application/vnd.apache.parquet');
}

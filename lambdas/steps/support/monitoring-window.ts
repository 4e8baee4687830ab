/**
 * The inputs of a pipeline monitoring run, as the core's `runMonitoring` takes them: the current
 * window (every data object of a landing batch) and Production's predicted labels of an
 * inference run (one Parquet file per scored object).
 *
 * `runMonitoring` reads one object per input. A window of one object is handed over as its S3
 * pointer; several are read here, by the contract's column types only (as the core reads a
 * window: a value past the contract's bounds must show up as drift, not vanish), joined, and
 * handed over as one Parquet body. The predicted labels become one `prediction` column, which the
 * core compares with the reference's target: the label distribution the model was trained on.
 */
import { type DataContract, encodeFrame, type Frame, loadAndValidate, loadFrame } from '../../core/data';
import type { MonitoringDataInput } from '../../core/monitoring';
import type { S3Prefix } from '../step-io';
import { concatFrames } from './frame-concat';
import { childPrefixes, dataObjectFormat } from './landing-batches';
import { getBytes, listKeys } from './s3-objects';
import type { StepContext } from './step-context';
import { StepInputError } from './step-errors';

/** The predictions' column the core compares with the reference's target. */
export const PREDICTION_COLUMN = 'prediction';

export interface WindowInput {
  readonly input: MonitoringDataInput;
  readonly objects: number;
}

export async function currentWindowInput(
  context: StepContext,
  at: S3Prefix,
  contract: DataContract,
): Promise<WindowInput> {
  const keys = (await listKeys(context.s3, at.bucket, at.prefix)).filter(
    (key) => dataObjectFormat(key) !== null,
  );
  const only = keys[0];
  if (only === undefined)
    throw new StepInputError('request.current', `no data objects under s3://${at.bucket}/${at.prefix}`);
  if (keys.length === 1) return { input: { bucket: at.bucket, key: only }, objects: 1 };
  const typesOnly: DataContract = {
    ...contract,
    columns: contract.columns.map((column) => ({ name: column.name, type: column.type, nullable: true })),
  };
  const frames = await Promise.all(
    keys.map(async (key) => {
      const source = `s3://${at.bucket}/${key}`;
      const bytes = await getBytes(context.s3, { bucket: at.bucket, key });
      const format = dataObjectFormat(key) ?? 'csv';
      return (await loadAndValidate({ bytes, format, name: source }, typesOnly, { requireTarget: false }))
        .frame;
    }),
  );
  return {
    input: {
      bytes: encodeFrame(concatFrames(frames, 'request.current'), 'parquet', { contract }),
      format: 'parquet',
      name: `s3://${at.bucket}/${at.prefix} (${keys.length} objects)`,
    },
    objects: keys.length,
  };
}

/** Production's predicted labels (a regressor's values) under the prefix; null when there are none. */
export async function predictionsInput(
  context: StepContext,
  at: S3Prefix,
): Promise<MonitoringDataInput | null> {
  const keys = (await listKeys(context.s3, at.bucket, at.prefix)).filter((key) => key.endsWith('.parquet'));
  if (keys.length === 0) return null;
  const frames = await Promise.all(
    keys.map(async (key) =>
      loadFrame({ bytes: await getBytes(context.s3, { bucket: at.bucket, key }), format: 'parquet' }),
    ),
  );
  const all = concatFrames(frames, 'request.predictions');
  const column = all.columns.get('label') ?? all.columns.get('prediction');
  if (!column)
    throw new StepInputError(
      'request.predictions',
      `s3://${at.bucket}/${at.prefix} holds no label or prediction column`,
    );
  const predictions: Frame = { rowCount: all.rowCount, columns: new Map([[PREDICTION_COLUMN, column]]) };
  return {
    bytes: encodeFrame(predictions, 'parquet'),
    format: 'parquet',
    name: `s3://${at.bucket}/${at.prefix}`,
  };
}

/**
 * Production's predictions of the newest inference run (`predictions/<runId>/production/`), or
 * null when there has been none. Run ids sort by time, so the newest is the last.
 */
export async function newestProductionPredictions(context: StepContext): Promise<S3Prefix | null> {
  const bucket = context.config.buckets.predictions;
  const runs = (await childPrefixes(context.s3, bucket, 'predictions/')).filter((p) =>
    p.startsWith('predictions/i-'),
  );
  const newest = runs.at(-1);
  return newest ? { bucket, prefix: `${newest}production/` } : null;
}

/** A predictions prefix as given: an inference run's output means its `production/` files. */
export function productionPredictions(given: S3Prefix): S3Prefix {
  return given.prefix.endsWith('production/') ? given : { ...given, prefix: `${given.prefix}production/` };
}

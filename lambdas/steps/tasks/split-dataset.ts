/**
 * Split: the valid rows into train and test (time split when the contract has a time column,
 * else a seeded random split, stratified for classification), and the reference set drift is
 * measured against (the training rows, as the core defines it). What the trainers need to decode
 * the splits the same way later — category levels and class order of the whole valid frame, the
 * seed, the content digest — goes to `work/<runId>/split.json` for publish-dataset.
 */
import { encodeFrame, loadFrame, splitFrame } from '../../core/data';
import { DEFAULT_TEST_FRACTION, DEFAULT_TRAINING_SEED } from '../../core/lifecycle/prepare-dataset';
import { categoryLevelsOf, toTrainingData } from '../../core/lifecycle/trainer-input';
import type { SplitDatasetInput, SplitDatasetOutput } from '../step-io';
import { getBytes, putBytes } from '../support/s3-objects';
import type { StepContext } from '../support/step-context';
import { readWorkContract, workObject, writeWorkJson } from '../support/work-area';

/** `work/<runId>/split.json`. */
export interface SplitMetadata {
  readonly version: string;
  readonly digest: string;
  readonly method: 'random' | 'time';
  readonly seed: number | null;
  readonly testFraction: number;
  readonly levels: Readonly<Record<string, readonly string[]>>;
  readonly classes: readonly string[] | null;
}

export async function splitDataset(
  input: SplitDatasetInput,
  context: StepContext,
): Promise<SplitDatasetOutput> {
  const contract = await readWorkContract(context, input.runId);
  const frame = await loadFrame(
    { bytes: await getBytes(context.s3, input.valid), format: 'parquet', name: input.valid.key },
    { contract },
  );
  const split = splitFrame(
    frame,
    contract,
    contract.time_column
      ? { method: 'time', testFraction: DEFAULT_TEST_FRACTION }
      : { method: 'random', seed: DEFAULT_TRAINING_SEED, testFraction: DEFAULT_TEST_FRACTION },
  );
  const levels = categoryLevelsOf(frame);
  // The class order the trainers number labels by, fixed once for every split.
  const whole = toTrainingData(frame, contract, levels);
  const metadata: SplitMetadata = {
    version: split.version,
    digest: split.digests.dataset,
    method: split.method,
    seed: split.seed,
    testFraction: DEFAULT_TEST_FRACTION,
    levels,
    classes: whole.task === 'classification' ? whole.classes : null,
  };
  const train = workObject(context, input.runId, 'train.parquet');
  const test = workObject(context, input.runId, 'test.parquet');
  const reference = workObject(context, input.runId, 'reference.parquet');
  const trainBytes = encodeFrame(split.train, 'parquet', { contract });
  await Promise.all([
    putBytes(context.s3, train, trainBytes),
    putBytes(context.s3, test, encodeFrame(split.test, 'parquet', { contract })),
    putBytes(context.s3, reference, encodeFrame(split.reference, 'parquet', { contract })),
    writeWorkJson(context, input.runId, 'split.json', metadata),
  ]);
  return {
    train,
    test,
    reference,
    rows: { train: split.train.rowCount, test: split.test.rowCount, reference: split.reference.rowCount },
  };
}

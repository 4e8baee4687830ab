/**
 * Step 1 of a training run: load the data, check it against the contract (quarantining broken
 * rows), split it, and leave the splits in the blob store. Returns small JSON: what the later
 * steps need to find and decode the splits, never the rows themselves.
 *
 * Rejected rows: they are quarantined (written with their reasons), counted and reported with
 * their row and column, and training goes on with the valid rows — unless nothing valid is left,
 * or more than `maxQuarantinedShare` of the rows broke the contract. A few bad rows are noise;
 * a large share usually means the source changed (a renamed unit, a new category), and a model
 * quietly trained on what is left would be registered as if nothing happened.
 */
import { randomUUID } from 'node:crypto';
import {
  contractVersion,
  type DataContract,
  encodeFrame,
  type Frame,
  featureNames,
  loadAndValidate,
  loadFrame,
  type QuarantinedRow,
  quarantineToJsonLines,
  splitFrame,
} from '../data';
import { frameDigest } from '../data/digest';
import type { Task } from '../training/model-types';
import type { TrainingData } from '../training/training-data';
import type { BlobStore, BlobUri } from './blob-store';
import { type DatasetSource, resolveTrainingDataset } from './dataset-source';
import { DatasetRejectedError, type RowRejection, TrainingRequestError } from './errors';
import { type CategoryLevels, categoryLevelsOf, toTrainingData } from './trainer-input';

/** More rejected rows than this share fails the run (see the module comment). */
export const DEFAULT_MAX_QUARANTINED_SHARE = 0.1;
export const DEFAULT_TRAINING_SEED = 42;
export const DEFAULT_TEST_FRACTION = 0.2;
/** Rejections kept in the prepared dataset (and shown to people); the quarantine file has them all. */
const REJECTION_SAMPLE = 10;

export interface PrepareRequest {
  readonly dataset: DatasetSource;
  /** Overrides the contract the dataset brings (a file's `input_schema.json` beside it, a bundled one). */
  readonly contract?: DataContract;
  /** Seeds the split (and, later, the trainers). @default 42 */
  readonly seed?: number;
  /** @default 0.2 */
  readonly testFraction?: number;
  /**
   * `time` holds out the newest rows (by the contract's `time_column`): the honest test for data
   * a model will meet later. @default `time` when the contract has a time column, else `random`
   * (stratified by class for classification).
   */
  readonly split?: SplitMethod;
  /** In [0, 1]: 0 fails on any broken row, 1 only when no valid row is left. @default 0.1 */
  readonly maxQuarantinedShare?: number;
  /** Names this training run in the blob store; a fresh id when not given. */
  readonly runKey?: string;
}

export type SplitMethod = 'random' | 'time';

export interface PreparedDataset {
  readonly runKey: string;
  readonly name: string;
  /** Where the rows came from: a path, `bundled:iris`, `frame:<name>`. */
  readonly source: string;
  /** `sha256-<16 hex>` of the valid rows: equal data, equal version, whatever the file format. */
  readonly version: string;
  /** The full hex sha256 of the valid rows. */
  readonly digest: string;
  readonly contract: DataContract;
  readonly contractVersion: string;
  readonly task: Task;
  readonly target: string;
  readonly features: readonly string[];
  /** Class names in index order (classification), fixed for every split. */
  readonly classes: readonly string[] | null;
  readonly levels: CategoryLevels;
  readonly seed: number;
  readonly testFraction: number;
  readonly split: SplitMethod;
  readonly rows: {
    readonly input: number;
    readonly valid: number;
    readonly quarantined: number;
    readonly train: number;
    readonly test: number;
  };
  /** The first rejected rows with their column and reason. */
  readonly rejections: readonly RowRejection[];
  readonly splits: { readonly train: BlobUri; readonly test: BlobUri };
  /** JSON Lines of every rejected row (row, reasons, original values); null when none was. */
  readonly quarantine: BlobUri | null;
}

export async function prepareDataset(request: PrepareRequest, store: BlobStore): Promise<PreparedDataset> {
  const seed = request.seed ?? DEFAULT_TRAINING_SEED;
  const testFraction = request.testFraction ?? DEFAULT_TEST_FRACTION;
  const maxShare = request.maxQuarantinedShare ?? DEFAULT_MAX_QUARANTINED_SHARE;
  checkRequest(seed, testFraction, maxShare);

  const dataset = await resolveTrainingDataset(request.dataset, request.contract);
  const { contract } = dataset;
  // A frame given as already validated is taken as is: its rows were checked where it was made.
  const validated =
    dataset.kind === 'file'
      ? await loadAndValidate(dataset.input, contract)
      : {
          frame: dataset.frame,
          quarantined: [],
          counts: { input: dataset.frame.rowCount, valid: dataset.frame.rowCount, quarantined: 0 },
        };
  const { frame, quarantined, counts } = validated;
  checkRejections(dataset.name, counts.input, quarantined, maxShare);

  const runKey = request.runKey ?? randomUUID();
  const prefix = `training-runs/${runKey}`;
  const method = request.split ?? (contract.time_column ? 'time' : 'random');
  if (method === 'time' && !contract.time_column) {
    throw new TrainingRequestError(
      'split',
      `a time split needs a time_column in the data contract of ${dataset.name}`,
    );
  }
  const split = splitFrame(
    frame,
    contract,
    method === 'time' ? { method, testFraction } : { method, seed, testFraction },
  );
  const [train, test, quarantine] = await Promise.all([
    store.put(`${prefix}/train.parquet`, encodeFrame(split.train, 'parquet', { contract })),
    store.put(`${prefix}/test.parquet`, encodeFrame(split.test, 'parquet', { contract })),
    quarantined.length > 0
      ? store.put(`${prefix}/quarantine.jsonl`, Buffer.from(quarantineToJsonLines(quarantined)))
      : Promise.resolve(null),
  ]);
  const levels = categoryLevelsOf(frame);
  return {
    runKey,
    name: dataset.name,
    source: dataset.source,
    version: split.version,
    digest: frameDigest(frame),
    contract,
    contractVersion: contractVersion(contract),
    task: contract.task,
    target: contract.target,
    features: featureNames(contract),
    classes: contract.task === 'classification' ? classesOf(frame, contract) : null,
    levels,
    seed,
    testFraction,
    split: method,
    rows: {
      input: counts.input,
      valid: counts.valid,
      quarantined: counts.quarantined,
      train: split.train.rowCount,
      test: split.test.rowCount,
    },
    rejections: sampleRejections(quarantined),
    splits: { train, test },
    quarantine,
  };
}

function checkRequest(seed: number, testFraction: number, maxShare: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new TrainingRequestError('seed', `must be an integer in 0..4294967295, got ${seed}`);
  }
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new TrainingRequestError(
      'testFraction',
      `must be between 0 and 1 (exclusive), got ${testFraction}`,
    );
  }
  if (!(maxShare >= 0 && maxShare <= 1)) {
    throw new TrainingRequestError('maxQuarantinedShare', `must be between 0 and 1, got ${maxShare}`);
  }
}

function checkRejections(
  name: string,
  input: number,
  quarantined: readonly QuarantinedRow[],
  maxShare: number,
): void {
  if (quarantined.length === 0) return;
  const examples = sampleRejections(quarantined);
  const first = examples[0] as RowRejection;
  const where = `row ${first.row}: ${first.reason}`;
  const details = { dataset: name, rows: input, rejected: quarantined.length, examples };
  if (quarantined.length === input) {
    throw new DatasetRejectedError(
      'NO_VALID_ROWS',
      `dataset ${name} rejected: all ${input} rows break the data contract (first: ${where})`,
      details,
    );
  }
  const share = quarantined.length / input;
  if (share > maxShare) {
    throw new DatasetRejectedError(
      'TOO_MANY_REJECTED',
      `dataset ${name} rejected: ${quarantined.length} of ${input} rows (${percent(share)}) break the data contract, ` +
        `over the ${percent(maxShare)} allowed (first: ${where})`,
      details,
    );
  }
}

function sampleRejections(quarantined: readonly QuarantinedRow[]): RowRejection[] {
  return quarantined.slice(0, REJECTION_SAMPLE).map((row) => {
    const reason = row.reasons[0];
    return {
      row: row.row,
      column: reason?.column ?? null,
      // The data module's messages start with "row n: "; the row is a field of its own here.
      reason: (reason?.message ?? 'broken row').replace(/^row \d+: /, ''),
    };
  });
}

/** Class names in class-index order, as `labelVector` numbers them for the whole valid frame. */
function classesOf(frame: Frame, contract: DataContract): string[] {
  const column = frame.columns.get(contract.target);
  if (!column) return [];
  if (column.kind === 'categorical') return [...column.levels];
  const type = contract.columns.find((c) => c.name === contract.target)?.type;
  const distinct = [...new Set(column.values)].filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  return distinct.map((value) => (type === 'boolean' ? String(value === 1) : String(value)));
}

function percent(share: number): string {
  return `${Number((share * 100).toFixed(1))}%`;
}

/** A split as the trainers take it, read back from the store with the dataset's pinned levels and classes. */
export async function loadSplit(
  prepared: PreparedDataset,
  which: 'train' | 'test',
  store: BlobStore,
): Promise<TrainingData> {
  const uri = prepared.splits[which];
  const frame = await loadFrame(
    { bytes: await store.get(uri), format: 'parquet', name: uri },
    { contract: prepared.contract },
  );
  return toTrainingData(frame, prepared.contract, prepared.levels, prepared.classes ?? undefined);
}

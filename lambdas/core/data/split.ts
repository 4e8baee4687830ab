/**
 * Train/test splits of a validated frame, with the digests that version each part.
 *
 * - random: a seeded shuffle (SeededRandom, see ../seeded-random.ts), stratified by the target for
 *   classification by default, so each class keeps its share in both parts;
 * - time: rows ordered by the contract's time column, the oldest go to train, the newest to test
 *   (what a model meets in production is newer than what it learned from).
 *
 * The reference set drift is measured against is the training set.
 */

import { SeededRandom } from '../seeded-random';
import type { DataContract } from './contract';
import { datasetVersion, frameDigest } from './digest';
import { DataError } from './errors';
import { type Frame, takeRows } from './frame';

export type SplitOptions =
  | {
      readonly method: 'random';
      /** Share of rows in the test set, in (0, 1). Default 0.2. */
      readonly testFraction?: number;
      /** Default 42. */
      readonly seed?: number;
      /** Keep each class's share in both sets. Default: true for classification, and only allowed there. */
      readonly stratify?: boolean;
    }
  | {
      readonly method: 'time';
      readonly testFraction?: number;
    };

export interface SplitDigests {
  /** Hex sha256 of each part (see digest.ts). */
  readonly dataset: string;
  readonly train: string;
  readonly test: string;
  readonly reference: string;
}

export interface DatasetSplit {
  readonly method: 'random' | 'time';
  readonly stratified: boolean;
  readonly seed: number | null;
  readonly train: Frame;
  readonly test: Frame;
  /** The training rows: the set drift is measured against. */
  readonly reference: Frame;
  /**
   * 0-based rows of the input frame in each part, in the part's order: input order for a
   * random split, time order for a time split.
   */
  readonly trainRows: Int32Array;
  readonly testRows: Int32Array;
  readonly digests: SplitDigests;
  /** `sha256-<16 hex>` of the whole input frame (see `datasetVersion`). */
  readonly version: string;
}

export const DEFAULT_TEST_FRACTION = 0.2;
export const DEFAULT_SEED = 42;

export function splitFrame(frame: Frame, contract: DataContract, options: SplitOptions): DatasetSplit {
  const testFraction = options.testFraction ?? DEFAULT_TEST_FRACTION;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new DataError(
      'INVALID_OPTIONS',
      `testFraction must be between 0 and 1 (exclusive), got ${testFraction}`,
      {
        field: 'testFraction',
      },
    );
  }
  if (frame.rowCount < 2) {
    throw new DataError('INVALID_FRAME', `a split needs at least 2 rows, the frame has ${frame.rowCount}`);
  }
  // As scikit-learn's train_test_split: the test set gets ceil(n · fraction) rows; train keeps at least one.
  const testCount = Math.min(Math.ceil(frame.rowCount * testFraction), frame.rowCount - 1);

  let trainRows: Int32Array;
  let testRows: Int32Array;
  let stratified = false;
  let seed: number | null = null;
  if (options.method === 'time') {
    const order = timeOrder(frame, contract);
    trainRows = order.slice(0, frame.rowCount - testCount);
    testRows = order.slice(frame.rowCount - testCount);
  } else {
    seed = options.seed ?? DEFAULT_SEED;
    if (!Number.isInteger(seed)) {
      throw new DataError('INVALID_OPTIONS', `seed must be an integer, got ${seed}`, { field: 'seed' });
    }
    stratified = options.stratify ?? contract.task === 'classification';
    if (stratified && contract.task !== 'classification') {
      throw new DataError(
        'INVALID_OPTIONS',
        'stratify applies to classification; this contract is regression',
        {
          field: 'stratify',
        },
      );
    }
    const isTest = stratified
      ? stratifiedTestRows(frame, contract.target, testCount, seed)
      : randomTestRows(frame.rowCount, testCount, seed);
    trainRows = new Int32Array(frame.rowCount - testCount);
    testRows = new Int32Array(testCount);
    let train = 0;
    let test = 0;
    for (let row = 0; row < frame.rowCount; row++) {
      if (isTest[row] === 1) testRows[test++] = row;
      else trainRows[train++] = row;
    }
  }
  const train = takeRows(frame, trainRows);
  const test = takeRows(frame, testRows);
  const dataset = frameDigest(frame);
  const trainDigest = frameDigest(train);
  return {
    method: options.method,
    stratified,
    seed,
    train,
    test,
    reference: train,
    trainRows,
    testRows,
    digests: { dataset, train: trainDigest, test: frameDigest(test), reference: trainDigest },
    version: datasetVersion(frame),
  };
}

function randomTestRows(rowCount: number, testCount: number, seed: number): Uint8Array {
  const rows = Int32Array.from({ length: rowCount }, (_, i) => i);
  new SeededRandom(seed).shuffle(rows);
  const isTest = new Uint8Array(rowCount);
  for (let i = 0; i < testCount; i++) isTest[rows[i] as number] = 1;
  return isTest;
}

/**
 * Each class (missing target: its own group) gives floor(share) test rows, and the rows left
 * over go to the classes with the largest remainders (ties: first class first), so the total is
 * exactly `testCount`. Within a class the rows are drawn by a seeded shuffle.
 */
function stratifiedTestRows(frame: Frame, target: string, testCount: number, seed: number): Uint8Array {
  const column = frame.columns.get(target);
  if (!column) {
    throw new DataError('INVALID_FRAME', `a stratified split needs the target column "${target}"`, {
      field: target,
    });
  }
  const groups = new Map<number, number[]>();
  for (let row = 0; row < frame.rowCount; row++) {
    const key =
      column.kind === 'categorical' ? (column.codes[row] as number) : (column.values[row] as number);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  // Sorted keys (NaN last), so the allocation does not depend on which class comes first in the file.
  const keys = [...groups.keys()].sort((a, b) => (Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b));
  const quotas = keys.map((key) => ((groups.get(key) as number[]).length * testCount) / frame.rowCount);
  const counts = quotas.map(Math.floor);
  let left = testCount - counts.reduce((sum, count) => sum + count, 0);
  const byRemainder = quotas.map((quota, i) => ({ i, remainder: quota - Math.floor(quota) }));
  byRemainder.sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left-- <= 0) break;
    counts[i] = (counts[i] as number) + 1;
  }
  const random = new SeededRandom(seed);
  const isTest = new Uint8Array(frame.rowCount);
  keys.forEach((key, i) => {
    const rows = groups.get(key) as number[];
    random.shuffle(rows);
    for (let k = 0; k < (counts[i] as number); k++) isTest[rows[k] as number] = 1;
  });
  return isTest;
}

/** Row indices by ascending time, ties in input order. */
function timeOrder(frame: Frame, contract: DataContract): Int32Array {
  const name = contract.time_column;
  if (!name) {
    throw new DataError('INVALID_OPTIONS', 'a time split needs a time_column in the data contract', {
      field: 'time_column',
    });
  }
  const column = frame.columns.get(name);
  if (column?.kind !== 'numeric') {
    throw new DataError('INVALID_FRAME', `a time split needs the time column "${name}" in the frame`, {
      field: name,
    });
  }
  const times = column.values;
  const missing = times.findIndex(Number.isNaN);
  if (missing !== -1) {
    throw new DataError(
      'INVALID_FRAME',
      `a time split needs a time in every row; row ${missing + 1} has none`,
      {
        field: name,
        row: missing + 1,
      },
    );
  }
  const order = Int32Array.from({ length: frame.rowCount }, (_, i) => i);
  return order.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
}

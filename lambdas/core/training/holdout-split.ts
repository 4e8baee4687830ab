/**
 * A seeded random train/test split of the rows, for tests, benchmarks and ad-hoc evaluation
 * (the data pipeline's own split lives with the data pipeline).
 */

import { SeededRandom } from '../seeded-random';
import { TrainingDataError } from './errors';
import { selectRows, type TrainingData } from './training-data';

export interface HoldoutSplit<T extends TrainingData> {
  readonly train: T;
  readonly test: T;
}

/** Shuffles the rows with `seed` and puts round(rows × testFraction) of them in the test set. */
export function holdoutSplit<T extends TrainingData>(
  data: T,
  testFraction: number,
  seed: number,
): HoldoutSplit<T> {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new TrainingDataError('SHAPE_MISMATCH', `testFraction must be in (0, 1), got ${testFraction}`);
  }
  const order = new SeededRandom(seed).permutation(data.rows);
  const testRows = Math.round(data.rows * testFraction);
  if (testRows === 0 || testRows === data.rows) {
    throw new TrainingDataError(
      'EMPTY_DATA',
      `${data.rows} rows cannot be split ${1 - testFraction}/${testFraction} into two non-empty sets`,
    );
  }
  return {
    train: selectRows(data, order.subarray(testRows)),
    test: selectRows(data, order.subarray(0, testRows)),
  };
}

import { describe, expect, it } from 'vitest';
import { holdoutSplit } from '../../lambdas/core/training';
import { loadIris } from '../support/training-fixtures';

describe('holdoutSplit', () => {
  const iris = loadIris();

  it('puts every row in exactly one of train and test, with the same seed giving the same split', () => {
    const { train, test } = holdoutSplit(iris, 0.3, 9);
    expect(train.rows + test.rows).toBe(150);
    const key = (x: Float64Array, i: number) => Array.from(x.subarray(i * 4, i * 4 + 4)).join(',');
    const all = [
      ...Array.from({ length: train.rows }, (_, i) => key(train.x, i)),
      ...Array.from({ length: test.rows }, (_, i) => key(test.x, i)),
    ].sort();
    const original = Array.from({ length: 150 }, (_, i) => key(iris.x, i)).sort();
    expect(all).toEqual(original);
    expect(holdoutSplit(iris, 0.3, 9).test.x).toEqual(test.x);
    expect(holdoutSplit(iris, 0.3, 10).test.x).not.toEqual(test.x);
  });

  it('refuses a fraction that leaves one side empty', () => {
    expect(() => holdoutSplit(iris, 1, 0)).toThrowError(
      expect.objectContaining({ name: 'TrainingDataError' }),
    );
    expect(() => holdoutSplit(iris, 0.001, 0)).toThrowError(expect.objectContaining({ code: 'EMPTY_DATA' }));
  });
});

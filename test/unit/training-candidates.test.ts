import { describe, expect, it } from 'vitest';
import {
  CandidateSpecError,
  type ClassificationData,
  defaultCandidates,
  evaluate,
  holdoutSplit,
  parseCandidateSpec,
  predict,
  type RegressionData,
  rankCandidates,
  selectBest,
  selectRows,
  TrainingDataError,
  trainCandidate,
} from '../../lambdas/core/training';
import { loadIris } from '../support/training-fixtures';

const iris = loadIris();
const logistic = parseCandidateSpec({ name: 'lr', family: 'logistic_regression' });

describe('candidate specs', () => {
  it('lists one default candidate per family that fits the task', () => {
    expect(defaultCandidates('classification').map((spec) => spec.family)).toEqual([
      'logistic_regression',
      'random_forest',
      'gradient_boosting',
    ]);
    expect(defaultCandidates('regression').map((spec) => spec.family)).toEqual([
      'ridge',
      'random_forest',
      'gradient_boosting',
    ]);
  });

  it('fills missing hyper-parameters with their defaults', () => {
    expect(
      parseCandidateSpec({ name: 'gb', family: 'gradient_boosting', params: { learning_rate: 0.05 } }),
    ).toEqual({
      name: 'gb',
      family: 'gradient_boosting',
      params: {
        max_iter: 100,
        learning_rate: 0.05,
        max_leaf_nodes: 31,
        max_depth: 0,
        min_samples_leaf: 20,
        l2_regularization: 0,
        max_bins: 255,
      },
    });
  });

  it('rejects an unknown family, naming the known ones', () => {
    expect(() => parseCandidateSpec({ name: 'x', family: 'svm' })).toThrowError(
      expect.objectContaining({
        name: 'CandidateSpecError',
        field: 'family',
        message: expect.stringContaining('ridge'),
      }),
    );
  });

  it('rejects a misspelt hyper-parameter instead of ignoring it', () => {
    expect(() =>
      parseCandidateSpec({ name: 'rf', family: 'random_forest', params: { max_dept: 3 } }),
    ).toThrowError(
      expect.objectContaining({ field: 'params', message: expect.stringContaining('max_dept') }),
    );
  });

  it('rejects an out-of-range hyper-parameter, naming it', () => {
    expect(() =>
      parseCandidateSpec({ name: 'rf', family: 'random_forest', params: { n_estimators: 0 } }),
    ).toThrowError(expect.objectContaining({ field: 'params.n_estimators' }));
    expect(() => parseCandidateSpec({ name: 'r', family: 'ridge', params: { alpha: 0 } })).toThrowError(
      expect.objectContaining({ field: 'params.alpha' }),
    );
  });
});

describe('trainCandidate', () => {
  it('refuses a family that does not do the task', () => {
    const ridge = parseCandidateSpec({ name: 'r', family: 'ridge' });
    expect(() => trainCandidate(ridge, iris, 0)).toThrowError(
      expect.objectContaining({ name: 'CandidateSpecError', field: 'family' }),
    );
  });

  it('refuses a seed that is not a 32-bit unsigned integer', () => {
    expect(() => trainCandidate(logistic, iris, 1.5)).toThrowError(CandidateSpecError);
    expect(() => trainCandidate(logistic, iris, -1)).toThrowError(expect.objectContaining({ field: 'seed' }));
  });

  it('names the feature and row of a missing value', () => {
    const x = Float64Array.from(iris.x);
    x[7 * 4 + 2] = Number.NaN;
    expect(() => trainCandidate(logistic, { ...iris, x }, 0)).toThrowError(
      expect.objectContaining({ code: 'NOT_FINITE', field: iris.features[2], row: 7 }),
    );
  });

  it('refuses training rows of a single class', () => {
    const setosa = holdoutSplit(iris, 0.5, 0).train;
    const oneClass: ClassificationData = { ...setosa, y: new Int32Array(setosa.rows) };
    expect(() => trainCandidate(logistic, oneClass, 0)).toThrowError(
      expect.objectContaining({ code: 'SINGLE_CLASS', message: expect.stringContaining("'setosa'") }),
    );
  });

  it('refuses empty data, labels out of range and a mis-sized matrix', () => {
    const empty: ClassificationData = { ...iris, x: new Float64Array(0), y: new Int32Array(0), rows: 0 };
    expect(() => trainCandidate(logistic, empty, 0)).toThrowError(
      expect.objectContaining({ code: 'EMPTY_DATA' }),
    );
    const y = Int32Array.from(iris.y);
    y[3] = 5;
    expect(() => trainCandidate(logistic, { ...iris, y }, 0)).toThrowError(
      expect.objectContaining({ code: 'INVALID_LABEL', row: 3 }),
    );
    expect(() => trainCandidate(logistic, { ...iris, cols: 3 }, 0)).toThrowError(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
  });

  it('trains when a declared class has no training rows, giving it a near-zero probability', () => {
    const twoClasses = selectRows(
      iris,
      Array.from(iris.y.keys()).filter((i) => iris.y[i] !== 2),
    );
    for (const spec of defaultCandidates('classification')) {
      const model = trainCandidate(spec, twoClasses, 0);
      const prediction = predict(model, iris.x, iris.rows);
      if (prediction.task !== 'classification') throw new Error('expected a classification');
      expect(prediction.probabilities.every(Number.isFinite)).toBe(true);
      expect(Math.max(...prediction.probabilities.filter((_, i) => i % 3 === 2))).toBeLessThan(0.05);
    }
  });

  it('refuses a non-finite regression target', () => {
    const y = Float64Array.from({ length: 150 }, (_, i) => i);
    y[10] = Number.POSITIVE_INFINITY;
    const data: RegressionData = {
      task: 'regression',
      x: iris.x,
      rows: 150,
      cols: 4,
      features: iris.features,
      y,
    };
    const ridge = parseCandidateSpec({ name: 'r', family: 'ridge' });
    expect(() => trainCandidate(ridge, data, 0)).toThrowError(TrainingDataError);
  });
});

describe('evaluate', () => {
  const model = trainCandidate(logistic, iris, 0);

  it('refuses data whose features differ from the model', () => {
    const renamed = { ...iris, features: ['a', 'b', 'c', 'd'] };
    expect(() => evaluate(model, renamed)).toThrowError(
      expect.objectContaining({ code: 'FEATURE_MISMATCH', field: 'features' }),
    );
  });

  it('refuses data whose classes differ from the model', () => {
    const reordered = { ...iris, classes: [...iris.classes].reverse() };
    expect(() => evaluate(model, reordered)).toThrowError(
      expect.objectContaining({ code: 'FEATURE_MISMATCH', field: 'classes' }),
    );
  });
});

describe('selectBest', () => {
  const results = [
    { name: 'a', metrics: { accuracy: 0.9, log_loss: 0.3, rmse: 2 } },
    { name: 'b', metrics: { accuracy: 0.95, log_loss: 0.35, rmse: 1 } },
    { name: 'c', metrics: { accuracy: 0.95, log_loss: 0.2 } },
    { name: 'd', metrics: { accuracy: Number.NaN, log_loss: 0.1 } },
  ];

  it('takes the highest of a higher-is-better metric, the first one on ties', () => {
    expect(selectBest(results, 'accuracy').name).toBe('b');
    expect(rankCandidates(results, 'accuracy').map((r) => r.name)).toEqual(['b', 'c', 'a']);
  });

  it('takes the lowest of a lower-is-better metric, skipping candidates without it', () => {
    expect(selectBest(results, 'log_loss').name).toBe('d');
    expect(rankCandidates(results, 'rmse').map((r) => r.name)).toEqual(['b', 'a']);
  });

  it('refuses an unknown metric and a metric no candidate has', () => {
    // @ts-expect-error: a metric name from untyped JSON
    expect(() => selectBest(results, 'precision')).toThrowError(expect.objectContaining({ field: 'metric' }));
    expect(() => selectBest(results, 'r2')).toThrowError("finite 'r2'");
  });
});

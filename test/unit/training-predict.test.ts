import { describe, expect, it } from 'vitest';
import {
  type ClassificationData,
  type LinearModel,
  labelNames,
  parseCandidateSpec,
  predict,
  TrainingDataError,
  type TreeEnsembleModel,
  trainCandidate,
} from '../../lambdas/core/training';
import { binFeatures } from '../../lambdas/core/training/feature-binning';

// One stump on feature 1 at 2.5; leaves carry [class0, class1, class2] votes.
const stump = {
  feature: [1, -1, -1],
  threshold: [2.5, 0, 0],
  left: [1, -1, -1],
  right: [2, -1, -1],
  value: [[], [1, 0, 0], [0, 0.25, 0.75]],
};

describe('predict on hand-built models', () => {
  it('sends x <= threshold left, larger and NaN right, and averages a forest', () => {
    const model: TreeEnsembleModel = {
      kind: 'trees',
      task: 'classification',
      features: ['a', 'b'],
      classes: ['x', 'y', 'z'],
      trees: [stump, { ...stump, threshold: [3.5, 0, 0] }],
      aggregate: 'average',
      baseValues: [0, 0, 0],
      postTransform: 'none',
    };
    const x = Float64Array.from([0, 2.5, 0, 3, 0, 4, 0, Number.NaN]);
    const prediction = predict(model, x, 4);
    if (prediction.task !== 'classification') throw new Error('expected a classification');
    expect(Array.from(prediction.probabilities)).toEqual([
      1, 0, 0, 0.5, 0.125, 0.375, 0, 0.25, 0.75, 0, 0.25, 0.75,
    ]);
    expect(labelNames(prediction)).toEqual(['x', 'x', 'z', 'z']);
  });

  it('applies base values and the logistic post-transform to a binary boosted model', () => {
    const model: TreeEnsembleModel = {
      kind: 'trees',
      task: 'classification',
      features: ['a'],
      classes: ['no', 'yes'],
      trees: [
        {
          feature: [0, -1, -1],
          threshold: [0, 0, 0],
          left: [1, -1, -1],
          right: [2, -1, -1],
          value: [[], [-1], [2]],
        },
      ],
      aggregate: 'sum',
      baseValues: [0.5],
      postTransform: 'logistic',
    };
    const prediction = predict(model, Float64Array.from([-1, 1]), 2);
    if (prediction.task !== 'classification') throw new Error('expected a classification');
    const p0 = 1 / (1 + Math.exp(0.5)); // σ(-0.5) for class 'yes'
    const p1 = 1 / (1 + Math.exp(-2.5));
    expect(prediction.probabilities[0]).toBeCloseTo(1 - p0, 15);
    expect(prediction.probabilities[1]).toBeCloseTo(p0, 15);
    expect(prediction.probabilities[3]).toBeCloseTo(p1, 15);
    expect(Array.from(prediction.labels)).toEqual([0, 1]);
  });

  it('compares in float32: an input that rounds to the threshold goes left', () => {
    const threshold = Math.fround(0.1); // 0.10000000149011612
    const model: TreeEnsembleModel = {
      kind: 'trees',
      task: 'regression',
      features: ['a'],
      trees: [
        {
          feature: [0, -1, -1],
          threshold: [threshold, 0, 0],
          left: [1, -1, -1],
          right: [2, -1, -1],
          value: [[], [10], [20]],
        },
      ],
      aggregate: 'sum',
      baseValues: [1],
      postTransform: 'none',
    };
    // 0.1000000016 > threshold in float64, but is the same float32.
    const prediction = predict(model, Float64Array.from([0.1000000016, 0.1000001]), 2);
    expect(prediction.task === 'regression' && Array.from(prediction.values)).toEqual([11, 21]);
  });

  it('standardises, then applies coefficients and the softmax of a linear model', () => {
    const model: LinearModel = {
      kind: 'linear',
      task: 'classification',
      features: ['a', 'b'],
      classes: ['p', 'q'],
      scaler: { mean: [1, 2], scale: [2, 4] },
      coefficients: [
        [1, 0],
        [0, 1],
      ],
      intercepts: [0, 1],
      link: 'softmax',
    };
    // z = [(3-1)/2, (6-2)/4] = [1, 1]: scores [1, 2].
    const prediction = predict(model, Float64Array.from([3, 6]), 1);
    if (prediction.task !== 'classification') throw new Error('expected a classification');
    expect(prediction.probabilities[1]).toBeCloseTo(Math.exp(2) / (Math.exp(1) + Math.exp(2)), 15);
    expect(Array.from(prediction.labels)).toEqual([1]);
  });

  it('rejects a matrix that does not have the model features', () => {
    const model: LinearModel = {
      kind: 'linear',
      task: 'regression',
      features: ['a', 'b'],
      coefficients: [[1, 1]],
      intercepts: [0],
      link: 'identity',
    };
    expect(() => predict(model, new Float64Array(3), 1)).toThrowError(TrainingDataError);
  });
});

describe('float32 thresholds', () => {
  it('bins on float32 values, with float32 edges strictly between consecutive values', () => {
    const x = Float64Array.from([1, 1 + 1e-12, 2, 2.5, 2.5, 7]);
    const binned = binFeatures({ x, rows: 6, cols: 1, features: ['a'] }, 255, 0);
    // 1 and 1 + 1e-12 are the same float32: one bin. Then 2, 2.5 and 7.
    expect(Array.from(binned.bins)).toEqual([0, 0, 1, 2, 2, 3]);
    const edges = Array.from(binned.edges[0] ?? []);
    expect(edges).toEqual([1.5, 2.25, 4.75]);
    for (const edge of edges) expect(Math.fround(edge)).toBe(edge);
  });

  it('caps the bins at max_bins with quantile edges', () => {
    const x = Float64Array.from({ length: 1000 }, (_, i) => i / 7);
    const binned = binFeatures({ x, rows: 1000, cols: 1, features: ['a'] }, 16, 0);
    expect(binned.edges[0]).toHaveLength(15);
    const counts = new Array<number>(16).fill(0);
    for (const bin of binned.bins) counts[bin] = (counts[bin] as number) + 1;
    // Quantile bins of distinct values hold about 1000/16 rows each.
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(60);
    expect(Math.max(...counts)).toBeLessThanOrEqual(65);
  });

  it('never separates rows whose features are equal in float32, and predicts training rows as trained', () => {
    // Labels differ only below float32 resolution (1e-9) in feature a; feature b carries no signal.
    const rows = 40;
    const x = new Float64Array(rows * 2);
    const y = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      x[2 * i] = i % 2 === 0 ? 1 : 1 + 1e-9;
      x[2 * i + 1] = i % 5;
      y[i] = i % 2;
    }
    const data: ClassificationData = {
      task: 'classification',
      x,
      rows,
      cols: 2,
      features: ['a', 'b'],
      y,
      classes: ['u', 'v'],
    };
    const spec = parseCandidateSpec({
      name: 'rf',
      family: 'random_forest',
      params: { n_estimators: 3, max_features: 'all', bootstrap: false },
    });
    const model = trainCandidate(spec, data, 0) as TreeEnsembleModel;
    for (const tree of model.trees) {
      tree.feature.forEach((feature, node) => {
        if (tree.left[node] === -1) return;
        expect(feature).toBe(1);
        expect(Math.fround(tree.threshold[node] as number)).toBe(tree.threshold[node]);
      });
    }
    const prediction = predict(model, x, rows);
    if (prediction.task !== 'classification') throw new Error('expected a classification');
    // Every leaf holds rows with both labels in equal share: 0.5 each.
    expect(new Set(prediction.probabilities)).toEqual(new Set([0.5]));
  });
});

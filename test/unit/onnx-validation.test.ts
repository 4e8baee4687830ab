import { describe, expect, it } from 'vitest';
import { exportToOnnx, OnnxExportError } from '../../lambdas/core/onnx';
import type { FittedModel, LinearModel, TreeEnsembleModel } from '../../lambdas/core/training/model-types';

const logistic: LinearModel = {
  kind: 'linear',
  task: 'classification',
  features: ['a', 'b'],
  classes: ['no', 'yes'],
  scaler: { mean: [0, 0], scale: [1, 2] },
  coefficients: [[1, -1]],
  intercepts: [0],
  link: 'logistic',
};

const stumpForest: TreeEnsembleModel = {
  kind: 'trees',
  task: 'classification',
  features: ['a', 'b'],
  classes: ['no', 'yes'],
  trees: [
    {
      feature: [1, 0, 0],
      threshold: [0.5, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      value: [[], [0.9, 0.1], [0.2, 0.8]],
    },
  ],
  aggregate: 'average',
  baseValues: [],
  postTransform: 'none',
};

function exportError(model: FittedModel, options = {}): OnnxExportError {
  try {
    exportToOnnx(model, options);
  } catch (error) {
    if (error instanceof OnnxExportError) return error;
    throw error;
  }
  throw new Error('the export succeeded');
}

describe('exportToOnnx rejects inconsistent models, naming the field', () => {
  it.each<[string, FittedModel, string, RegExp]>([
    [
      'a classifier without classes',
      { ...logistic, classes: undefined },
      'classes',
      /at least two class labels/,
    ],
    ['repeated class labels', { ...logistic, classes: ['no', 'no'] }, 'classes', /distinct/],
    ['a repeated feature', { ...logistic, features: ['a', 'a'] }, 'features[1]', /appears twice/],
    [
      'a logistic link with two coefficient rows',
      {
        ...logistic,
        coefficients: [
          [1, 0],
          [0, 1],
        ],
        intercepts: [0, 0],
      },
      'coefficients',
      /binary/,
    ],
    [
      'a coefficient row of the wrong width',
      { ...logistic, coefficients: [[1, 2, 3]] },
      'coefficients[0]',
      /expected 2/,
    ],
    [
      'a zero scale',
      { ...logistic, scaler: { mean: [0, 0], scale: [1, 0] } },
      'scaler.scale[1]',
      /divide by zero/,
    ],
    [
      'an infinite intercept',
      { ...logistic, intercepts: [Number.POSITIVE_INFINITY] },
      'intercepts[0]',
      /finite/,
    ],
    [
      'a regressor with a softmax link',
      { ...logistic, task: 'regression', link: 'softmax' },
      'link',
      /identity/,
    ],
  ])('%s', (_name, model, field, message) => {
    const error = exportError(model);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  const tree = stumpForest.trees[0] as TreeEnsembleModel['trees'][number];
  const withTree = (changes: Partial<typeof tree>): TreeEnsembleModel => ({
    ...stumpForest,
    trees: [{ ...tree, ...changes }],
  });

  it.each<[string, TreeEnsembleModel, string, RegExp]>([
    ['an ensemble without trees', { ...stumpForest, trees: [] }, 'trees', /no trees/],
    ['a child outside the tree', withTree({ right: [7, -1, -1] }), 'trees[0].right[0]', /not a node/],
    ['a node that is its own child', withTree({ left: [0, -1, -1] }), 'trees[0].left[0]', /not a node/],
    [
      'a node reached twice',
      withTree({ left: [1, 2, -1], right: [2, 2, -1], feature: [0, 0, 0], value: [[], [], [0.5, 0.5]] }),
      'trees[0].left',
      /reached twice/,
    ],
    ['a feature index out of range', withTree({ feature: [2, 0, 0] }), 'trees[0].feature[0]', /outside 0..1/],
    ['a NaN threshold', withTree({ threshold: [Number.NaN, 0, 0] }), 'trees[0].threshold[0]', /finite/],
    [
      'a leaf of the wrong width',
      withTree({ value: [[], [1, 0, 0], [0, 1]] }),
      'trees[0].value[1]',
      /expected 2/,
    ],
    ['arrays of different lengths', withTree({ threshold: [0.5, 0] }), 'trees[0].threshold', /has 2 entries/],
    [
      'binary leaves that are not probabilities',
      withTree({ value: [[], [0.9, 0.3], [0.2, 0.8]] }),
      'trees[0].value[1]',
      /not class probabilities/,
    ],
    [
      'a logistic ensemble with three classes',
      { ...stumpForest, classes: ['a', 'b', 'c'], postTransform: 'logistic' },
      'postTransform',
      /binary/,
    ],
  ])('%s', (_name, model, field, message) => {
    const error = exportError(model);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('keeps the metadata keys it writes for itself', () => {
    const error = exportError(logistic, { metadata: { feature_names: '[]' } });

    expect(error.field).toBe('options.metadata');
  });
});

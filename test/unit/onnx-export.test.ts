import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportToOnnx, float32AtOrBelow } from '../../lambdas/core/onnx';
import { seededUniform } from '../../lambdas/core/seeded-random';
import type {
  DecisionTree,
  FittedModel,
  LinearModel,
  TreeEnsembleModel,
} from '../../lambdas/core/training/model-types';

// The exported graphs are checked against a plain evaluation of the model's definition
// (model-types.ts), written here in float64 on the same float32 inputs onnxruntime receives.

interface Prediction {
  readonly labels?: string[];
  /** Row-major [N, K] probabilities, or [N, T] regression values. */
  readonly values: number[][];
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function softmax(scores: number[]): number[] {
  const max = Math.max(...scores);
  const exps = scores.map((score) => Math.exp(score - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/** First index of the largest value, as numpy's argmax and onnxruntime pick it. */
function argmax(values: number[]): number {
  return values.reduce((best, value, index) => (value > (values[best] as number) ? index : best), 0);
}

function finish(model: FittedModel, transform: string, scores: number[][]): Prediction {
  if (model.task === 'regression') return { values: scores };
  const probabilities = scores.map((row) => {
    if (transform === 'softmax') return softmax(row);
    if (transform === 'logistic') {
      const p = sigmoid(row[0] as number);
      return [1 - p, p];
    }
    return row;
  });
  const classes = model.classes ?? [];
  return { labels: probabilities.map((row) => classes[argmax(row)] as string), values: probabilities };
}

function referenceLinear(model: LinearModel, rows: number[][]): Prediction {
  const scores = rows.map((x) => {
    const z = x.map((value, j) =>
      model.scaler ? (value - (model.scaler.mean[j] as number)) / (model.scaler.scale[j] as number) : value,
    );
    return model.coefficients.map(
      (row, r) => (model.intercepts[r] as number) + row.reduce((sum, w, j) => sum + w * (z[j] as number), 0),
    );
  });
  return finish(model, model.link, scores);
}

function leafOf(tree: DecisionTree, x: number[]): number[] {
  let node = 0;
  while (tree.left[node] !== -1) {
    const value = x[tree.feature[node] as number] as number;
    // NaN is not <= anything: missing values go right, as BRANCH_LEQ without missing tracks.
    node =
      value <= (tree.threshold[node] as number) ? (tree.left[node] as number) : (tree.right[node] as number);
  }
  return tree.value[node] as number[];
}

function referenceTrees(model: TreeEnsembleModel, rows: number[][]): Prediction {
  const scores = rows.map((x) => {
    const leaves = model.trees.map((tree) => leafOf(tree, x));
    const width = (leaves[0] as number[]).length;
    return Array.from({ length: width }, (_, k) => {
      const sum = leaves.reduce((total, leaf) => total + (leaf[k] as number), 0);
      const aggregated = model.aggregate === 'average' ? sum / leaves.length : sum;
      return aggregated + (model.baseValues[k] ?? 0);
    });
  });
  return finish(model, model.postTransform, scores);
}

function reference(model: FittedModel, rows: number[][]): Prediction {
  return model.kind === 'linear' ? referenceLinear(model, rows) : referenceTrees(model, rows);
}

/** Exports the model and runs it: one double [N] input per feature, rank-1 outputs gathered back into rows. */
async function runOnnx(model: FittedModel, rows: number[][]): Promise<Prediction> {
  const session = await ort.InferenceSession.create(exportToOnnx(model));
  try {
    const feeds = Object.fromEntries(
      model.features.map((name, j) => [
        name,
        new ort.Tensor(
          'float64',
          Float64Array.from(rows, (row) => row[j] as number),
          [rows.length],
        ),
      ]),
    );
    const outputs = await session.run(feeds);
    const columns =
      model.task === 'classification'
        ? (model.classes ?? []).map((name) => outputs[`probability_${name}`])
        : [outputs.prediction];
    if (columns.some((column) => column === undefined)) {
      throw new Error(`unexpected outputs ${session.outputNames.join(', ')}`);
    }
    const values = rows.map((_, i) =>
      columns.map((column) => ((column as ort.Tensor).data as Float32Array)[i] as number),
    );
    return outputs.label ? { labels: outputs.label.data as string[], values } : { values };
  } finally {
    await session.release();
  }
}

/** Rows of float32 values in [-3, 3): what a float tensor holds. */
function randomRows(random: () => number, count: number, width: number): number[][] {
  return Array.from({ length: count }, () =>
    Array.from({ length: width }, () => Math.fround(random() * 6 - 3)),
  );
}

/** A full binary tree of the given depth, nodes in breadth-first order, thresholds float32. */
function randomTree(
  random: () => number,
  depth: number,
  featureCount: number,
  leafValue: () => number[],
): DecisionTree {
  const tree = {
    feature: [] as number[],
    threshold: [] as number[],
    left: [] as number[],
    right: [] as number[],
  };
  const value: number[][] = [];
  const nodeCount = 2 ** (depth + 1) - 1;
  const firstLeaf = 2 ** depth - 1;
  for (let node = 0; node < nodeCount; node++) {
    const leaf = node >= firstLeaf;
    tree.feature.push(leaf ? 0 : Math.floor(random() * featureCount));
    tree.threshold.push(leaf ? 0 : Math.fround(random() * 4 - 2));
    tree.left.push(leaf ? -1 : 2 * node + 1);
    tree.right.push(leaf ? -1 : 2 * node + 2);
    value.push(leaf ? leafValue() : []);
  }
  return { ...tree, value };
}

function probabilityLeaf(random: () => number, classes: number): () => number[] {
  return () => {
    const weights = Array.from({ length: classes }, () => random() + 0.05);
    const total = weights.reduce((a, b) => a + b, 0);
    return weights.map((w) => w / total);
  };
}

function scoreLeaf(random: () => number, width: number, spread = 2): () => number[] {
  return () => Array.from({ length: width }, () => random() * 2 * spread - spread);
}

/** Seeded, so every run checks the same rows and trees. */
const random = seededUniform(20_240_601);

const softmaxWithScaler: LinearModel = {
  kind: 'linear',
  task: 'classification',
  features: ['f0', 'f1', 'f2', 'f3'],
  classes: ['setosa', 'versicolor', 'virginica'],
  scaler: { mean: [5.8, 3.0, 3.7, 1.2], scale: [0.8, 0.4, 1.7, 0.75] },
  coefficients: [
    [-1.0, 1.2, -1.8, -1.7],
    [0.5, -0.3, -0.2, -0.6],
    [0.5, -0.9, 2.0, 2.3],
  ],
  intercepts: [-0.2, 1.9, -1.7],
  link: 'softmax',
};

const binaryLogistic: LinearModel = {
  kind: 'linear',
  task: 'classification',
  features: ['age', 'income', 'tenure'],
  classes: ['stays', 'churns'],
  scaler: { mean: [0.2, -0.1, 0.4], scale: [1.1, 0.9, 1.3] },
  coefficients: [[0.8, -1.3, 0.45]],
  intercepts: [-0.25],
  link: 'logistic',
};

const linearRegressor: LinearModel = {
  kind: 'linear',
  task: 'regression',
  features: ['x0', 'x1', 'x2'],
  scaler: { mean: [1, 2, 3], scale: [2, 0.5, 1] },
  coefficients: [[3.5, -2, 0.25]],
  intercepts: [10],
  link: 'identity',
};

const forestClassifier: TreeEnsembleModel = {
  kind: 'trees',
  task: 'classification',
  features: ['a', 'b', 'c'],
  classes: ['red', 'green', 'blue'],
  trees: [
    randomTree(random, 3, 3, probabilityLeaf(random, 3)),
    randomTree(random, 3, 3, probabilityLeaf(random, 3)),
  ],
  aggregate: 'average',
  baseValues: [0, 0, 0],
  postTransform: 'none',
};

const binaryForest: TreeEnsembleModel = {
  kind: 'trees',
  task: 'classification',
  features: ['a', 'b', 'c'],
  classes: ['no', 'yes'],
  trees: [
    randomTree(random, 3, 3, probabilityLeaf(random, 2)),
    randomTree(random, 2, 3, probabilityLeaf(random, 2)),
    randomTree(random, 3, 3, probabilityLeaf(random, 2)),
  ],
  aggregate: 'average',
  baseValues: [],
  postTransform: 'none',
};

const boostedMulticlass: TreeEnsembleModel = {
  kind: 'trees',
  task: 'classification',
  features: ['a', 'b', 'c', 'd'],
  classes: ['low', 'mid', 'high', 'top'],
  trees: Array.from({ length: 5 }, () => randomTree(random, 3, 4, scoreLeaf(random, 4, 0.6))),
  aggregate: 'sum',
  baseValues: [-0.3, 0.1, 0.25, -0.5],
  postTransform: 'softmax',
};

const boostedBinary: TreeEnsembleModel = {
  kind: 'trees',
  task: 'classification',
  features: ['a', 'b', 'c'],
  classes: ['legit', 'fraud'],
  trees: Array.from({ length: 4 }, () => randomTree(random, 2, 3, scoreLeaf(random, 1, 0.8))),
  aggregate: 'sum',
  baseValues: [-0.4],
  postTransform: 'logistic',
};

const treeRegressor: TreeEnsembleModel = {
  kind: 'trees',
  task: 'regression',
  features: ['a', 'b'],
  trees: Array.from({ length: 3 }, () => randomTree(random, 3, 2, scoreLeaf(random, 1, 50))),
  aggregate: 'average',
  baseValues: [120],
  postTransform: 'none',
};

const cases: [string, FittedModel][] = [
  ['a 3-class softmax linear model with a scaler', softmaxWithScaler],
  ['a binary logistic linear model', binaryLogistic],
  ['a linear regressor', linearRegressor],
  ['a 2-tree random forest (averaged leaf probabilities)', forestClassifier],
  ['a binary random forest', binaryForest],
  ['a boosted multiclass ensemble (sum, softmax, base values)', boostedMulticlass],
  ['a binary boosted ensemble (logistic)', boostedBinary],
  ['a tree regressor (average, base value)', treeRegressor],
];

describe('exportToOnnx', () => {
  it.each(cases)('predicts as %s does, on 300 random rows', async (_name, model) => {
    const rows = randomRows(random, 300, model.features.length);

    const expected = reference(model, rows);
    const actual = await runOnnx(model, rows);

    expect(actual.labels).toEqual(expected.labels);
    expect(actual.values.map((row) => row.length)).toEqual(expected.values.map((row) => row.length));
    const maxDiff = Math.max(
      ...actual.values.flatMap((row, i) =>
        row.map((value, k) => Math.abs(value - (expected.values[i]?.[k] ?? NaN))),
      ),
    );
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
    if (expected.labels) {
      // Both classes (or all) are predicted somewhere: the comparison is not of a constant.
      expect(new Set(expected.labels).size).toBeGreaterThan(1);
    }
  });

  it('answers a binary logistic model as two columns [1 - p, p] with the label of p > 0.5', async () => {
    // score = -0.25 + 0.8·(0.2-0.2)/1.1 - 1.3·(-0.1+0.1)/0.9 + 0.45·(0.4-0.4)/1.3 = -0.25 at the means.
    const actual = await runOnnx(binaryLogistic, [[0.2, -0.1, 0.4]]);

    const p = sigmoid(-0.25);
    expect(actual.labels).toEqual(['stays']);
    expect(actual.values[0]?.[0]).toBeCloseTo(1 - p, 6);
    expect(actual.values[0]?.[1]).toBeCloseTo(p, 6);
  });

  it('keeps a binary boosted model right when every leaf value is positive', async () => {
    // onnxruntime takes all-positive votes for probabilities and labels them by score > 0.5,
    // so a margin in (0, 0.5] would come out as the negative class.
    const positive: TreeEnsembleModel = {
      ...boostedBinary,
      trees: [
        {
          feature: [0, 0, 0],
          threshold: [0, 0, 0],
          left: [1, -1, -1],
          right: [2, -1, -1],
          value: [[], [0.3], [1.7]],
        },
        {
          feature: [1, 0, 0],
          threshold: [1, 0, 0],
          left: [1, -1, -1],
          right: [2, -1, -1],
          value: [[], [0.2], [0.9]],
        },
      ],
      baseValues: [-0.9],
    };

    const actual = await runOnnx(positive, [
      [-1, 0, 0],
      [-1, 2, 0],
      [1, 0, 0],
      [1, 2, 0],
    ]);

    const margins = [-0.9 + 0.3 + 0.2, -0.9 + 0.3 + 0.9, -0.9 + 1.7 + 0.2, -0.9 + 1.7 + 0.9];
    expect(actual.labels).toEqual(['legit', 'fraud', 'fraud', 'fraud']);
    margins.forEach((margin, row) => {
      expect(actual.values[row]?.[0]).toBeCloseTo(sigmoid(-margin), 6);
      expect(actual.values[row]?.[1]).toBeCloseTo(sigmoid(margin), 6);
    });
  });

  it('exports a two-class softmax ensemble as the logistic of the score difference', async () => {
    const twoScores: TreeEnsembleModel = {
      kind: 'trees',
      task: 'classification',
      features: ['a', 'b'],
      classes: ['cat', 'dog'],
      trees: Array.from({ length: 3 }, () => randomTree(random, 2, 2, scoreLeaf(random, 2, 1))),
      aggregate: 'sum',
      baseValues: [0.2, -0.1],
      postTransform: 'softmax',
    };
    const rows = randomRows(random, 200, 2);

    const expected = reference(twoScores, rows);
    const actual = await runOnnx(twoScores, rows);

    expect(actual.labels).toEqual(expected.labels);
    const maxDiff = Math.max(
      ...actual.values.flat().map((value, i) => Math.abs(value - (expected.values.flat()[i] ?? NaN))),
    );
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
  });

  it('routes a float32 input just above a float64 threshold to the right, as the threshold says', async () => {
    // fround(0.1) = 0.10000000149… > 0.1: it belongs right; rounding 0.1 to nearest float32 would send it left.
    const stump: TreeEnsembleModel = {
      kind: 'trees',
      task: 'regression',
      features: ['x'],
      trees: [
        {
          feature: [0, 0, 0],
          threshold: [0.1, 0, 0],
          left: [1, -1, -1],
          right: [2, -1, -1],
          value: [[], [1], [2]],
        },
      ],
      aggregate: 'sum',
      baseValues: [0],
      postTransform: 'none',
    };
    const justBelow = float32AtOrBelow(0.1);

    const actual = await runOnnx(stump, [[Math.fround(0.1)], [justBelow], [-5], [Number.NaN]]);

    // NaN is not <= the threshold: it goes right (BRANCH_LEQ without missing-value tracking).
    expect(actual.values.map((row) => row[0])).toEqual([2, 1, 1, 2]);
  });
});

describe('float32AtOrBelow', () => {
  it('gives the largest float32 not above the value', () => {
    for (const value of [0.1, -0.1, 1 / 3, -1 / 3, 2.5, 1e-50, -1e-50, 3.4e38, 1e39, 0]) {
      const result = float32AtOrBelow(value);
      expect(Math.fround(result)).toBe(result);
      expect(result).toBeLessThanOrEqual(value);
      // The next float32 up is above the value.
      const bits = new Float32Array([result]);
      const view = new Int32Array(bits.buffer);
      view[0] = (view[0] as number) + (result > 0 ? 1 : -1);
      if (result !== 0) expect(bits[0]).toBeGreaterThan(value);
    }
  });

  it('keeps values that are already float32', () => {
    expect(float32AtOrBelow(0.5)).toBe(0.5);
    expect(float32AtOrBelow(-2)).toBe(-2);
    expect(float32AtOrBelow(Math.fround(0.1))).toBe(Math.fround(0.1));
  });
});

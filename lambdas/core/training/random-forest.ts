/**
 * Random forests (Breiman 2001) as scikit-learn's RandomForestClassifier / Regressor define
 * them: each tree is grown on a bootstrap sample (drawn as per-row weights, as scikit-learn
 * does), drawing `max_features` candidate features at each node, splitting on Gini impurity
 * (classification) or squared error (regression), down to `max_depth` / `min_samples_leaf`.
 * Leaves hold class probabilities or the mean target; the forest averages them.
 *
 * Unlike scikit-learn, split thresholds are searched over ≤ 255 quantile bins per feature
 * (feature-binning.ts) instead of every distinct value: much faster on large data, and on the
 * benchmark data within noise of exact splits (bench/results/training.json).
 */

import { deriveSeed, SeededRandom } from '../seeded-random';
import { binFeatures } from './feature-binning';
import { growTree, type TreeObjective, toDecisionTree } from './histogram-tree';
import type { DecisionTree, TreeEnsembleModel } from './model-types';
import type { ClassificationData, RegressionData, TrainingData } from './training-data';

export interface RandomForestParams {
  readonly n_estimators: number;
  /** 0 for no limit. */
  readonly max_depth: number;
  readonly min_samples_leaf: number;
  /** Features drawn per split: 'sqrt' / 'log2' of the count, 'all', or a fraction in (0, 1]. */
  readonly max_features: 'sqrt' | 'log2' | 'all' | number;
  readonly bootstrap: boolean;
  readonly max_bins: number;
}

export function featuresPerSplit(maxFeatures: RandomForestParams['max_features'], cols: number): number {
  if (maxFeatures === 'all') return cols;
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(cols)));
  if (maxFeatures === 'log2') return Math.max(1, Math.floor(Math.log2(cols)));
  return Math.min(cols, Math.max(1, Math.floor(maxFeatures * cols)));
}

export function fitRandomForestClassifier(
  data: ClassificationData,
  params: RandomForestParams,
  seed: number,
): TreeEnsembleModel {
  const classCount = data.classes.length;
  const trees = growForest(data, params, seed, (weights, grow) =>
    grow({ kind: 'gini', labels: data.y, weights, classCount }, (totals) => {
      let total = 0;
      for (let c = 1; c <= classCount; c++) total += totals[c] as number;
      return Array.from({ length: classCount }, (_, c) => (totals[c + 1] as number) / total);
    }),
  );
  return {
    kind: 'trees',
    task: 'classification',
    features: [...data.features],
    classes: [...data.classes],
    trees,
    aggregate: 'average',
    baseValues: new Array<number>(classCount).fill(0),
    postTransform: 'none',
  };
}

export function fitRandomForestRegressor(
  data: RegressionData,
  params: RandomForestParams,
  seed: number,
): TreeEnsembleModel {
  // Squared error as the ratio objective: a = Σ w·(y − ȳ), b = Σ w (histogram-tree.ts). Centring
  // keeps the scores' rounding noise relative to the spread of y, not to its mean.
  let mean = 0;
  for (let i = 0; i < data.rows; i++) mean += data.y[i] as number;
  mean /= data.rows;
  const pairs = new Float64Array(data.rows * 2);
  const trees = growForest(data, params, seed, (weights, grow) => {
    for (let i = 0; i < data.rows; i++) {
      const weight = weights[i] as number;
      pairs[2 * i] = weight * ((data.y[i] as number) - mean);
      pairs[2 * i + 1] = weight;
    }
    return grow({ kind: 'ratio', pairs, l2: 0, minChildB: 0 }, (totals) => [
      mean + (totals[1] as number) / (totals[2] as number),
    ]);
  });
  return {
    kind: 'trees',
    task: 'regression',
    features: [...data.features],
    trees,
    aggregate: 'average',
    baseValues: [0],
    postTransform: 'none',
  };
}

type GrowOne = (objective: TreeObjective, leafValue: (totals: Float64Array) => number[]) => DecisionTree;

/**
 * Bins once, then grows each tree from its own random stream (derived from the seed and the
 * tree's index, so a tree does not depend on the others).
 */
function growForest(
  data: TrainingData,
  params: RandomForestParams,
  seed: number,
  growWith: (weights: Float64Array, grow: GrowOne) => DecisionTree,
): DecisionTree[] {
  const binned = binFeatures(data, params.max_bins, seed);
  const perSplit = featuresPerSplit(params.max_features, data.cols);
  const weights = new Float64Array(data.rows);
  const histogramPool: Float64Array[] = [];
  const trees: DecisionTree[] = [];
  for (let t = 0; t < params.n_estimators; t++) {
    const random = new SeededRandom(deriveSeed(seed, 1, t));
    weights.fill(params.bootstrap ? 0 : 1);
    if (params.bootstrap) {
      for (let i = 0; i < data.rows; i++) {
        const row = random.int(data.rows);
        weights[row] = (weights[row] as number) + 1;
      }
    }
    let inBag = 0;
    for (let i = 0; i < data.rows; i++) if ((weights[i] as number) > 0) inBag++;
    const rows = new Uint32Array(inBag);
    for (let i = 0, k = 0; i < data.rows; i++) if ((weights[i] as number) > 0) rows[k++] = i;
    trees.push(
      growWith(weights, (objective, leafValue) => {
        const grown = growTree(binned, rows, objective, {
          maxDepth: params.max_depth > 0 ? params.max_depth : Number.POSITIVE_INFINITY,
          maxLeafNodes: Number.POSITIVE_INFINITY,
          minSamplesLeaf: params.min_samples_leaf,
          featuresPerSplit: perSplit,
          random,
          histogramPool,
        });
        return toDecisionTree(grown, binned, leafValue);
      }),
    );
  }
  return trees;
}

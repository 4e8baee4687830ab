/**
 * Histogram gradient-boosted trees, after scikit-learn's HistGradientBoostingClassifier /
 * Regressor (and LightGBM): features binned into ≤ 255 quantile bins, trees grown best-first
 * up to `max_leaf_nodes` leaves, split gain G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ), leaf value
 * −learning_rate · G/(H+λ) (second-order step, learning rate folded into the leaf).
 *
 * Losses: squared error (regression; g = F − y, h = 1), binary log loss (g = p − y,
 * h = p(1−p)), multinomial log loss with one tree per class per round (g = p_k − [y = k],
 * h = p_k(1 − p_k), gradients taken once per round). Initial scores are the mean target, the
 * prior log-odds, or the log class priors; they become the model's `baseValues`.
 *
 * Not implemented: scikit-learn's early stopping on a validation split (its default turns it on
 * above 10 000 rows); every candidate runs `max_iter` rounds.
 */
import { type BinnedFeatures, binFeatures } from './feature-binning';
import { type GrownTree, growTree, toDecisionTree } from './histogram-tree';
import type { DecisionTree, TreeEnsembleModel } from './model-types';
import { softmaxRows } from './softmax';
import type { ClassificationData, RegressionData, TrainingData } from './training-data';

export interface GradientBoostingParams {
  /** Boosting rounds (one tree per round, or one per class per round for 3+ classes). */
  readonly max_iter: number;
  readonly learning_rate: number;
  /** 0 for no limit. */
  readonly max_leaf_nodes: number;
  /** 0 for no limit. */
  readonly max_depth: number;
  readonly min_samples_leaf: number;
  readonly l2_regularization: number;
  readonly max_bins: number;
}

/** scikit-learn's min_hessian_to_split: a child needs this much hessian to be a leaf. */
const MIN_CHILD_HESSIAN = 1e-3;
/** Class priors are clipped away from 0 so that a class absent from the training rows has a finite log. */
const MIN_PRIOR = 1e-15;

export function fitGradientBoostingRegressor(
  data: RegressionData,
  params: GradientBoostingParams,
  seed: number,
): TreeEnsembleModel {
  const { rows } = data;
  let mean = 0;
  for (let i = 0; i < rows; i++) mean += data.y[i] as number;
  mean /= rows;
  const raw = new Float64Array(rows).fill(mean);
  const booster = new Booster(data, params, seed);
  const trees: DecisionTree[] = [];
  for (let round = 0; round < params.max_iter; round++) {
    const gh = booster.gradients;
    for (let i = 0; i < rows; i++) {
      gh[2 * i] = (raw[i] as number) - (data.y[i] as number);
      gh[2 * i + 1] = 1;
    }
    trees.push(booster.fitTree(raw, 1, 0, 1));
  }
  return {
    kind: 'trees',
    task: 'regression',
    features: [...data.features],
    trees,
    aggregate: 'sum',
    baseValues: [mean],
    postTransform: 'none',
  };
}

export function fitGradientBoostingClassifier(
  data: ClassificationData,
  params: GradientBoostingParams,
  seed: number,
): TreeEnsembleModel {
  const { rows } = data;
  const classCount = data.classes.length;
  const priors = new Float64Array(classCount);
  for (let i = 0; i < rows; i++)
    priors[data.y[i] as number] = (priors[data.y[i] as number] as number) + 1 / rows;
  const booster = new Booster(data, params, seed);
  const trees: DecisionTree[] = [];
  const common = {
    kind: 'trees' as const,
    task: 'classification' as const,
    features: [...data.features],
    classes: [...data.classes],
    aggregate: 'sum' as const,
  };

  if (classCount === 2) {
    // One score, the log-odds of classes[1] (postTransform logistic).
    const p = Math.min(1 - MIN_PRIOR, Math.max(MIN_PRIOR, priors[1] as number));
    const base = Math.log(p / (1 - p));
    const raw = new Float64Array(rows).fill(base);
    for (let round = 0; round < params.max_iter; round++) {
      const gh = booster.gradients;
      for (let i = 0; i < rows; i++) {
        const probability = 1 / (1 + Math.exp(-(raw[i] as number)));
        gh[2 * i] = probability - (data.y[i] as number);
        gh[2 * i + 1] = probability * (1 - probability);
      }
      trees.push(booster.fitTree(raw, 1, 0, 1));
    }
    return { ...common, trees, baseValues: [base], postTransform: 'logistic' };
  }

  const baseValues = Array.from(priors, (prior) => Math.log(Math.max(MIN_PRIOR, prior)));
  const raw = new Float64Array(rows * classCount);
  for (let i = 0; i < rows; i++) raw.set(baseValues, i * classCount);
  const probabilities = new Float64Array(rows * classCount);
  for (let round = 0; round < params.max_iter; round++) {
    softmaxRows(raw, probabilities, rows, classCount);
    for (let c = 0; c < classCount; c++) {
      const gh = booster.gradients;
      for (let i = 0; i < rows; i++) {
        const probability = probabilities[i * classCount + c] as number;
        gh[2 * i] = probability - ((data.y[i] as number) === c ? 1 : 0);
        gh[2 * i + 1] = probability * (1 - probability);
      }
      trees.push(booster.fitTree(raw, classCount, c, classCount));
    }
  }
  return { ...common, trees, baseValues, postTransform: 'softmax' };
}

/** The state shared by all rounds: binned features, row buffers, gradient/hessian pairs. */
class Booster {
  /** [g, h] per row, row-major; the caller fills it before each tree. */
  readonly gradients: Float64Array;
  private readonly binned: BinnedFeatures;
  private readonly rows: Uint32Array;
  private readonly histogramPool: Float64Array[] = [];

  constructor(
    data: TrainingData,
    private readonly params: GradientBoostingParams,
    seed: number,
  ) {
    this.binned = binFeatures(data, params.max_bins, seed);
    this.gradients = new Float64Array(data.rows * 2);
    this.rows = new Uint32Array(data.rows);
  }

  /**
   * Grows one tree on the current gradients, adds its leaf values to output `slot` of `raw`
   * (row-major, `stride` scores per row) and returns it with values `width` wide.
   */
  fitTree(raw: Float64Array, stride: number, slot: number, width: number): DecisionTree {
    const { params, rows } = this;
    for (let i = 0; i < rows.length; i++) rows[i] = i;
    const grown = growTree(
      this.binned,
      rows,
      { kind: 'ratio', pairs: this.gradients, l2: params.l2_regularization, minChildB: MIN_CHILD_HESSIAN },
      {
        maxDepth: params.max_depth > 0 ? params.max_depth : Number.POSITIVE_INFINITY,
        maxLeafNodes: params.max_leaf_nodes > 0 ? params.max_leaf_nodes : Number.POSITIVE_INFINITY,
        minSamplesLeaf: params.min_samples_leaf,
        featuresPerSplit: this.binned.cols,
        histogramPool: this.histogramPool,
      },
    );
    const leafStep = (totals: Float64Array): number => {
      const denominator = (totals[2] as number) + params.l2_regularization;
      // A leaf with no curvature at all (probabilities saturated at 0 or 1) takes no step.
      return denominator > 0 ? (-params.learning_rate * (totals[1] as number)) / denominator : 0;
    };
    addLeafSteps(grown, raw, stride, slot, leafStep);
    return toDecisionTree(grown, this.binned, (totals) => {
      const value = new Array<number>(width).fill(0);
      value[slot] = leafStep(totals);
      return value;
    });
  }
}

/** Adds each leaf's value to the raw scores of its training rows (no need to walk the tree). */
function addLeafSteps(
  grown: GrownTree,
  raw: Float64Array,
  stride: number,
  slot: number,
  leafStep: (totals: Float64Array) => number,
): void {
  for (let node = 0; node < grown.feature.length; node++) {
    if (grown.feature[node] !== -1) continue;
    const step = leafStep(grown.totals[node] as Float64Array);
    for (let i = grown.start[node] as number; i < (grown.end[node] as number); i++) {
      const index = (grown.rows[i] as number) * stride + slot;
      raw[index] = (raw[index] as number) + step;
    }
  }
}

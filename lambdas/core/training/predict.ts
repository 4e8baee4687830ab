/**
 * Evaluates a fitted model (model-types.ts) on a dense row-major matrix, in float64, with the
 * semantics the ONNX export gives it: tree thresholds are float32 and compared with the
 * float32-rounded input (`Math.fround(x) <= threshold`, ONNX BRANCH_LEQ); linear models
 * standardise, then apply the coefficients; then the link / post-transform.
 */
import type { Frame } from '../data/frame';
import { TrainingDataError } from './errors';
import type { DecisionTree, FittedModel, LinearModel, TreeEnsembleModel } from './model-types';
import { modelInputs, preprocessFrame } from './preprocessing';
import { softmaxRows } from './softmax';

export interface ClassificationPrediction {
  readonly task: 'classification';
  /** Index into `classes` of the most probable class (the first on ties, as numpy's argmax). */
  readonly labels: Int32Array;
  /** rows × classes, row-major. */
  readonly probabilities: Float64Array;
  readonly classes: readonly string[];
}

export interface RegressionPrediction {
  readonly task: 'regression';
  readonly values: Float64Array;
}

export type Prediction = ClassificationPrediction | RegressionPrediction;

/** Predicts `rows` rows of `x` (row-major, the model's features in order). */
export function predict(model: FittedModel, x: Float64Array, rows: number): Prediction {
  const cols = model.features.length;
  if (x.length !== rows * cols) {
    throw new TrainingDataError(
      'SHAPE_MISMATCH',
      `x holds ${x.length} values, expected ${rows} rows × ${cols} features`,
      'x',
    );
  }
  const outputs = outputCount(model);
  const scores =
    model.kind === 'linear' ? linearScores(model, x, rows, outputs) : treeScores(model, x, rows, outputs);
  if (model.task === 'regression') return { task: 'regression', values: scores };
  const classes = model.classes ?? [];
  const transform = model.kind === 'linear' ? model.link : model.postTransform;
  const probabilities = toProbabilities(scores, rows, classes.length, transform);
  return {
    task: 'classification',
    labels: argmaxRows(probabilities, rows, classes.length),
    probabilities,
    classes,
  };
}

/**
 * Predicts the frame's rows from their raw columns (found by name): the model's preprocessing
 * (imputation, one-hot; preprocessing.ts), then the estimator — what the exported graph computes.
 */
export function predictFrame(model: FittedModel, frame: Frame): Prediction {
  return predict(model, preprocessFrame(modelInputs(model), frame), frame.rowCount);
}

/** The class name of each row's label. */
export function labelNames(prediction: ClassificationPrediction): string[] {
  return Array.from(prediction.labels, (label) => prediction.classes[label] as string);
}

/** Scores per row: one per class (softmax, or probabilities), one for logistic and regression. */
function outputCount(model: FittedModel): number {
  if (model.task === 'regression') return 1;
  const transform = model.kind === 'linear' ? model.link : model.postTransform;
  return transform === 'logistic' ? 1 : (model.classes ?? []).length;
}

function linearScores(model: LinearModel, x: Float64Array, rows: number, outputs: number): Float64Array {
  const cols = model.features.length;
  const scores = new Float64Array(rows * outputs);
  const scaled = new Float64Array(cols);
  const mean = model.scaler?.mean;
  const scale = model.scaler?.scale;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const value = x[i * cols + j] as number;
      scaled[j] = mean && scale ? (value - (mean[j] as number)) / (scale[j] as number) : value;
    }
    for (let k = 0; k < outputs; k++) {
      const row = model.coefficients[k] as number[];
      let score = model.intercepts[k] as number;
      for (let j = 0; j < cols; j++) score += (row[j] as number) * (scaled[j] as number);
      scores[i * outputs + k] = score;
    }
  }
  return scores;
}

/**
 * All trees in flat typed arrays, each renumbered breadth-first so that a node's right child is
 * its left child + 1: the walk then picks a child by adding 0 or 1, which the JIT compiles
 * without a hard-to-predict branch.
 */
interface PackedEnsemble {
  readonly roots: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  /** Left child, or -1 for a leaf. */
  readonly left: Int32Array;
  /** `outputs` values per node (zero for branches). */
  readonly values: Float64Array;
}

function packTrees(trees: readonly DecisionTree[], outputs: number): PackedEnsemble {
  const size = trees.reduce((total, tree) => total + tree.feature.length, 0);
  const packed: PackedEnsemble = {
    roots: new Int32Array(trees.length),
    feature: new Int32Array(size),
    threshold: new Float64Array(size),
    left: new Int32Array(size).fill(-1),
    values: new Float64Array(size * outputs),
  };
  let next = 0;
  trees.forEach((tree, t) => {
    packed.roots[t] = next;
    // queue[k] is the original id of packed node (root + k).
    const root = next;
    const queue = [0];
    next++;
    for (let k = 0; k < queue.length; k++) {
      const original = queue[k] as number;
      const at = root + k;
      const left = tree.left[original] as number;
      if (left === -1) {
        const value = tree.value[original] ?? [];
        for (let o = 0; o < outputs; o++) packed.values[at * outputs + o] = value[o] ?? 0;
        continue;
      }
      packed.feature[at] = tree.feature[original] as number;
      packed.threshold[at] = tree.threshold[original] as number;
      packed.left[at] = next;
      queue.push(left, tree.right[original] as number);
      next += 2;
    }
  });
  return packed;
}

function treeScores(model: TreeEnsembleModel, x: Float64Array, rows: number, outputs: number): Float64Array {
  const cols = model.features.length;
  const { roots, feature, threshold, left, values } = packTrees(model.trees, outputs);
  // The float32 view of the input, as the ONNX operator receives it.
  const input = Float32Array.from(x);
  const scores = new Float64Array(rows * outputs);
  const treeCount = roots.length;
  for (let i = 0; i < rows; i++) {
    const offset = i * cols;
    const out = i * outputs;
    for (let t = 0; t < treeCount; t++) {
      let node = roots[t] as number;
      let child = left[node] as number;
      while (child !== -1) {
        // x <= threshold goes left (BRANCH_LEQ); NaN compares false and goes right, as in ONNX.
        node =
          child +
          ((input[offset + (feature[node] as number)] as number) <= (threshold[node] as number) ? 0 : 1);
        child = left[node] as number;
      }
      const from = node * outputs;
      for (let k = 0; k < outputs; k++)
        scores[out + k] = (scores[out + k] as number) + (values[from + k] as number);
    }
  }
  const divisor = model.aggregate === 'average' ? treeCount : 1;
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < outputs; k++) {
      scores[i * outputs + k] = (scores[i * outputs + k] as number) / divisor + (model.baseValues[k] ?? 0);
    }
  }
  return scores;
}

function toProbabilities(
  scores: Float64Array,
  rows: number,
  classCount: number,
  transform: 'softmax' | 'logistic' | 'identity' | 'none',
): Float64Array {
  if (transform === 'none' || transform === 'identity') return scores;
  const probabilities = new Float64Array(rows * classCount);
  if (transform === 'logistic') {
    for (let i = 0; i < rows; i++) {
      const p = 1 / (1 + Math.exp(-(scores[i] as number)));
      probabilities[2 * i] = 1 - p;
      probabilities[2 * i + 1] = p;
    }
    return probabilities;
  }
  softmaxRows(scores, probabilities, rows, classCount);
  return probabilities;
}

function argmaxRows(probabilities: Float64Array, rows: number, classCount: number): Int32Array {
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const offset = i * classCount;
    let best = 0;
    for (let k = 1; k < classCount; k++) {
      if ((probabilities[offset + k] as number) > (probabilities[offset + best] as number)) best = k;
    }
    labels[i] = best;
  }
  return labels;
}

/**
 * Scores a logged model's ONNX graph on a holdout with onnxruntime-node: how the promotion gate
 * compares the new version with the current Production version, both through the same path (the
 * artifact that will be served, not the trainer's in-memory model), on the same rows.
 *
 * Works for the project's graph contract (lambdas/core/onnx/graph-contract.ts: per-column inputs,
 * `label` + `probability_<class>` or `prediction`), for the earlier one (one [N, F] input, `label`
 * + `probabilities` [N, K] or `variable`) and for the usual shapes of a Python-logged model: a
 * 1-D label output (string or int64) beside a 2-D float probabilities output, or a single float
 * output for a regressor.
 */
import type { Frame } from '../data/frame';
import type { ModelDirectory } from '../model-format';
import { ModelProblem } from '../serving/errors';
import { FrameMismatchError } from '../serving/frame-inputs';
import { scoreFrame } from '../serving/frame-scoring';
import { classificationMetrics, type MetricName, regressionMetrics } from '../training/metrics';
import type { TrainingData } from '../training/training-data';

export type OnnxPrediction =
  | {
      readonly task: 'classification';
      readonly labels: readonly string[];
      /** rows × classes.length, row-major, in `classes` order; null when the graph gives none. */
      readonly probabilities: Float64Array | null;
      readonly classes: readonly string[] | null;
    }
  | { readonly task: 'regression'; readonly values: Float64Array };

/** The model's problem with this holdout: why it cannot be scored on it. */
export class HoldoutMismatchError extends Error {
  override name = 'HoldoutMismatchError';
}

/**
 * Runs the directory's graph on raw rows (a frame, or a holdout's `raw` rows) through serving's
 * frame scoring, the path batch inference and the predict API take: columns found by name, any
 * served input and output layout. Every row is scored: a category the model does not know goes to
 * the graph, which encodes it as all zeros, as it would for a direct caller.
 */
export async function predictWithOnnx(
  directory: ModelDirectory,
  data: TrainingData | Frame,
): Promise<OnnxPrediction> {
  const frame = 'columns' in data ? data : data.raw;
  if (!frame) throw new HoldoutMismatchError('the holdout has no raw rows to feed the model with');
  let scores: Awaited<ReturnType<typeof scoreFrame>>;
  try {
    scores = await scoreFrame(directory, frame, { encodeUnknownCategories: true });
  } catch (error) {
    if (error instanceof FrameMismatchError || error instanceof ModelProblem) {
      throw new HoldoutMismatchError(error.message, { cause: error });
    }
    throw error;
  }
  const [problem] = scores.problems;
  if (problem) throw new HoldoutMismatchError(`row ${problem.row + 1}: ${problem.message}`);
  return scores.prediction;
}

/**
 * The holdout metrics of an ONNX prediction against the true labels, with the trainers' metric
 * definitions. Classification: accuracy and macro F1 always (a label the holdout does not know
 * counts as wrong); log loss and ROC AUC only when the model's classes cover the holdout's.
 */
export function onnxHoldoutMetrics(
  prediction: OnnxPrediction,
  data: TrainingData,
): Partial<Record<MetricName, number>> {
  if (data.task === 'regression') {
    if (prediction.task !== 'regression')
      throw new HoldoutMismatchError('a classifier cannot be scored on a regression holdout');
    return regressionMetrics(data.y, prediction.values);
  }
  if (prediction.task !== 'classification')
    throw new HoldoutMismatchError('a regressor cannot be scored on a classification holdout');
  const index = new Map(data.classes.map((name, i) => [name, i]));
  const labels = Int32Array.from(prediction.labels, (label) => index.get(label) ?? -1);
  const k = data.classes.length;
  const modelClasses = prediction.classes;
  if (prediction.probabilities && modelClasses && data.classes.every((name) => modelClasses.includes(name))) {
    // Reorder the probability columns into the holdout's class order.
    const columns = data.classes.map((name) => modelClasses.indexOf(name));
    const width = modelClasses.length;
    const probabilities = new Float64Array(data.rows * k);
    for (let i = 0; i < data.rows; i++) {
      for (let j = 0; j < k; j++)
        probabilities[i * k + j] = prediction.probabilities[i * width + (columns[j] as number)] as number;
    }
    return { ...classificationMetrics(data.y, labels, probabilities, k) };
  }
  // Without probabilities only the label metrics; accuracy and f1 need nothing else.
  const { accuracy, f1_macro } = classificationMetrics(data.y, labels, uniform(data.rows, k), k);
  return { accuracy, f1_macro };
}

function uniform(rows: number, k: number): Float64Array {
  return new Float64Array(rows * k).fill(1 / k);
}

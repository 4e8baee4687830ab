/**
 * Scores a logged model's ONNX graph on a holdout with onnxruntime-node: how the promotion gate
 * compares the new version with the current Production version, both through the same path (the
 * artifact that will be served, not the trainer's in-memory model), on the same rows.
 *
 * Works for the project's graph contract (lambdas/core/onnx/graph-contract.ts: per-column inputs,
 * `label` + `probability_<class>` or `prediction`), for the earlier one (one [N, F] input, `label`
 * + `probabilities` [N, K] or `variable`) and for the usual shapes of a Python-logged model: a
 * 1-D label output (string or int64) beside a 2-D float probabilities output, or a single float
 * output for a regressor. Inputs are fed from the raw rows by frame-feeds.ts.
 */
import * as ort from 'onnxruntime-node';
import type { Frame } from '../data/frame';
import { MODEL_METADATA_KEYS, type ModelDirectory } from '../model-format';
import { ONNX_METADATA_KEYS, PROBABILITY_OUTPUT_PREFIX } from '../onnx';
import { classificationMetrics, type MetricName, regressionMetrics } from '../training/metrics';
import type { TrainingData } from '../training/training-data';
import { columnFeeds, FeedMismatchError, isSingleTensorGraph, ordinalMatrix } from './frame-feeds';

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
 * Runs the directory's graph on raw rows: a frame, or a holdout's `raw` rows. Columns are found
 * by name (the data may hold more, or order them differently). A holdout without raw rows (a bare
 * matrix) can only feed the earlier single-tensor graphs.
 */
export async function predictWithOnnx(
  directory: ModelDirectory,
  data: TrainingData | Frame,
): Promise<OnnxPrediction> {
  const frame = 'columns' in data ? data : (data.raw ?? null);
  const rows = 'columns' in data ? data.rowCount : data.rows;
  const session = await ort.InferenceSession.create(directory.onnxBytes, { intraOpNumThreads: 1 });
  try {
    let feeds: Record<string, ort.Tensor>;
    try {
      feeds = isSingleTensorGraph(session.inputMetadata)
        ? singleTensorFeed(session, directory, data, frame)
        : columnFeeds(session.inputMetadata, requireFrame(frame));
    } catch (error) {
      if (error instanceof FeedMismatchError) throw new HoldoutMismatchError(error.message, { cause: error });
      throw error;
    }
    const outputs = await session.run(feeds);
    return decodeOutputs(session, outputs, rows, directory);
  } finally {
    await session.release().catch(() => {});
  }
}

function requireFrame(frame: Frame | null): Frame {
  if (!frame) throw new HoldoutMismatchError('the model takes raw columns; the holdout has only a matrix');
  return frame;
}

function singleTensorFeed(
  session: ort.InferenceSession,
  directory: ModelDirectory,
  data: TrainingData | Frame,
  frame: Frame | null,
): Record<string, ort.Tensor> {
  const features = directory.featureNames;
  if (!features) throw new HoldoutMismatchError('the model names no input features');
  const input = session.inputMetadata[0] as ort.InferenceSession.ValueMetadata & { isTensor: true };
  const x = frame ? ordinalMatrix(frame, features) : columnsOf(data as TrainingData, features);
  const rows = x.length / Math.max(1, features.length);
  const tensor =
    input.type === 'float64'
      ? new ort.Tensor('float64', x, [rows, features.length])
      : new ort.Tensor('float32', Float32Array.from(x), [rows, features.length]);
  return { [input.name]: tensor };
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

function columnsOf(data: TrainingData, features: readonly string[]): Float64Array {
  const positions = features.map((name) => data.features.indexOf(name));
  const missing = features.filter((_, j) => positions[j] === -1);
  if (missing.length > 0) {
    throw new HoldoutMismatchError(
      `the holdout has no column ${missing.map((name) => `'${name}'`).join(', ')}`,
    );
  }
  const x = new Float64Array(data.rows * features.length);
  for (let i = 0; i < data.rows; i++) {
    for (let j = 0; j < features.length; j++) {
      x[i * features.length + j] = data.x[i * data.cols + (positions[j] as number)] as number;
    }
  }
  return x;
}

function decodeOutputs(
  session: ort.InferenceSession,
  outputs: ort.InferenceSession.ReturnType,
  rows: number,
  directory: ModelDirectory,
): OnnxPrediction {
  const tensors = session.outputMetadata.filter((output) => output.isTensor);
  const labelOutput = tensors.find(
    (output) =>
      output.isTensor && (output.type === 'string' || output.type === 'int64') && output.shape.length === 1,
  );
  if (labelOutput) {
    const labels = Array.from(outputs[labelOutput.name]?.data as ArrayLike<string | bigint>, String);
    const perClass = perClassProbabilities(tensors, outputs, rows);
    if (perClass) return { task: 'classification', labels, ...perClass };
    const probabilityOutput = tensors.find(
      (output) =>
        output.isTensor &&
        (output.type === 'float32' || output.type === 'float64') &&
        output.shape.length === 2,
    );
    const probabilities = probabilityOutput
      ? Float64Array.from(outputs[probabilityOutput.name]?.data as ArrayLike<number>)
      : null;
    return {
      task: 'classification',
      labels,
      probabilities,
      classes: classesOf(directory, probabilities, rows),
    };
  }
  const numeric = tensors.filter(
    (output) => output.isTensor && (output.type === 'float32' || output.type === 'float64'),
  );
  const only = numeric[0];
  if (numeric.length === 1 && only) {
    const values = Float64Array.from(outputs[only.name]?.data as ArrayLike<number>);
    if (values.length !== rows)
      throw new HoldoutMismatchError(
        `output '${only.name}' has ${values.length / rows} values per row; one is scored`,
      );
    return { task: 'regression', values };
  }
  throw new HoldoutMismatchError(
    `outputs ${session.outputNames.join(', ')} are neither a classifier's nor a regressor's`,
  );
}

/** `probability_<class>` outputs (rank 1, one per class) as a rows × classes matrix, in output order. */
function perClassProbabilities(
  tensors: readonly ort.InferenceSession.ValueMetadata[],
  outputs: ort.InferenceSession.ReturnType,
  rows: number,
): { probabilities: Float64Array; classes: string[] } | null {
  const columns = tensors.filter(
    (output) =>
      output.isTensor && output.name.startsWith(PROBABILITY_OUTPUT_PREFIX) && output.shape.length === 1,
  );
  if (columns.length === 0) return null;
  const classes = columns.map((output) => output.name.slice(PROBABILITY_OUTPUT_PREFIX.length));
  const k = columns.length;
  const probabilities = new Float64Array(rows * k);
  columns.forEach((output, j) => {
    const values = outputs[output.name]?.data as ArrayLike<number>;
    for (let i = 0; i < rows; i++) probabilities[i * k + j] = values[i] as number;
  });
  return { probabilities, classes };
}

/** Class order of the probability columns: our MLmodel / ONNX metadata; else unknown (label metrics only). */
function classesOf(
  directory: ModelDirectory,
  probabilities: Float64Array | null,
  rows: number,
): string[] | null {
  const fromMlmodel = directory.mlmodel.metadata?.[MODEL_METADATA_KEYS.classes];
  const fromOnnx = directory.onnx.metadata[ONNX_METADATA_KEYS.classes];
  let classes: unknown = fromMlmodel;
  if (!Array.isArray(classes) && fromOnnx !== undefined) {
    try {
      classes = JSON.parse(fromOnnx);
    } catch {
      classes = undefined;
    }
  }
  if (!Array.isArray(classes) || classes.length === 0) return null;
  const names = classes.map(String);
  return probabilities && probabilities.length === rows * names.length ? names : null;
}

function uniform(rows: number, k: number): Float64Array {
  return new Float64Array(rows * k).fill(1 / k);
}

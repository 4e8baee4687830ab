/**
 * How a graph's outputs become predictions, worked out once per model version. Recognised:
 *
 * - classifiers: a label tensor ([N], string or int64) with the probabilities as one float
 *   [N, C] tensor (ai.onnx.ml classifiers; skl2onnx's ZipMap once graph-preparation.ts has
 *   exposed its input), or as one `probability_<class>` tensor [N] / [N, 1] per class (our
 *   rank-1 format, which mlflow.pyfunc returns as a DataFrame);
 * - regressors: a single float or double output [N] / [N, 1], whatever its name (`prediction`,
 *   `variable`, ...);
 * - anything else: every output by name, per row.
 *
 * The JSON a caller gets: `{label, probabilities: {class: p}}` for a classifier, a number for a
 * regressor (an array when it has several values per row).
 */
import type * as ort from 'onnxruntime-node';
import { ONNX_METADATA_KEYS, type OnnxModelInfo } from '../onnx';
import { ModelProblem } from './errors';
import type { PreparedGraph } from './graph-preparation';

export interface ClassPrediction {
  readonly label: string | number;
  readonly probabilities: Record<string, number>;
}

/** A classifier's label with class probabilities, a regressor's number, or {output: value} for other graphs. */
export type Prediction = ClassPrediction | number | number[] | Record<string, unknown>;

export type OutputDecoder = (outputs: ort.InferenceSession.OnnxValueMapType, rows: number) => Prediction[];

export interface ModelOutputs {
  readonly task: 'classification' | 'regression' | 'other';
  /** A classifier's classes, in the order of its probability columns. */
  readonly classes?: readonly string[];
  /** The JSON type of a classifier's label. */
  readonly labelType?: 'string' | 'integer';
  /** A regressor's values per row (1 for [N] and [N, 1]). */
  readonly valuesPerRow?: number;
  readonly decode: OutputDecoder;
}

/** onnxruntime-node's description of an output. */
export type OutputMetadata = ort.InferenceSession.ValueMetadata;

interface TensorOutput {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

export const PROBABILITY_PREFIX = 'probability_';

const FLOAT_TYPES: ReadonlySet<string> = new Set(['float32', 'float64']);

export function outputsOf(
  metadata: readonly OutputMetadata[],
  graph: PreparedGraph,
  info: OnnxModelInfo,
): ModelOutputs {
  const tensors: TensorOutput[] = [];
  for (const output of metadata) {
    if (output.isTensor) tensors.push({ name: output.name, type: output.type, shape: output.shape });
  }
  const isRowVector = (t: TensorOutput) => t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1);
  const labels = tensors.filter((t) => (t.type === 'string' || t.type === 'int64') && isRowVector(t));
  const label = labels.find((t) => t.name === 'label' || t.name === 'output_label') ?? labels[0];
  if (label) {
    const labelType = label.type === 'string' ? 'string' : 'integer';
    const perClass = tensors.filter(
      (t) => t.name.startsWith(PROBABILITY_PREFIX) && FLOAT_TYPES.has(t.type) && isRowVector(t),
    );
    if (perClass.length > 0) {
      const classes = perClass.map((t) => t.name.slice(PROBABILITY_PREFIX.length));
      return {
        task: 'classification',
        classes,
        labelType,
        decode: perClassDecoder(
          label.name,
          perClass.map((t) => t.name),
          classes,
        ),
      };
    }
    const matrix = tensors.find((t) => FLOAT_TYPES.has(t.type) && t.shape.length === 2 && t.shape[1] !== 1);
    if (matrix) {
      const width = typeof matrix.shape[1] === 'number' ? matrix.shape[1] : undefined;
      const classes = classesOf(matrix.name, label.name, width, graph, info);
      return {
        task: 'classification',
        ...(classes ? { classes } : {}),
        labelType,
        decode: matrixDecoder(label.name, matrix.name, classes),
      };
    }
  }
  const numeric = tensors.filter((t) => FLOAT_TYPES.has(t.type));
  const only = numeric[0];
  if (numeric.length === 1 && metadata.length === 1 && only) {
    const perRow = only.shape.length === 2 && typeof only.shape[1] === 'number' ? only.shape[1] : 1;
    return { task: 'regression', valuesPerRow: perRow, decode: regressorDecoder(only.name) };
  }
  return { task: 'other', decode: genericDecoder(metadata.map((output) => output.name)) };
}

/**
 * The class of each probability column: the ZipMap's labels, our metadata, or the labels of the
 * classifier node producing either output; positional ("0", "1", ...) when none says.
 */
function classesOf(
  probabilities: string,
  label: string,
  width: number | undefined,
  graph: PreparedGraph,
  info: OnnxModelInfo,
): readonly string[] | undefined {
  const fits = (classes: readonly string[] | undefined) =>
    classes && classes.length > 0 && (width === undefined || classes.length === width) ? classes : undefined;
  return (
    fits(graph.zipMapClasses.get(probabilities)) ??
    fits(metadataList(info, ONNX_METADATA_KEYS.classes)) ??
    fits(graph.classLabels.get(label)) ??
    fits(graph.classLabels.get(probabilities)) ??
    (width === undefined ? undefined : Array.from({ length: width }, (_, i) => String(i)))
  );
}

function metadataList(info: OnnxModelInfo, key: string): string[] | undefined {
  const raw = info.metadata[key];
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) && parsed.length > 0 ? parsed.map(String) : undefined;
  } catch {
    return undefined;
  }
}

function labelAt(labels: ArrayLike<unknown>, row: number): string | number {
  const label = labels[row];
  return typeof label === 'bigint' ? Number(label) : (label as string | number);
}

function matrixDecoder(
  labelName: string,
  probabilityName: string,
  classes: readonly string[] | undefined,
): OutputDecoder {
  return (outputs, rows) => {
    const labels = outputs[labelName]?.data;
    const probabilities = outputs[probabilityName];
    if (!labels || !probabilities)
      throw new ModelProblem('MODEL_CORRUPT', 'the model returned no label output');
    const k = probabilities.dims[1] ?? 0;
    const data = probabilities.data as Float32Array | Float64Array;
    const names = classes && classes.length === k ? classes : Array.from({ length: k }, (_, i) => String(i));
    const predictions: ClassPrediction[] = new Array(rows);
    for (let r = 0; r < rows; r++) {
      const byClass: Record<string, number> = {};
      for (let c = 0; c < k; c++) byClass[names[c] ?? String(c)] = data[r * k + c] ?? Number.NaN;
      predictions[r] = { label: labelAt(labels, r), probabilities: byClass };
    }
    return predictions;
  };
}

function perClassDecoder(
  labelName: string,
  outputNames: readonly string[],
  classes: readonly string[],
): OutputDecoder {
  return (outputs, rows) => {
    const labels = outputs[labelName]?.data;
    const columns = outputNames.map((name) => outputs[name]?.data as Float32Array | Float64Array | undefined);
    if (!labels || columns.some((column) => !column)) {
      throw new ModelProblem('MODEL_CORRUPT', 'the model returned no label or probability output');
    }
    const predictions: ClassPrediction[] = new Array(rows);
    for (let r = 0; r < rows; r++) {
      const byClass: Record<string, number> = {};
      for (let c = 0; c < classes.length; c++) {
        byClass[classes[c] as string] = (columns[c] as Float32Array)[r] ?? Number.NaN;
      }
      predictions[r] = { label: labelAt(labels, r), probabilities: byClass };
    }
    return predictions;
  };
}

function regressorDecoder(name: string): OutputDecoder {
  return (outputs, rows) => {
    const tensor = outputs[name];
    if (!tensor) throw new ModelProblem('MODEL_CORRUPT', `the model returned no ${name} output`);
    const data = tensor.data as Float32Array | Float64Array;
    const perRow = rows === 0 ? 0 : data.length / rows;
    const predictions: Prediction[] = new Array(rows);
    for (let r = 0; r < rows; r++) {
      predictions[r] =
        perRow === 1 ? (data[r] ?? Number.NaN) : Array.from(data.subarray(r * perRow, (r + 1) * perRow));
    }
    return predictions;
  };
}

function genericDecoder(names: readonly string[]): OutputDecoder {
  return (outputs, rows) => {
    const predictions: Record<string, unknown>[] = Array.from({ length: rows }, () => ({}));
    for (const name of names) {
      const tensor = outputs[name];
      if (!tensor) continue;
      const perRow = rows === 0 ? 0 : tensor.data.length / rows;
      for (let r = 0; r < rows; r++) {
        const slice = Array.from(tensor.data as ArrayLike<unknown>).slice(r * perRow, (r + 1) * perRow);
        const row = predictions[r];
        if (row) row[name] = slice.map((v) => (typeof v === 'bigint' ? Number(v) : v));
      }
    }
    return predictions;
  };
}

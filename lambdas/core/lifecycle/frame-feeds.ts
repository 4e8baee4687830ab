/**
 * A frame's columns as onnxruntime feeds for a graph's inputs, by name: what the holdout scoring
 * and batch scoring need until serving's general input mapping takes over (one module, so it can
 * be swapped). Two layouts:
 * - one input per column (the project's graphs, and skl2onnx's): `[N]` or `[N, 1]`, typed as
 *   the input says: strings ("" when missing), double / float (NaN when missing), int64, bool;
 * - the single `[N, F]` float tensor of models registered before per-column inputs: the named
 *   features side by side, categories as their level's index (NaN when missing).
 */
import * as ort from 'onnxruntime-node';
import { categoryAt, type Frame } from '../data/frame';

/** The frame cannot be fed to this graph: names the input and, where it matters, the row. */
export class FeedMismatchError extends Error {
  override name = 'FeedMismatchError';
}

type InputMetadata = ort.InferenceSession['inputMetadata'][number];

/** True for the earlier single-tensor layout: one input of rank 2 whose second dimension is not 1. */
export function isSingleTensorGraph(inputs: readonly InputMetadata[]): boolean {
  const [only] = inputs;
  return inputs.length === 1 && only?.isTensor === true && only.shape.length === 2 && only.shape[1] !== 1;
}

/** One tensor per graph input, from the frame column of the same name. */
export function columnFeeds(inputs: readonly InputMetadata[], frame: Frame): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    if (!input.isTensor) throw new FeedMismatchError(`input '${input.name}' is not a tensor`);
    const column = frame.columns.get(input.name);
    if (!column) throw new FeedMismatchError(`the data has no column '${input.name}', an input of the model`);
    const rows = frame.rowCount;
    const dims = input.shape.length === 2 ? [rows, 1] : [rows];
    if (input.type === 'string') {
      if (column.kind !== 'categorical') {
        throw new FeedMismatchError(`input '${input.name}' takes strings; the column holds numbers`);
      }
      const values = Array.from({ length: rows }, (_, i) => categoryAt(column, i) ?? '');
      feeds[input.name] = new ort.Tensor('string', values, dims);
      continue;
    }
    if (column.kind !== 'numeric') {
      throw new FeedMismatchError(
        `input '${input.name}' takes ${input.type} numbers; the column holds strings`,
      );
    }
    feeds[input.name] = numericTensor(input.name, input.type, column.values, dims);
  }
  return feeds;
}

function numericTensor(name: string, type: string, values: Float64Array, dims: number[]): ort.Tensor {
  switch (type) {
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(values), dims);
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(values), dims);
    case 'int64':
      return new ort.Tensor(
        'int64',
        BigInt64Array.from(values, (v, i) => BigInt(whole(name, v, i))),
        dims,
      );
    case 'int32':
      return new ort.Tensor(
        'int32',
        Int32Array.from(values, (v, i) => whole(name, v, i)),
        dims,
      );
    case 'bool':
      return new ort.Tensor(
        'bool',
        Uint8Array.from(values, (v, i) => (whole(name, v, i) === 0 ? 0 : 1)),
        dims,
      );
    default:
      throw new FeedMismatchError(`input '${name}' has element type ${type}, which is not fed here`);
  }
}

function whole(name: string, value: number, row: number): number {
  if (!Number.isInteger(value)) {
    throw new FeedMismatchError(
      `input '${name}' takes whole numbers; row ${row + 1} holds ${Number.isNaN(value) ? 'no value' : value}`,
    );
  }
  return value;
}

/** The earlier layout's [N, F] matrix of `features` (ordinal category codes, NaN when missing). */
export function ordinalMatrix(frame: Frame, features: readonly string[]): Float64Array {
  const cols = features.length;
  const x = new Float64Array(frame.rowCount * cols);
  features.forEach((name, j) => {
    const column = frame.columns.get(name);
    if (!column) throw new FeedMismatchError(`the data has no column '${name}', a feature of the model`);
    for (let i = 0; i < frame.rowCount; i++) {
      const value = column.kind === 'numeric' ? (column.values[i] as number) : (column.codes[i] as number);
      x[i * cols + j] = column.kind === 'categorical' && value < 0 ? Number.NaN : value;
    }
  });
  return x;
}

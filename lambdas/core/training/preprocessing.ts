/**
 * The preprocessing a model applies to its raw input columns before the estimator: mean
 * imputation of missing numbers, one-hot encoding of categories (model-types.ts `InputColumn`).
 * The trainers see its output; the predictor applies it here, and the ONNX exporter writes the
 * same steps into the graph (lambdas/core/onnx/preprocessing-export.ts), so the three agree.
 *
 * It is fitted on the training rows by lambdas/core/data/features.ts (`fitPreprocessing`).
 */
import type { Frame } from '../data/frame';
import { TrainingDataError } from './errors';
import type { FittedModel, InputColumn } from './model-types';
import type { FeatureMatrix } from './training-data';

/** The estimator's column names: a numeric input's own name, `<column>=<level>` per one-hot level. */
export function expandedFeatureNames(inputs: readonly InputColumn[]): string[] {
  return inputs.flatMap((input) =>
    input.kind === 'numeric' ? [input.name] : input.levels.map((level) => `${input.name}=${level}`),
  );
}

/** The model's raw inputs: its `inputs`, or for a model fitted on a bare matrix its features as numbers. */
export function modelInputs(model: FittedModel): InputColumn[] {
  return (
    model.inputs ??
    // No imputer behind these inputs: a missing value would reach the estimator as NaN.
    model.features.map((name) => ({ name, kind: 'numeric', dtype: 'double', nullable: false, mean: null }))
  );
}

/**
 * Numeric inputs for a matrix that has no raw columns behind it: each column is its own input,
 * with its mean to impute (the matrix is finite: trainers check that first).
 */
export function matrixInputs(data: FeatureMatrix): InputColumn[] {
  const { x, rows, cols } = data;
  const sums = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) sums[j] = (sums[j] as number) + (x[i * cols + j] as number);
  }
  return data.features.map((name, j) => ({
    name,
    kind: 'numeric',
    dtype: 'double',
    nullable: false,
    mean: rows > 0 ? (sums[j] as number) / rows : 0,
  }));
}

/**
 * The frame's rows as the estimator's row-major matrix: numbers with NaN replaced by the input's
 * mean, categories one-hot on the input's levels (an unknown or missing value: all zeros).
 * Columns are found by name, so the frame may hold more, in any order.
 */
export function preprocessFrame(inputs: readonly InputColumn[], frame: Frame): Float64Array {
  const rows = frame.rowCount;
  const width = inputs.reduce((sum, input) => sum + (input.kind === 'numeric' ? 1 : input.levels.length), 0);
  const x = new Float64Array(rows * width);
  let offset = 0;
  for (const input of inputs) {
    const column = frame.columns.get(input.name);
    if (!column) {
      throw new TrainingDataError('FEATURE_MISMATCH', `the data has no column '${input.name}'`, input.name);
    }
    if (input.kind === 'numeric') {
      if (column.kind !== 'numeric') throw kindMismatch(input.name, 'numbers', 'categories');
      const fill = input.mean ?? Number.NaN;
      for (let i = 0; i < rows; i++) {
        const value = column.values[i] as number;
        x[i * width + offset] = Number.isNaN(value) ? fill : value;
      }
      offset += 1;
      continue;
    }
    if (column.kind !== 'categorical') throw kindMismatch(input.name, 'categories', 'numbers');
    const position = new Map(input.levels.map((level, k) => [level, k]));
    // Frame code → one-hot position, -1 for a level the model does not know.
    const slot = column.levels.map((level) => position.get(level) ?? -1);
    for (let i = 0; i < rows; i++) {
      const code = column.codes[i] as number;
      const k = code < 0 ? -1 : (slot[code] as number);
      if (k >= 0) x[i * width + offset + k] = 1;
    }
    offset += input.levels.length;
  }
  return x;
}

function kindMismatch(name: string, expected: string, actual: string): TrainingDataError {
  return new TrainingDataError(
    'FEATURE_MISMATCH',
    `column '${name}' holds ${actual}; the model takes ${expected} there`,
    name,
  );
}

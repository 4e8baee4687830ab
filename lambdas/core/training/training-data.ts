/**
 * What the trainers take: a dense row-major float matrix plus labels. The Frame → matrix
 * conversion (lambdas/core/data) produces it; the trainers, predictors and metrics only read it.
 */
import { type Frame, takeRows } from '../data/frame';
import { TrainingDataError } from './errors';
import type { InputColumn } from './model-types';

/** n × d features, row-major: the value of feature j in row i is `x[i * cols + j]`. */
export interface FeatureMatrix {
  readonly x: Float64Array;
  readonly rows: number;
  readonly cols: number;
  /** Column names, in column order (they become the model's `features`). */
  readonly features: readonly string[];
  /**
   * How the matrix was made from raw columns (fitted on these rows); the model keeps it. Absent:
   * the columns are raw numbers.
   */
  readonly inputs?: readonly InputColumn[];
  /** The raw rows behind the matrix, so a model with other preprocessing can score them (`evaluate`). */
  readonly raw?: Frame;
}

export interface ClassificationData extends FeatureMatrix {
  readonly task: 'classification';
  /** Class index per row, 0..classes.length-1. */
  readonly y: Int32Array;
  /** Class names in index order (they become the model's `classes`). */
  readonly classes: readonly string[];
}

export interface RegressionData extends FeatureMatrix {
  readonly task: 'regression';
  readonly y: Float64Array;
}

export type TrainingData = ClassificationData | RegressionData;

/** Checks the matrix shape and that every feature value is finite; names the first bad cell. */
export function validateFeatureMatrix(data: FeatureMatrix): void {
  const { x, rows, cols, features } = data;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new TrainingDataError('SHAPE_MISMATCH', `rows (${rows}) and cols (${cols}) must be whole numbers`);
  }
  if (rows === 0) throw new TrainingDataError('EMPTY_DATA', 'the data has no rows', 'x');
  if (cols === 0) throw new TrainingDataError('EMPTY_DATA', 'the data has no feature columns', 'features');
  if (features.length !== cols) {
    throw new TrainingDataError(
      'SHAPE_MISMATCH',
      `${features.length} feature names for ${cols} columns`,
      'features',
    );
  }
  if (x.length !== rows * cols) {
    throw new TrainingDataError(
      'SHAPE_MISMATCH',
      `x holds ${x.length} values, expected rows × cols = ${rows * cols}`,
      'x',
    );
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      const row = Math.floor(i / cols);
      const feature = features[i % cols] as string;
      throw new TrainingDataError(
        'NOT_FINITE',
        `feature '${feature}' is ${x[i]} in row ${row}: impute or drop missing values before training`,
        feature,
        row,
      );
    }
  }
}

/**
 * What training and scoring both need: the matrix checks, one label per row, and finite targets
 * for regression. Class labels are checked by the caller (trainers and `evaluate` differ there).
 */
export function validateMatrixAndTargets(data: TrainingData): void {
  validateFeatureMatrix(data);
  if (data.y.length !== data.rows) {
    throw new TrainingDataError('SHAPE_MISMATCH', `${data.y.length} labels for ${data.rows} rows`, 'y');
  }
  if (data.task === 'regression') {
    const bad = data.y.findIndex((value) => !Number.isFinite(value));
    if (bad !== -1) {
      throw new TrainingDataError('NOT_FINITE', `the target is ${data.y[bad]} in row ${bad}`, 'y', bad);
    }
  }
}

/**
 * Checks everything a trainer relies on: shape, finite features, labels in range (at least two
 * distinct classes for classification), finite targets for regression.
 */
export function validateTrainingData(data: TrainingData): void {
  validateMatrixAndTargets(data);
  if (data.task === 'regression') return;
  const classCount = data.classes.length;
  if (classCount < 2) {
    throw new TrainingDataError(
      'SINGLE_CLASS',
      `a classifier needs at least two classes, got ${classCount}`,
      'classes',
    );
  }
  if (new Set(data.classes).size !== classCount) {
    throw new TrainingDataError('INVALID_LABEL', 'class names must be distinct', 'classes');
  }
  const seen = new Set<number>();
  for (let i = 0; i < data.rows; i++) {
    const label = data.y[i] as number;
    if (label < 0 || label >= classCount) {
      throw new TrainingDataError(
        'INVALID_LABEL',
        `label ${label} in row ${i} is not a class index 0..${classCount - 1}`,
        'y',
        i,
      );
    }
    seen.add(label);
  }
  if (seen.size < 2) {
    const only = data.classes[[...seen][0] as number];
    throw new TrainingDataError(
      'SINGLE_CLASS',
      `every training row has class '${only}': a classifier needs at least two classes present`,
      'y',
    );
  }
}

/** The given rows (in that order) of the data: for splits, bootstraps and cross-validation. */
export function selectRows<T extends TrainingData>(data: T, rows: ArrayLike<number>): T {
  const { cols } = data;
  const x = new Float64Array(rows.length * cols);
  for (let i = 0; i < rows.length; i++) {
    const from = (rows[i] as number) * cols;
    x.set(data.x.subarray(from, from + cols), i * cols);
  }
  const y =
    data.task === 'classification'
      ? Int32Array.from({ length: rows.length }, (_, i) => data.y[rows[i] as number] as number)
      : Float64Array.from({ length: rows.length }, (_, i) => data.y[rows[i] as number] as number);
  const raw = data.raw && takeRows(data.raw, rows);
  return { ...data, x, y, rows: rows.length, ...(raw ? { raw } : {}) };
}

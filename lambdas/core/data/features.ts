/**
 * From a frame to what models take.
 *
 * - `fitPreprocessing`: the raw input columns of a model and their preprocessing (training-set
 *   means for missing numbers, one-hot levels for categories), fitted on the training rows; the
 *   trainers' matrix is `preprocessFrame` of it (lambdas/core/training/preprocessing.ts).
 * - `featureMatrix`: the single `[N, F]` float tensor of models registered before the per-column
 *   format: categories ordinal-encoded (the level's index), NaN when missing. Kept to score those.
 * - `labelVector`: the target.
 */
import type { CategoryInput, InputColumn, NumericInput } from '../training/model-types';
import { type ContractColumn, type DataContract, featureNames } from './contract';
import { DataError } from './errors';
import type { Frame } from './frame';

/**
 * A category column without `values` in the contract keeps its most frequent levels, at most this
 * many (ties: alphabetical); the rest encode as unknown (all-zero one-hot). An id-like column would
 * otherwise add a feature per row and bloat every model without teaching it anything.
 */
export const MAX_CATEGORY_LEVELS = 100;

/**
 * The model's raw inputs (default: the contract's features, in contract order) with their
 * preprocessing fitted on `frame`, the training rows:
 * - number / datetime → `double`; integer / boolean → `int64` / `bool` unless nullable (then
 *   `double`, NaN = missing); the mean of the present values is imputed for a missing one;
 * - category → one-hot levels: the contract's `values` (in its order) when it gives them, else the
 *   levels the rows hold, sorted (scikit-learn's OneHotEncoder order), capped at MAX_CATEGORY_LEVELS.
 */
export function fitPreprocessing(
  frame: Frame,
  contract: DataContract,
  features: readonly string[] = featureNames(contract),
): InputColumn[] {
  const declared = new Map(contract.columns.map((column) => [column.name, column]));
  return features.map((name) => {
    const column = frame.columns.get(name);
    const spec = declared.get(name);
    if (!column || !spec) {
      throw new DataError('INVALID_FRAME', `feature "${name}" is not a column of the frame`, { field: name });
    }
    const nullable = spec.nullable === true;
    if (column.kind === 'categorical') {
      const input: CategoryInput = { name, kind: 'category', nullable, levels: categoryLevels(spec, column) };
      return input;
    }
    let sum = 0;
    let count = 0;
    for (const value of column.values) {
      if (!Number.isNaN(value)) {
        sum += value;
        count++;
      }
    }
    const input: NumericInput = {
      name,
      kind: 'numeric',
      dtype: numericDtype(spec),
      nullable,
      // No present value to average: impute 0, as a constant is all the model can learn from it.
      mean: count > 0 ? sum / count : 0,
    };
    return input;
  });
}

function numericDtype(spec: ContractColumn): NumericInput['dtype'] {
  if (spec.nullable) return 'double';
  if (spec.type === 'integer') return 'int64';
  if (spec.type === 'boolean') return 'bool';
  return 'double';
}

function categoryLevels(
  spec: ContractColumn,
  column: { readonly codes: Int32Array; readonly levels: readonly string[] },
): string[] {
  if (spec.values) return [...spec.values];
  const counts = new Array<number>(column.levels.length).fill(0);
  for (const code of column.codes) if (code >= 0) counts[code] = (counts[code] as number) + 1;
  const present = column.levels
    .map((level, code) => ({ level, count: counts[code] as number }))
    .filter((entry) => entry.count > 0);
  const kept =
    present.length <= MAX_CATEGORY_LEVELS
      ? present
      : [...present]
          .sort((a, b) => b.count - a.count || compareText(a.level, b.level))
          .slice(0, MAX_CATEGORY_LEVELS);
  return kept.map((entry) => entry.level).sort(compareText);
}

/** Code-point order, as Python's sorted() (and so scikit-learn's categories_) orders strings. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface FeatureMatrix {
  /** rowCount × featureCount, row-major: x[row * featureCount + feature]. */
  readonly values: Float64Array;
  readonly rowCount: number;
  readonly featureCount: number;
  readonly features: readonly string[];
  /** The levels behind each categorical feature's codes. */
  readonly categoryLevels: ReadonlyMap<string, readonly string[]>;
}

export type Labels =
  | {
      readonly task: 'classification';
      /** Per row, an index into `classes`. */
      readonly classIndex: Int32Array;
      readonly classes: readonly string[];
    }
  | {
      readonly task: 'regression';
      readonly values: Float64Array;
    };

export interface TrainingData {
  readonly x: FeatureMatrix;
  readonly y: Labels;
}

/**
 * The features (default: the contract's, in contract order) as a dense matrix, categories as
 * ordinal codes: the input layout of models registered before the per-column format.
 */
export function featureMatrix(
  frame: Frame,
  contract: DataContract,
  features: readonly string[] = featureNames(contract),
): FeatureMatrix {
  const featureCount = features.length;
  const values = new Float64Array(frame.rowCount * featureCount);
  const categoryLevels = new Map<string, readonly string[]>();
  features.forEach((name, j) => {
    const column = frame.columns.get(name);
    if (!column) {
      throw new DataError('INVALID_FRAME', `feature "${name}" is not a column of the frame`, { field: name });
    }
    if (column.kind === 'numeric') {
      const source = column.values;
      for (let row = 0; row < frame.rowCount; row++) values[row * featureCount + j] = source[row] as number;
    } else {
      categoryLevels.set(name, column.levels);
      const codes = column.codes;
      for (let row = 0; row < frame.rowCount; row++) {
        const code = codes[row] as number;
        values[row * featureCount + j] = code < 0 ? Number.NaN : code;
      }
    }
  });
  return { values, rowCount: frame.rowCount, featureCount, features: [...features], categoryLevels };
}

/**
 * The target as labels. Classification: class indices into `classes`, which are the category's
 * levels (the contract's `values` when given: every allowed class, seen or not), or the sorted
 * distinct values of an integer target, or `false`/`true`. Every row must have a target.
 */
export function labelVector(frame: Frame, contract: DataContract): Labels {
  const name = contract.target;
  const column = frame.columns.get(name);
  if (!column) {
    throw new DataError('INVALID_FRAME', `the target column "${name}" is not in the frame`, { field: name });
  }
  const type = contract.columns.find((c) => c.name === name)?.type;
  if (column.kind === 'categorical') {
    const missing = column.codes.indexOf(-1);
    if (missing !== -1) throw missingTarget(name, missing);
    return { task: 'classification', classIndex: Int32Array.from(column.codes), classes: column.levels };
  }
  const missing = column.values.findIndex(Number.isNaN);
  if (missing !== -1) throw missingTarget(name, missing);
  if (contract.task === 'regression') return { task: 'regression', values: Float64Array.from(column.values) };

  const distinct = [...new Set(column.values)].sort((a, b) => a - b);
  const index = new Map(distinct.map((value, i) => [value, i]));
  const classIndex = Int32Array.from(column.values, (value) => index.get(value) as number);
  const classes = distinct.map((value) => (type === 'boolean' ? String(value === 1) : String(value)));
  return { task: 'classification', classIndex, classes };
}

export function trainingData(frame: Frame, contract: DataContract): TrainingData {
  return { x: featureMatrix(frame, contract), y: labelVector(frame, contract) };
}

function missingTarget(name: string, row: number): DataError {
  return new DataError(
    'INVALID_FRAME',
    `the target "${name}" is missing in row ${row + 1} of the frame; a nullable target cannot be trained on`,
    { field: name, row: row + 1 },
  );
}

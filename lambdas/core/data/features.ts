/**
 * What the trainers take: a dense row-major matrix of the contract's features and a label vector.
 *
 * Categorical features are ordinal-encoded: the value is the level's index (the contract's
 * `values` order when it gives one, so codes are stable across files), NaN when missing. Missing
 * numeric values stay NaN: imputing is the trainer's choice, not the loader's.
 */
import { type DataContract, featureNames } from './contract';
import { DataError } from './errors';
import type { Frame } from './frame';

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

/** The features (default: the contract's, in contract order) as a dense matrix. */
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

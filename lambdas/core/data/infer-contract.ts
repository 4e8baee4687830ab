/**
 * A draft data contract from a data file, as pandera's `infer_schema` and Great Expectations'
 * profilers draft theirs: each column's type from its values, the observed range of numeric
 * columns, the allowed values of low-cardinality strings, nullability where a value is missing.
 * A draft to read and edit (widen the ranges the data will outgrow), not a final word.
 *
 * The types are the ones the validator would accept for every present value: a string column is
 * `boolean` when each of its values converts as a boolean cell, `datetime` when each is an ISO 8601
 * date, else `category`. Strings with nearly one value per row (ids, names) are left out, with a note.
 */
import { createCellConverter } from './cell-converters';
import { type ContractColumn, type DataContract, parseContract, type Task } from './contract';
import { DataError } from './errors';
import type { Frame } from './frame';

export interface InferContractOptions {
  /** The contract's `name`. */
  readonly name?: string;
  /** The target column. @default the last column */
  readonly target?: string;
  /** @default classification for a category, boolean or few-valued integer target, else regression */
  readonly task?: Task;
  /** Strings with at most this many distinct values list them as `values`. @default 20 */
  readonly maxCategories?: number;
}

export interface InferredContract {
  readonly contract: DataContract;
  /** What a reader should check: the target chosen, columns left out, rows a target is missing in. */
  readonly notes: readonly string[];
}

export const DEFAULT_MAX_CATEGORIES = 20;

/** Strings with more distinct values than this share of their present rows are taken for ids. */
const ID_LIKE_SHARE = 0.5;

export function inferContract(frame: Frame, options: InferContractOptions = {}): InferredContract {
  const maxCategories = options.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  if (!Number.isInteger(maxCategories) || maxCategories < 1) {
    throw new DataError(
      'INVALID_OPTIONS',
      `maxCategories must be a whole number of at least 1, got ${maxCategories}`,
      {
        field: 'maxCategories',
      },
    );
  }
  const names = [...frame.columns.keys()];
  if (names.length < 2) {
    throw new DataError(
      'INVALID_OPTIONS',
      `a contract needs a target and at least one feature: the data has ${names.length} column${names.length === 1 ? '' : 's'}`,
      { field: 'columns' },
    );
  }
  const targetName = options.target ?? (names.at(-1) as string);
  if (!frame.columns.has(targetName)) {
    throw new DataError(
      'INVALID_OPTIONS',
      `target "${targetName}" is not a column of the data (${names.join(', ')})`,
      {
        field: 'target',
      },
    );
  }
  const notes: string[] = [];
  if (options.target === undefined)
    notes.push(`target: ${targetName} (the last column; choose another with --target)`);

  const columns: ContractColumn[] = [];
  for (const [name, column] of frame.columns) {
    const inferred =
      column.kind === 'numeric'
        ? numericColumn(name, column.values)
        : stringColumn(name, column, maxCategories);
    if (inferred === undefined) {
      const distinct = column.kind === 'categorical' ? column.levels.length : 0;
      if (name === targetName) {
        throw new DataError(
          'INVALID_OPTIONS',
          `target "${name}" has ${distinct} distinct strings in ${frame.rowCount} rows: an id, not a target`,
          {
            field: 'target',
          },
        );
      }
      notes.push(
        `left out ${name}: ${distinct} distinct strings in ${frame.rowCount} rows, an id rather than a feature`,
      );
      continue;
    }
    columns.push(inferred);
  }

  const at = columns.findIndex((c) => c.name === targetName);
  const { nullable: targetNullable, ...target } = columns[at] as ContractColumn;
  // A row without a label cannot be trained on: the contract quarantines it.
  columns[at] = target;
  if (targetNullable) notes.push(`target ${targetName} has missing values: those rows will be quarantined`);
  const task = options.task ?? taskOf(target, frame, maxCategories);
  if (task === 'regression' && target.type !== 'number' && target.type !== 'integer') {
    throw new DataError(
      'INVALID_OPTIONS',
      `a regression target must be numeric; "${targetName}" is ${target.type}`,
      {
        field: 'task',
      },
    );
  }
  if (task === 'classification' && target.type === 'number') {
    throw new DataError(
      'INVALID_OPTIONS',
      `a classification target must be a category, boolean or integer column; "${targetName}" has decimal values`,
      { field: 'task' },
    );
  }
  const contract = parseContract(
    {
      ...(options.name !== undefined && { name: options.name }),
      task,
      target: targetName,
      columns,
    },
    'the inferred contract',
  );
  return { contract, notes };
}

function numericColumn(name: string, values: Float64Array): ContractColumn {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let missing = false;
  let integer = true;
  for (const value of values) {
    if (Number.isNaN(value)) {
      missing = true;
      continue;
    }
    if (value < min) min = value;
    if (value > max) max = value;
    if (integer && !Number.isSafeInteger(value)) integer = false;
  }
  if (min > max) return { name, type: 'number', nullable: true };
  return { name, type: integer ? 'integer' : 'number', ...(missing && { nullable: true }), min, max };
}

function stringColumn(
  name: string,
  column: { readonly codes: Int32Array; readonly levels: readonly string[] },
  maxCategories: number,
): ContractColumn | undefined {
  let present = 0;
  for (const code of column.codes) if (code >= 0) present++;
  const nullable = present < column.codes.length ? { nullable: true } : {};
  const levels = column.levels;
  for (const type of ['boolean', 'datetime'] as const) {
    const cells = createCellConverter({ name, type });
    const accepts = (level: string) => {
      cells.convert(level);
      return cells.rule === null;
    };
    if (levels.length > 0 && levels.every(accepts)) {
      return { name, type, ...nullable };
    }
  }
  if (levels.length <= maxCategories) {
    return { name, type: 'category', ...nullable, ...(levels.length > 0 && { values: [...levels].sort() }) };
  }
  if (levels.length > ID_LIKE_SHARE * present) return undefined;
  return { name, type: 'category', ...nullable };
}

function taskOf(target: ContractColumn, frame: Frame, maxCategories: number): Task {
  if (target.type === 'number') return 'regression';
  if (target.type !== 'integer') return 'classification';
  const column = frame.columns.get(target.name);
  const distinct = new Set(column?.kind === 'numeric' ? column.values : []);
  distinct.delete(Number.NaN);
  return distinct.size <= maxCategories ? 'classification' : 'regression';
}

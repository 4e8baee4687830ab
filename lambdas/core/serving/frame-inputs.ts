/**
 * The batch side of the input mapping: a validated frame's columns into a model's graph inputs,
 * by column name, with the same description (model-inputs.ts) the predict API fills from JSON.
 *
 * - a numeric frame column → the input's type (NaN stays NaN in a float input; booleans 0/1);
 * - a categorical frame column → a string input as its level strings ("" when missing), or, for
 *   a numeric input (models of earlier versions took ordinal codes), the level's code;
 * - a single [N, F] tensor is gathered from the columns it names, in its order.
 *
 * A row the model cannot take as it is — a category outside the ones the model knows (the API
 * answers 400 for it), or a missing value for an int or bool input — is set aside with the
 * reason, never scored as something else.
 */
import type { Column, Frame } from '../data';
import type { InputColumn, ModelInputs } from './model-inputs';
import { allocateTensor, type TensorData } from './predict-request';

export interface RowProblem {
  /** 0-based row of the frame. */
  readonly row: number;
  readonly column: string;
  readonly rule: 'not_allowed_value' | 'null_not_allowed';
  /** The offending value as the frame holds it. */
  readonly value: string | number | null;
  readonly message: string;
}

export interface FrameInputs {
  /** The frame rows scored, in frame order (those without a problem). */
  readonly rows: Int32Array;
  /** One per `ModelInputs.inputs` entry, over `rows`. */
  readonly tensors: readonly TensorData[];
  /** The rows set aside, by frame row; a row may have several. */
  readonly problems: readonly RowProblem[];
}

/** Thrown when the frame lacks a column the model takes: a contract/model mismatch, not a row problem. */
export class FrameMismatchError extends Error {
  override name = 'FrameMismatchError';
  constructor(
    message: string,
    readonly column: string,
  ) {
    super(message);
  }
}

export interface FrameInputOptions {
  /**
   * Hand a category the model does not know to the graph (which encodes it as all zeros) instead
   * of setting the row aside: for scoring a holdout, where every row must count.
   */
  readonly encodeUnknownCategories?: boolean;
}

export function frameInputs(frame: Frame, inputs: ModelInputs, options: FrameInputOptions = {}): FrameInputs {
  const sources = inputs.columns.map((column) => {
    const source = frame.columns.get(column.name);
    if (!source) {
      throw new FrameMismatchError(
        `the model takes a column '${column.name}' the data does not have`,
        column.name,
      );
    }
    return source;
  });
  const problems = rowProblems(frame.rowCount, inputs, sources, options.encodeUnknownCategories === true);
  const bad = new Set(problems.map((problem) => problem.row));
  const rows = new Int32Array(frame.rowCount - bad.size);
  for (let row = 0, i = 0; row < frame.rowCount; row++) if (!bad.has(row)) rows[i++] = row;
  const tensors = inputs.inputs.map((input) => allocateTensor(input.elementType, rows.length * input.width));
  inputs.columns.forEach((column, c) => {
    const input = inputs.inputs[column.input];
    if (input)
      fillColumn(tensors[column.input] as TensorData, input.width, column, sources[c] as Column, rows);
  });
  return { rows, tensors, problems };
}

function rowProblems(
  rowCount: number,
  inputs: ModelInputs,
  sources: readonly Column[],
  encodeUnknown: boolean,
): RowProblem[] {
  const problems: RowProblem[] = [];
  inputs.columns.forEach((column, c) => {
    const source = sources[c] as Column;
    const elementType = inputs.inputs[column.input]?.elementType;
    const takesMissing = elementType === 'string' || elementType === 'float32' || elementType === 'float64';
    if (source.kind === 'categorical') {
      const known =
        !encodeUnknown && column.kind === 'string' && column.categories
          ? new Set(column.categories)
          : undefined;
      // Per level once, not per row.
      const allowed = source.levels.map((level) => !known || known.has(level));
      for (let row = 0; row < rowCount; row++) {
        const code = source.codes[row] as number;
        if (code < 0) {
          if (!takesMissing) problems.push(missing(row, column, elementType));
        } else if (!allowed[code]) {
          const value = source.levels[code] as string;
          problems.push({
            row,
            column: column.name,
            rule: 'not_allowed_value',
            value,
            message: `column "${column.name}" value ${JSON.stringify(value)} is not a category the model knows (${(column.categories ?? []).join(', ')})`,
          });
        }
      }
    } else if (!takesMissing) {
      for (let row = 0; row < rowCount; row++) {
        if (Number.isNaN(source.values[row])) problems.push(missing(row, column, elementType));
      }
    }
  });
  return problems.sort((a, b) => a.row - b.row);
}

function missing(row: number, column: InputColumn, elementType: string | undefined): RowProblem {
  return {
    row,
    column: column.name,
    rule: 'null_not_allowed',
    value: null,
    message: `column "${column.name}" has no value, and the model's ${elementType} input cannot take a missing one`,
  };
}

function fillColumn(
  target: TensorData,
  width: number,
  column: InputColumn,
  source: Column,
  rows: Int32Array,
): void {
  const { offset } = column;
  if (Array.isArray(target)) {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as number;
      target[i * width + offset] =
        source.kind === 'categorical'
          ? (source.levels[source.codes[row] as number] ?? '')
          : Number.isNaN(source.values[row])
            ? ''
            : String(source.values[row]);
    }
    return;
  }
  const valueAt =
    source.kind === 'categorical'
      ? (row: number) => {
          const code = source.codes[row] as number;
          return code < 0 ? Number.NaN : code;
        }
      : (row: number) => source.values[row] as number;
  if (target instanceof BigInt64Array) {
    for (let i = 0; i < rows.length; i++)
      target[i * width + offset] = BigInt(Math.trunc(valueAt(rows[i] as number)));
    return;
  }
  for (let i = 0; i < rows.length; i++) target[i * width + offset] = valueAt(rows[i] as number);
}

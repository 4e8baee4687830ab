/**
 * Turns a scoring request body into the model's input tensors, validating every value against
 * the model's input columns (model-inputs.ts). Accepted shapes (MLflow's scoring protocol plus
 * `instances`), columns matched by NAME in any order:
 *
 *   {"instances": [{"f1": 1, "f2": "a"}, ...]}     records, or positional rows [[1, "a"], ...] in model order
 *   {"dataframe_records": [{"f1": 1, "f2": "a"}, ...]}
 *   {"dataframe_split": {"columns": ["f2", "f1"], "data": [["a", 1], ...]}}
 *   {"inputs": [[1, "a"], ...]}  or  {"inputs": {"<tensor name>": [[1, 2], ...]}}  or  {"inputs": {"f1": [1, ...], ...}}
 *
 * Numbers are coerced to the input's element type (integers checked, int64 as BigInt, booleans
 * from true/false); null, or an absent field, is a missing value only where the column is
 * optional (NaN for a float input, "" for a string one). A string column with known categories
 * refuses any other value.
 *
 * This is the hot path and a trust boundary: it is hand-written rather than a schema library's
 * so that each error names the exact field and row and a valid request costs one pass, straight
 * into typed arrays.
 */

import { parseIsoDatetime } from '../data/cell-converters';
import { ValidationError } from './errors';
import type { InputColumn, InputElementType, ModelInputs } from './model-inputs';

/** One graph input's values, row-major rows × width, in onnxruntime-node's array type for it. */
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | string[];

export interface ParsedInput {
  readonly rows: number;
  /** One per `ModelInputs.inputs` entry. */
  readonly tensors: readonly TensorData[];
}

export const REQUEST_SHAPES = ['instances', 'dataframe_records', 'dataframe_split', 'inputs'] as const;

const FLOAT32_MAX = 3.4028234663852886e38;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** Known values listed in an error message at most. */
const LISTED_CATEGORIES = 20;

/** Column lookup and per-column write plan, built once per model rather than per request. */
export interface CompiledInputs {
  readonly description: ModelInputs;
  readonly index: ReadonlyMap<string, number>;
  readonly names: readonly string[];
  readonly columns: readonly InputColumn[];
  /** Per column: the element type of the tensor it is written to, and that tensor's row width. */
  readonly elementTypes: readonly InputElementType[];
  readonly strides: readonly number[];
  readonly categorySets: readonly (ReadonlySet<string> | undefined)[];
}

export function compileInputs(description: ModelInputs): CompiledInputs {
  const columns = description.columns;
  const inputOf = (column: InputColumn) => description.inputs[column.input];
  return {
    description,
    columns,
    names: columns.map((column) => column.name),
    index: new Map(columns.map((column, i) => [column.name, i])),
    elementTypes: columns.map((column) => inputOf(column)?.elementType ?? 'float32'),
    strides: columns.map((column) => inputOf(column)?.width ?? 1),
    categorySets: columns.map((column) => (column.categories ? new Set(column.categories) : undefined)),
  };
}

export function allocateTensor(type: InputElementType, length: number): TensorData {
  switch (type) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'bool':
      return new Uint8Array(length);
    case 'string':
      return new Array<string>(length).fill('');
  }
}

export function parsePredictRequest(body: unknown, compiled: CompiledInputs, maxRows: number): ParsedInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError(
      'INVALID_SHAPE',
      `the body must be a JSON object with one of ${REQUEST_SHAPES.join(', ')}`,
    );
  }
  const keys = Object.keys(body);
  const shape = keys[0];
  if (keys.length !== 1 || shape === undefined) {
    const unknown = keys.find((key) => !(REQUEST_SHAPES as readonly string[]).includes(key));
    if (unknown !== undefined) {
      throw new ValidationError(
        'UNKNOWN_FIELD',
        `unknown key '${clip(unknown)}' in the body; expected exactly one of ${REQUEST_SHAPES.join(', ')}`,
        clip(unknown),
      );
    }
    throw new ValidationError(
      'INVALID_SHAPE',
      `the body must have exactly one of ${REQUEST_SHAPES.join(', ')} (got ${keys.length === 0 ? 'none' : keys.join(', ')})`,
    );
  }
  const payload: unknown = (body as Record<string, unknown>)[shape];
  switch (shape) {
    case 'instances':
      return parseRows(payload, shape, compiled, maxRows, true);
    case 'dataframe_records':
      return parseRows(payload, shape, compiled, maxRows, false);
    case 'dataframe_split':
      return parseSplit(payload, compiled, maxRows);
    case 'inputs':
      return parseInputs(payload, compiled, maxRows);
    default:
      throw new ValidationError(
        'UNKNOWN_FIELD',
        `unknown key '${clip(shape)}' in the body; expected one of ${REQUEST_SHAPES.join(', ')}`,
        clip(shape),
      );
  }
}

function parseInputs(payload: unknown, compiled: CompiledInputs, maxRows: number): ParsedInput {
  if (Array.isArray(payload)) return parseRows(payload, 'inputs', compiled, maxRows, true);
  if (payload === null || typeof payload !== 'object') {
    throw new ValidationError(
      'INVALID_SHAPE',
      'inputs must be a list of rows, a {tensor name: rows} object or a {column: values} object',
      'inputs',
    );
  }
  const record = payload as Record<string, unknown>;
  const keys = Object.keys(record);
  const inputs = compiled.description.inputs;
  const tensorName = inputs.length === 1 && inputs[0]?.layout === 'matrix' ? inputs[0].name : undefined;
  // A named tensor, unless the tensor's name is also a column name (then it is columnar).
  if (
    tensorName !== undefined &&
    keys.length === 1 &&
    keys[0] === tensorName &&
    !compiled.index.has(tensorName)
  ) {
    return parseRows(record[tensorName], `inputs.${tensorName}`, compiled, maxRows, true);
  }
  return parseColumnar(record, compiled, maxRows);
}

function allocateAll(compiled: CompiledInputs, rows: number): TensorData[] {
  return compiled.description.inputs.map((input) => allocateTensor(input.elementType, rows * input.width));
}

/** Rows as records (objects) or, where `allowPositional`, as arrays of values in model column order. */
function parseRows(
  rows: unknown,
  field: string,
  compiled: CompiledInputs,
  maxRows: number,
  allowPositional: boolean,
): ParsedInput {
  if (!Array.isArray(rows)) {
    throw new ValidationError('INVALID_SHAPE', `${field} must be a list of rows`, field);
  }
  checkRowCount(rows.length, maxRows, field);
  const tensors = allocateAll(compiled, rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row: unknown = rows[r];
    if (Array.isArray(row)) {
      if (!allowPositional) {
        throw new ValidationError(
          'INVALID_SHAPE',
          `row ${r} of ${field} must be an object of fields`,
          field,
          r,
        );
      }
      readPositionalRow(row, r, compiled, tensors);
    } else if (row !== null && typeof row === 'object') {
      readRecord(row as Record<string, unknown>, r, compiled, tensors);
    } else {
      throw new ValidationError(
        'INVALID_SHAPE',
        `row ${r} of ${field} must be ${allowPositional ? 'an object or a list of values' : 'an object'}, got ${kindOf(row)}`,
        field,
        r,
      );
    }
  }
  return { rows: rows.length, tensors };
}

function readRecord(
  record: Record<string, unknown>,
  row: number,
  compiled: CompiledInputs,
  tensors: TensorData[],
): void {
  let seen = 0;
  for (const key in record) {
    const column = compiled.index.get(key);
    if (column === undefined) {
      throw new ValidationError(
        'UNKNOWN_FIELD',
        `unknown field '${clip(key)}' in row ${row}; the model takes ${describeColumns(compiled)}`,
        clip(key),
        row,
      );
    }
    writeCell(record[key], column, row, compiled, tensors);
    seen++;
  }
  if (seen === compiled.columns.length) return;
  // Some fields are absent: optional ones are missing values, required ones an error.
  for (let c = 0; c < compiled.columns.length; c++) {
    const name = compiled.names[c] as string;
    if (Object.hasOwn(record, name)) continue;
    if (compiled.columns[c]?.required) {
      throw new ValidationError('MISSING_FIELD', `missing field '${name}' in row ${row}`, name, row);
    }
    writeCell(null, c, row, compiled, tensors);
  }
}

function readPositionalRow(
  values: unknown[],
  row: number,
  compiled: CompiledInputs,
  tensors: TensorData[],
): void {
  const width = compiled.columns.length;
  if (values.length !== width) {
    throw new ValidationError(
      'INVALID_SHAPE',
      `row ${row} has ${values.length} values; the model takes ${width} (${describeColumns(compiled)})`,
      undefined,
      row,
    );
  }
  for (let c = 0; c < width; c++) writeCell(values[c], c, row, compiled, tensors);
}

function parseSplit(payload: unknown, compiled: CompiledInputs, maxRows: number): ParsedInput {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new ValidationError(
      'INVALID_SHAPE',
      'dataframe_split must be an object with columns and data',
      'dataframe_split',
    );
  }
  const split = payload as Record<string, unknown>;
  for (const key of Object.keys(split)) {
    if (key !== 'columns' && key !== 'data' && key !== 'index') {
      throw new ValidationError(
        'UNKNOWN_FIELD',
        `unknown key '${clip(key)}' in dataframe_split; expected columns, data and optionally index`,
        clip(key),
      );
    }
  }
  const { columns, data } = split;
  if (!Array.isArray(columns)) {
    throw new ValidationError(
      'INVALID_SHAPE',
      'dataframe_split.columns must be a list of column names',
      'columns',
    );
  }
  if (!Array.isArray(data)) {
    throw new ValidationError('INVALID_SHAPE', 'dataframe_split.data must be a list of rows', 'data');
  }
  const mapping = columnMapping(columns, compiled);
  checkRowCount(data.length, maxRows, 'dataframe_split.data');
  const tensors = allocateAll(compiled, data.length);
  for (let r = 0; r < data.length; r++) {
    const row: unknown = data[r];
    if (!Array.isArray(row) || row.length !== mapping.length) {
      throw new ValidationError(
        'INVALID_SHAPE',
        `row ${r} of dataframe_split.data must be a list of ${mapping.length} values`,
        'data',
        r,
      );
    }
    for (let c = 0; c < mapping.length; c++) writeCell(row[c], mapping[c] as number, r, compiled, tensors);
  }
  fillAbsentColumns(mapping, data.length, compiled, tensors);
  return { rows: data.length, tensors };
}

function parseColumnar(
  record: Record<string, unknown>,
  compiled: CompiledInputs,
  maxRows: number,
): ParsedInput {
  const names = Object.keys(record);
  const mapping = columnMapping(names, compiled);
  let rows = -1;
  for (const name of names) {
    const column = record[name];
    if (!Array.isArray(column)) {
      throw new ValidationError('INVALID_SHAPE', `inputs.${clip(name)} must be a list of values`, clip(name));
    }
    if (rows === -1) {
      rows = column.length;
      checkRowCount(rows, maxRows, 'inputs');
    } else if (column.length !== rows) {
      throw new ValidationError(
        'INVALID_SHAPE',
        `inputs.${clip(name)} has ${column.length} values; the other columns have ${rows}`,
        clip(name),
      );
    }
  }
  if (rows === -1) throw new ValidationError('NO_ROWS', 'inputs has no columns', 'inputs');
  const tensors = allocateAll(compiled, rows);
  for (let c = 0; c < names.length; c++) {
    const values = record[names[c] as string] as unknown[];
    const target = mapping[c] as number;
    for (let r = 0; r < rows; r++) {
      const value = values[r];
      // A column input as a tensor of shape [N, 1] (MLflow's tensor form): [[v], [v], ...].
      writeCell(Array.isArray(value) && value.length === 1 ? value[0] : value, target, r, compiled, tensors);
    }
  }
  fillAbsentColumns(mapping, rows, compiled, tensors);
  return { rows, tensors };
}

/** For each given column name, its position among the model's columns; each may be given once. */
function columnMapping(columns: unknown[], compiled: CompiledInputs): number[] {
  const mapping: number[] = [];
  const used = new Set<number>();
  for (const name of columns) {
    if (typeof name !== 'string') {
      throw new ValidationError(
        'INVALID_TYPE',
        `column names must be strings, got ${kindOf(name)}`,
        'columns',
      );
    }
    const column = compiled.index.get(name);
    if (column === undefined) {
      throw new ValidationError(
        'UNKNOWN_FIELD',
        `unknown field '${clip(name)}'; the model takes ${describeColumns(compiled)}`,
        clip(name),
      );
    }
    if (used.has(column)) {
      throw new ValidationError('INVALID_SHAPE', `column '${clip(name)}' is given twice`, clip(name));
    }
    used.add(column);
    mapping.push(column);
  }
  const missing = compiled.columns.find((column, i) => column.required && !used.has(i));
  if (missing !== undefined) {
    throw new ValidationError('MISSING_FIELD', `missing field '${missing.name}'`, missing.name);
  }
  return mapping;
}

/** Optional columns a column-wise body leaves out are missing in every row. */
function fillAbsentColumns(
  mapping: readonly number[],
  rows: number,
  compiled: CompiledInputs,
  tensors: TensorData[],
) {
  if (mapping.length === compiled.columns.length) return;
  const given = new Set(mapping);
  for (let c = 0; c < compiled.columns.length; c++) {
    if (!given.has(c)) for (let r = 0; r < rows; r++) writeCell(null, c, r, compiled, tensors);
  }
}

/** Checks one value against its column and writes it, coerced, into its tensor. */
function writeCell(
  value: unknown,
  c: number,
  row: number,
  compiled: CompiledInputs,
  tensors: TensorData[],
): void {
  const column = compiled.columns[c] as InputColumn;
  const elementType = compiled.elementTypes[c] as InputElementType;
  const at = row * (compiled.strides[c] as number) + column.offset;
  const target = tensors[column.input] as TensorData;
  if (value === null || value === undefined) {
    if (column.required) throw wrongType(column, row, value);
    if (elementType === 'string') (target as string[])[at] = '';
    else (target as Float32Array | Float64Array)[at] = Number.NaN;
    return;
  }
  switch (column.kind) {
    case 'string': {
      if (typeof value !== 'string') throw wrongType(column, row, value);
      const known = compiled.categorySets[c];
      if (known && !known.has(value)) throw unknownCategory(column, row, value);
      (target as string[])[at] = value;
      return;
    }
    case 'datetime': {
      const time = typeof value === 'string' ? parseIsoDatetime(value) : value;
      if (typeof time !== 'number' || Number.isNaN(time)) throw wrongType(column, row, value);
      if (!Number.isFinite(time)) throw notFinite(column, row);
      (target as Float32Array | Float64Array)[at] = time;
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw wrongType(column, row, value);
      (target as Uint8Array | Float32Array | Float64Array)[at] = value ? 1 : 0;
      return;
    default: {
      if (typeof value !== 'number') throw wrongType(column, row, value);
      // JSON has no NaN or Infinity literals, but a number too big for a double parses to Infinity.
      if (!Number.isFinite(value)) throw notFinite(column, row);
      if (column.kind === 'integer' && !Number.isInteger(value)) {
        throw new ValidationError(
          'INVALID_TYPE',
          `${column.name} in row ${row} must be an integer, got ${value}`,
          column.name,
          row,
        );
      }
      checkRange(value, elementType, column, row);
      if (elementType === 'int64') (target as BigInt64Array)[at] = BigInt(value);
      else (target as Float32Array | Float64Array | Int32Array | Uint8Array)[at] = value;
    }
  }
}

function checkRange(value: number, elementType: InputElementType, column: InputColumn, row: number): void {
  const float32 = elementType === 'float32' || column.float32Range === true;
  const outside = float32
    ? Math.abs(value) > FLOAT32_MAX
    : elementType === 'int32'
      ? value < INT32_MIN || value > INT32_MAX
      : elementType === 'int64' && !Number.isSafeInteger(value);
  if (!outside) return;
  throw new ValidationError(
    'NOT_FINITE',
    `${column.name} in row ${row} is out of the ${float32 ? 'float32' : elementType} range the model computes in`,
    column.name,
    row,
  );
}

function notFinite(column: InputColumn, row: number): ValidationError {
  return new ValidationError(
    'NOT_FINITE',
    `${column.name} in row ${row} is not a finite number`,
    column.name,
    row,
  );
}

function wrongType(column: InputColumn, row: number, value: unknown): ValidationError {
  const expected =
    column.kind === 'datetime'
      ? 'an ISO 8601 date or date-time, or epoch milliseconds'
      : column.kind === 'integer'
        ? 'an integer'
        : column.kind === 'boolean'
          ? 'a boolean'
          : column.kind === 'string'
            ? 'a string'
            : 'a number';
  return new ValidationError(
    'INVALID_TYPE',
    `${column.name} in row ${row} must be ${expected}, got ${kindOf(value)}`,
    column.name,
    row,
  );
}

function unknownCategory(column: InputColumn, row: number, value: string): ValidationError {
  const known = column.categories ?? [];
  const listed = known.slice(0, LISTED_CATEGORIES).map((v) => JSON.stringify(clip(v, 40)));
  const more = known.length > LISTED_CATEGORIES ? `, … (${known.length} in all)` : '';
  return new ValidationError(
    'UNKNOWN_CATEGORY',
    `${column.name} in row ${row} is ${JSON.stringify(clip(value, 40))}, a value the model does not know; known values: ${listed.join(', ')}${more}`,
    column.name,
    row,
  );
}

function checkRowCount(rows: number, maxRows: number, field: string): void {
  if (rows === 0) throw new ValidationError('NO_ROWS', `${field} has no rows`, field);
  if (rows > maxRows) {
    throw new ValidationError(
      'TOO_MANY_ROWS',
      `${field} has ${rows} rows; at most ${maxRows} are allowed per request`,
      field,
    );
  }
}

function describeColumns(compiled: CompiledInputs): string {
  const names = compiled.names;
  const shown = names.slice(0, 12).join(', ');
  return names.length > 12 ? `${names.length} fields (${shown}, …)` : shown;
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(clip(value, 40))}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** Echoed names are capped so a hostile key cannot blow up the error body. */
function clip(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

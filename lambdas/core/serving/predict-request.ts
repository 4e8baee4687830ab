/**
 * Turns a scoring request body into the model's input tensor, validating every value against
 * the model's input schema. Accepted shapes (MLflow's scoring protocol plus `instances`):
 *
 *   {"instances": [{"f1": 1, "f2": 2}, ...]}        records, or positional rows [[1, 2], ...]
 *   {"dataframe_records": [{"f1": 1, "f2": 2}, ...]}
 *   {"dataframe_split": {"columns": ["f1", "f2"], "data": [[1, 2], ...]}}
 *   {"inputs": [[1, 2], ...]}  or  {"inputs": {"<tensor name>": [[1, 2], ...]}}  or  {"inputs": {"f1": [1, ...], ...}}
 *
 * This is the hot path and a trust boundary: it is hand-written rather than a schema library's
 * so that each error names the exact field and row and a valid request costs one pass.
 */

import { ValidationError } from './errors';
import type { ColumnSpec, ColumnType } from './model-directory';

export type TensorElementType = 'float32' | 'float64';

/** What a model takes: one 2-D tensor, optionally with named columns in tensor order. */
export interface InputSchema {
  readonly tensorName: string;
  readonly elementType: TensorElementType;
  readonly width: number;
  readonly columns?: readonly ColumnSpec[];
}

export interface ParsedInput {
  readonly rows: number;
  /** Row-major rows × width values. */
  readonly values: Float32Array | Float64Array;
}

export const REQUEST_SHAPES = ['instances', 'dataframe_records', 'dataframe_split', 'inputs'] as const;

const FLOAT32_MAX = 3.4028234663852886e38;

/** Column lookup, built once per model rather than per request. */
export interface CompiledSchema {
  readonly schema: InputSchema;
  readonly index: ReadonlyMap<string, number>;
  readonly names: readonly string[];
  readonly types: readonly ColumnType[];
}

export function compileSchema(schema: InputSchema): CompiledSchema {
  const names = schema.columns?.map((column) => column.name) ?? positionalNames(schema);
  const types = schema.columns?.map((column) => column.type) ?? names.map((): ColumnType => 'double');
  return { schema, index: new Map(names.map((name, i) => [name, i])), names, types };
}

function positionalNames(schema: InputSchema): string[] {
  return Array.from({ length: schema.width }, (_, i) => `${schema.tensorName}[${i}]`);
}

export function parsePredictRequest(body: unknown, compiled: CompiledSchema, maxRows: number): ParsedInput {
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

function parseInputs(payload: unknown, compiled: CompiledSchema, maxRows: number): ParsedInput {
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
  const tensorName = compiled.schema.tensorName;
  // A named tensor, unless the tensor's name is also a column name (then it is columnar).
  if (keys.length === 1 && keys[0] === tensorName && !compiled.index.has(tensorName)) {
    return parseRows(record[tensorName], `inputs.${tensorName}`, compiled, maxRows, true);
  }
  return parseColumnar(record, compiled, maxRows);
}

/** Rows as records (objects) or, where `allowPositional`, as arrays of width values. */
function parseRows(
  rows: unknown,
  field: string,
  compiled: CompiledSchema,
  maxRows: number,
  allowPositional: boolean,
): ParsedInput {
  if (!Array.isArray(rows)) {
    throw new ValidationError('INVALID_SHAPE', `${field} must be a list of rows`, field);
  }
  checkRowCount(rows.length, maxRows, field);
  const width = compiled.schema.width;
  const values = allocate(compiled.schema.elementType, rows.length * width);
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
      readPositionalRow(row, r, compiled, values);
    } else if (row !== null && typeof row === 'object') {
      readRecord(row as Record<string, unknown>, r, compiled, values);
    } else {
      throw new ValidationError(
        'INVALID_SHAPE',
        `row ${r} of ${field} must be ${allowPositional ? 'an object or a list of values' : 'an object'}, got ${kindOf(row)}`,
        field,
        r,
      );
    }
  }
  return { rows: rows.length, values };
}

function readRecord(
  record: Record<string, unknown>,
  row: number,
  compiled: CompiledSchema,
  out: Float32Array | Float64Array,
): void {
  const width = compiled.schema.width;
  const base = row * width;
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
    out[base + column] = toNumber(record[key], column, row, compiled);
    seen++;
  }
  if (seen !== width) {
    const missing = compiled.names.find((name) => !Object.hasOwn(record, name)) ?? '';
    throw new ValidationError('MISSING_FIELD', `missing field '${missing}' in row ${row}`, missing, row);
  }
}

function readPositionalRow(
  values: unknown[],
  row: number,
  compiled: CompiledSchema,
  out: Float32Array | Float64Array,
): void {
  const width = compiled.schema.width;
  if (values.length !== width) {
    throw new ValidationError(
      'INVALID_SHAPE',
      `row ${row} has ${values.length} values; the model takes ${width} (${describeColumns(compiled)})`,
      undefined,
      row,
    );
  }
  const base = row * width;
  for (let c = 0; c < width; c++) out[base + c] = toNumber(values[c], c, row, compiled);
}

function parseSplit(payload: unknown, compiled: CompiledSchema, maxRows: number): ParsedInput {
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
  const width = compiled.schema.width;
  const values = allocate(compiled.schema.elementType, data.length * width);
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
    for (let c = 0; c < mapping.length; c++) {
      const column = mapping[c] ?? 0;
      values[r * width + column] = toNumber(row[c], column, r, compiled);
    }
  }
  return { rows: data.length, values };
}

function parseColumnar(
  record: Record<string, unknown>,
  compiled: CompiledSchema,
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
  const width = compiled.schema.width;
  const values = allocate(compiled.schema.elementType, rows * width);
  for (let c = 0; c < names.length; c++) {
    const column = record[names[c] ?? ''] as unknown[];
    const target = mapping[c] ?? 0;
    for (let r = 0; r < rows; r++) values[r * width + target] = toNumber(column[r], target, r, compiled);
  }
  return { rows, values };
}

/** For each given column name, its position in the model's input; every model column must be given once. */
function columnMapping(columns: unknown[], compiled: CompiledSchema): number[] {
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
  const missing = compiled.names.find((_, i) => !used.has(i));
  if (missing !== undefined) {
    throw new ValidationError('MISSING_FIELD', `missing field '${missing}'`, missing);
  }
  return mapping;
}

function toNumber(value: unknown, column: number, row: number, compiled: CompiledSchema): number {
  const type = compiled.types[column];
  const name = compiled.names[column] ?? '';
  if (type === 'boolean') {
    if (typeof value === 'boolean') return value ? 1 : 0;
    throw new ValidationError(
      'INVALID_TYPE',
      `${name} in row ${row} must be a boolean, got ${kindOf(value)}`,
      name,
      row,
    );
  }
  if (typeof value !== 'number') {
    throw new ValidationError(
      'INVALID_TYPE',
      `${name} in row ${row} must be ${type === 'integer' || type === 'long' ? 'an integer' : 'a number'}, got ${kindOf(value)}`,
      name,
      row,
    );
  }
  // JSON has no NaN or Infinity literals, but a number too big for a double parses to Infinity.
  if (!Number.isFinite(value)) {
    throw new ValidationError('NOT_FINITE', `${name} in row ${row} is not a finite number`, name, row);
  }
  if (compiled.schema.elementType === 'float32' && Math.abs(value) > FLOAT32_MAX) {
    throw new ValidationError(
      'NOT_FINITE',
      `${name} in row ${row} is out of the float32 range the model computes in`,
      name,
      row,
    );
  }
  if ((type === 'integer' || type === 'long') && !Number.isInteger(value)) {
    throw new ValidationError(
      'INVALID_TYPE',
      `${name} in row ${row} must be an integer, got ${value}`,
      name,
      row,
    );
  }
  return value;
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

function allocate(type: TensorElementType, length: number): Float32Array | Float64Array {
  return type === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

function describeColumns(compiled: CompiledSchema): string {
  const names = compiled.names;
  const shown = names.slice(0, 12).join(', ');
  return names.length > 12 ? `${names.length} fields (${shown}, …)` : shown;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(clip(value, 40))}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** Echoed names are capped so a hostile key cannot blow up the error body. */
function clip(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Loading data files into frames: by extension (or a given format), from a path or from bytes
 * (an S3 object's body is parsed without touching disk).
 *
 * What "row n" means in reasons and errors, by format (always 1-based, always the source file's):
 * - CSV: the n-th record after the header (empty lines are not records), i.e. line n + 1 when no
 *   field spans lines;
 * - JSON: the n-th element of the array;
 * - JSON Lines: line n (blank lines are skipped, not counted as rows, but keep the numbering);
 * - Parquet: the n-th row of the file.
 */
import { readFile } from 'node:fs/promises';
import type { CellConverter } from './cell-converters';
import type { ColumnType, ContractColumn, DataContract } from './contract';
import { readCsvRows } from './csv-format';
import { DataError } from './errors';
import type { Frame } from './frame';
import { type JsonRow, jsonRecordsOf, readJsonRecords } from './json-format';
import { readParquetColumns } from './parquet-format';
import {
  type ColumnPlan,
  optionalColumns,
  planColumns,
  RowValidator,
  type ValidationOptions,
  type ValidationResult,
  validateColumns,
} from './validation';

export const DATA_FORMATS = ['csv', 'json', 'jsonl', 'parquet'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

const EXTENSIONS: Readonly<Record<string, DataFormat>> = {
  '.csv': 'csv',
  '.json': 'json',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};

/** A file path, or bytes with a format (or a file name to take the format from). */
export type DataInput =
  | string
  | { readonly path: string; readonly format?: DataFormat }
  | { readonly bytes: Uint8Array | ArrayBuffer; readonly format?: DataFormat; readonly name?: string };

/** The format a file name's extension stands for (`.csv`, `.json`, `.jsonl`/`.ndjson`, `.parquet`/`.pq`). */
export function dataFormatOf(name: string): DataFormat {
  const match = /\.[^./\\]+$/.exec(name.toLowerCase());
  const format = match ? EXTENSIONS[match[0]] : undefined;
  if (!format) {
    throw new DataError(
      'UNSUPPORTED_FORMAT',
      `${name}: cannot tell the data format from the extension; expected one of ${Object.keys(EXTENSIONS).join(', ')}`,
      { source: name },
    );
  }
  return format;
}

/**
 * Reads and checks a file against the contract: the valid rows as a frame in contract order,
 * the rejected rows with their reasons, and the counts. A file without a column the contract
 * requires fails as a whole (`MISSING_COLUMN`); a file that cannot be parsed fails `MALFORMED_FILE`.
 */
export async function loadAndValidate(
  input: DataInput,
  contract: DataContract,
  options: ValidationOptions = {},
): Promise<ValidationResult> {
  const { bytes, format, source } = await readInput(input);
  return validateBytes(bytes, format, source, contractPlanner(contract, options, source));
}

/**
 * Plans by the contract. A JSON file without a single record has no column names at all; it is
 * read as having the contract's columns (and no rows), not as missing every one of them.
 */
function contractPlanner(contract: DataContract, options: ValidationOptions, source: string) {
  const optional = optionalColumns(contract, options);
  return (header: readonly string[]): ColumnPlan =>
    planColumns(
      header.length > 0 ? header : contract.columns.map((c) => c.name),
      contract.columns,
      optional,
      source,
    );
}

/** Checks in-memory records (e.g. rows of a request) against the contract, like a JSON file. */
export function validateRecords(
  records: readonly unknown[],
  contract: DataContract,
  options: ValidationOptions & { readonly source?: string } = {},
): ValidationResult {
  const source = options.source ?? 'records';
  const { header, rows } = jsonRecordsOf(records);
  return validateJsonRows(header, rows, contractPlanner(contract, options, source)(header));
}

export interface LoadFrameOptions extends ValidationOptions {
  /** Convert by the contract and fail on any row that breaks it; without one, types are inferred. */
  readonly contract?: DataContract;
}

/**
 * A frame from a file, all or nothing: with a contract, any rejected row fails the load with
 * `REJECTED_ROWS` (use `loadAndValidate` to quarantine instead). Without a contract, a column is
 * numeric when every present cell is a number (Parquet: when its type is numeric, boolean or
 * a timestamp), else categorical; all columns may have missing values.
 */
export async function loadFrame(input: DataInput, options: LoadFrameOptions = {}): Promise<Frame> {
  const { bytes, format, source } = await readInput(input);
  if (options.contract) {
    const planner = contractPlanner(options.contract, options, source);
    return strictFrame(await validateBytes(bytes, format, source, planner), source);
  }
  return inferFrame(bytes, format, source);
}

/** Thrown inside a read to restart it with a column re-typed as categorical. */
class TypeConflict extends Error {
  constructor(readonly column: string) {
    super(`column "${column}" is not numeric`);
  }
}

/**
 * Inference reads once with every text column numeric and restarts when a column turns out not
 * to be: a categorical column usually shows itself in its first row, so restarts cost little,
 * and restarting (rather than keeping every cell's text in case) keeps the load in typed arrays.
 */
async function inferFrame(bytes: Uint8Array, format: DataFormat, source: string): Promise<Frame> {
  const categorical = new Set<string>();
  const planner = (header: readonly string[], declared?: readonly ColumnType[]): ColumnPlan => {
    const columns: ContractColumn[] = header.map((name, i) => ({
      name,
      type: declared?.[i] ?? (categorical.has(name) ? 'category' : 'number'),
      nullable: true,
    }));
    return planColumns(header, columns, new Set(), source);
  };
  const onBroken = (converter: CellConverter) => {
    const { column, rule } = converter;
    if (column.type === 'number' && rule?.code === 'not_a_number' && !categorical.has(column.name)) {
      throw new TypeConflict(column.name);
    }
  };
  for (;;) {
    try {
      return strictFrame(await validateBytes(bytes, format, source, planner, onBroken), source);
    } catch (error) {
      if (!(error instanceof TypeConflict)) throw error;
      categorical.add(error.column);
    }
  }
}

function strictFrame(result: ValidationResult, source: string): Frame {
  const { quarantined, counts } = result;
  const first = quarantined[0];
  if (!first) return result.frame;
  const shown = quarantined.slice(0, 5).flatMap((row) => row.reasons.map((reason) => reason.message));
  const more = quarantined.length > 5 ? `\n  … and ${quarantined.length - 5} more rows` : '';
  throw new DataError(
    'REJECTED_ROWS',
    `${source}: ${counts.quarantined} of ${counts.input} rows break the data contract:\n  ${shown.join('\n  ')}${more}`,
    { source, row: first.row, field: first.reasons[0]?.column ?? undefined },
  );
}

async function validateBytes(
  bytes: Uint8Array,
  format: DataFormat,
  source: string,
  plan: (header: readonly string[], declared?: readonly ColumnType[]) => ColumnPlan,
  onBroken?: (converter: CellConverter) => void,
): Promise<ValidationResult> {
  if (format === 'parquet') {
    const columns = await readParquetColumns(bytes, source);
    return validateColumns(
      columns.header,
      columns.chunks,
      columns.rowCount,
      plan(columns.header, columns.types),
    );
  }
  const text = decodeUtf8(bytes, source);
  if (format === 'csv') {
    let validator: RowValidator | undefined;
    readCsvRows(text, source, (header) => {
      const rows = new RowValidator(header, plan(header), countNewlines(bytes));
      validator = rows;
      return (cells, fieldCount, row) => {
        const broken = rows.push(cells, fieldCount, row);
        if (broken && onBroken) onBroken(broken);
      };
    });
    return (validator as RowValidator).finish();
  }
  const { header, rows } = readJsonRecords(text, source, format);
  return validateJsonRows(header, rows, plan(header), onBroken);
}

function validateJsonRows(
  header: readonly string[],
  rows: readonly JsonRow[],
  plan: ColumnPlan,
  onBroken?: (converter: CellConverter) => void,
): ValidationResult {
  const validator = new RowValidator(header, plan, rows.length);
  const cells: unknown[] = new Array(header.length);
  for (const { row, value, problem } of rows) {
    if (problem !== undefined) {
      validator.reject(row, value, problem);
      continue;
    }
    const record = value as Record<string, unknown>;
    for (let i = 0; i < header.length; i++) cells[i] = record[header[i] as string];
    const broken = validator.push(cells, header.length, row, record);
    if (broken && onBroken) onBroken(broken);
  }
  return validator.finish();
}

async function readInput(
  input: DataInput,
): Promise<{ bytes: Uint8Array; format: DataFormat; source: string }> {
  if (typeof input === 'string' || 'path' in input) {
    const path = typeof input === 'string' ? input : input.path;
    const format = (typeof input === 'string' ? undefined : input.format) ?? dataFormatOf(path);
    try {
      return { bytes: await readFile(path), format, source: path };
    } catch (error) {
      throw new DataError('READ_FAILED', `cannot read ${path}: ${(error as Error).message}`, {
        source: path,
      });
    }
  }
  const source = input.name ?? `${input.format ?? 'data'} bytes`;
  if (!input.format && !input.name) {
    throw new DataError('UNSUPPORTED_FORMAT', 'data given as bytes needs a format or a file name', {
      field: 'format',
    });
  }
  const format = input.format ?? dataFormatOf(source);
  const bytes = input.bytes instanceof Uint8Array ? input.bytes : new Uint8Array(input.bytes);
  return { bytes, format, source };
}

function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError('MALFORMED_FILE', `${source}: not UTF-8 text`, { source });
  }
}

/** An upper bound on the rows of a text file, so the typed arrays are sized once. */
function countNewlines(bytes: Uint8Array): number {
  let count = 1;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) count++;
  return count;
}

/**
 * JSON (an array of records) and JSON Lines (one record per line): reading records and writing
 * a frame. Records are objects keyed by column name; the columns are every key met, in the order
 * first met. A missing key or `null` is a missing value.
 *
 * JSON has per-row objects by nature, so these readers keep them; the typed-array path is CSV
 * and Parquet, which is what the pipelines write at volume.
 */

import { type FrameWriteOptions, frameColumnTypes, renderCell } from './column-types';
import type { ColumnType } from './contract';
import { DataError, parseJsonText } from './errors';
import type { Column, Frame } from './frame';

export interface JsonRow {
  /** JSON: position in the array (from 1). JSON Lines: the line number, so it matches an editor's. */
  readonly row: number;
  /** The record, or for a broken row the value (or line text) as found. */
  readonly value: unknown;
  /** Why the row is not a record (not JSON, not an object); undefined for a record. */
  readonly problem?: string;
}

export interface JsonRecords {
  readonly header: string[];
  readonly rows: JsonRow[];
}

export function readJsonRecords(text: string, source: string, format: 'json' | 'jsonl'): JsonRecords {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return withHeader(format === 'json' ? jsonArrayRows(body, source) : jsonLinesRows(body));
}

/** In-memory values (a request's rows) as if they were the elements of a JSON array. */
export function jsonRecordsOf(values: readonly unknown[]): JsonRecords {
  return withHeader(values.map((value, i) => checkRecord(i + 1, value)));
}

function withHeader(rows: JsonRow[]): JsonRecords {
  const header: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (row.problem !== undefined) continue;
    for (const key in row.value as Record<string, unknown>) {
      if (!seen.has(key)) {
        seen.add(key);
        header.push(key);
      }
    }
  }
  return { header, rows };
}

function jsonArrayRows(text: string, source: string): JsonRow[] {
  const json = parseJsonText(text, source, 'MALFORMED_FILE');
  if (!Array.isArray(json)) {
    throw new DataError(
      'MALFORMED_FILE',
      `${source}: expected a JSON array of records, got ${describe(json)}`,
      {
        source,
      },
    );
  }
  return json.map((value, i) => checkRecord(i + 1, value));
}

function jsonLinesRows(text: string): JsonRow[] {
  const rows: JsonRow[] = [];
  let line = 0;
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    line++;
    const content = text.slice(start, end).trim();
    start = end + 1;
    if (content.length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (error) {
      rows.push({ row: line, value: content, problem: `is not valid JSON (${(error as Error).message})` });
      continue;
    }
    rows.push(checkRecord(line, value));
  }
  return rows;
}

function checkRecord(row: number, value: unknown): JsonRow {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return { row, value };
  return { row, value, problem: `is not a JSON object (got ${describe(value)})` };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** One JSON object per line, `\n` after each; missing values are `null`. */
export function frameToJsonLines(frame: Frame, options: FrameWriteOptions = {}): string {
  const lines: string[] = [];
  forEachRecord(frame, options, (record) => lines.push(record));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** A JSON array of records, one per line. */
export function frameToJson(frame: Frame, options: FrameWriteOptions = {}): string {
  const lines: string[] = [];
  forEachRecord(frame, options, (record) => lines.push(record));
  return lines.length === 0 ? '[]\n' : `[\n${lines.join(',\n')}\n]\n`;
}

function forEachRecord(frame: Frame, options: FrameWriteOptions, emit: (record: string) => void): void {
  const types = frameColumnTypes(frame, options.contract);
  const columns = [...frame.columns.values()];
  // Keys and levels are quoted once, not once per row.
  const names = [...frame.columns.keys()];
  const keys = names.map((name, j) => `${j === 0 ? '{' : ','}${JSON.stringify(name)}:`);
  const levels = columns.map((column) =>
    column.kind === 'categorical' ? column.levels.map((l) => JSON.stringify(l)) : [],
  );
  for (let row = 0; row < frame.rowCount; row++) {
    let text = columns.length === 0 ? '{' : '';
    for (let j = 0; j < columns.length; j++) {
      text += keys[j];
      text += cellJson(
        columns[j] as Column,
        types[j] as ColumnType,
        levels[j] as string[],
        row,
        names[j] as string,
      );
    }
    emit(`${text}}`);
  }
}

function cellJson(
  column: Column,
  type: ColumnType,
  levels: readonly string[],
  row: number,
  name: string,
): string {
  if (column.kind === 'categorical') {
    const code = column.codes[row] as number;
    return code < 0 ? 'null' : (levels[code] as string);
  }
  const value = column.values[row] as number;
  if (Number.isNaN(value)) return 'null';
  if (!Number.isFinite(value)) {
    throw new DataError(
      'INVALID_FRAME',
      `column "${name}" row ${row + 1} is ${value}, which JSON cannot hold`,
      {
        field: name,
        row: row + 1,
      },
    );
  }
  const text = renderCell(type, value);
  return type === 'datetime' ? `"${text}"` : text;
}

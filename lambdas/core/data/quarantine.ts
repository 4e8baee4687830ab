/**
 * Rows that broke the data contract, kept with their original values and the reasons, and the
 * quarantine file they are written to: JSON Lines, one `{"row", "reasons", "record"}` per row.
 */
import type { Rule, RuleCode } from './cell-converters';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface RowReason {
  /** The column at fault; null when the row as a whole is broken (wrong field count, not JSON). */
  readonly column: string | null;
  readonly rule: RuleCode;
  /** The offending value as it was in the file. */
  readonly value: JsonValue;
  /** e.g. `row 17: column "sepal_length" value "abc" is not a number`. */
  readonly message: string;
}

export interface QuarantinedRow {
  /** 1-based data row of the source file (see `loadAndValidate` for what a row is per format). */
  readonly row: number;
  readonly reasons: readonly RowReason[];
  /** The row's original values by source column name, unknown columns included. */
  readonly record: Readonly<Record<string, JsonValue>>;
}

export function cellReason(row: number, column: string, raw: unknown, rule: Rule): RowReason {
  const value = toJsonValue(raw);
  const message =
    rule.code === 'null_not_allowed'
      ? `row ${row}: column "${column}" has no value (null not allowed)`
      : `row ${row}: column "${column}" value ${formatValue(value)} ${rule.text}`;
  return { column, rule: rule.code, value, message };
}

export function rowReason(row: number, value: unknown, text: string): RowReason {
  return { column: null, rule: 'malformed_row', value: toJsonValue(value), message: `row ${row}: ${text}` };
}

/** Rows per rule code (a row that breaks one rule twice counts once for it). */
export function countReasons(rows: readonly QuarantinedRow[]): Partial<Record<RuleCode, number>> {
  const counts: Partial<Record<RuleCode, number>> = {};
  for (const row of rows) {
    for (const code of new Set(row.reasons.map((reason) => reason.rule))) {
      counts[code] = (counts[code] ?? 0) + 1;
    }
  }
  return counts;
}

/** The quarantine file: one JSON object per line, `{"row": n, "reasons": [...], "record": {...}}`. */
export function quarantineToJsonLines(rows: readonly QuarantinedRow[]): string {
  let text = '';
  for (const { row, reasons, record } of rows) text += `${JSON.stringify({ row, reasons, record })}\n`;
  return text;
}

/** Values as JSON can hold them: bigint as a number (or text when too large), Date as ISO text. */
export function toJsonValue(raw: unknown): JsonValue {
  if (raw === null || raw === undefined) return null;
  switch (typeof raw) {
    case 'string':
    case 'boolean':
      return raw;
    case 'number':
      // JSON has no NaN or Infinity: keep them readable rather than turning them into null.
      return Number.isFinite(raw) ? raw : String(raw);
    case 'bigint':
      return Number.isSafeInteger(Number(raw)) ? Number(raw) : raw.toString();
    case 'object':
      if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? 'Invalid Date' : raw.toISOString();
      if (Array.isArray(raw)) return raw.map(toJsonValue);
      if (ArrayBuffer.isView(raw)) return Array.from(raw as unknown as ArrayLike<number>, toJsonValue);
      return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, toJsonValue(value)]));
    default:
      return String(raw);
  }
}

function formatValue(value: JsonValue): string {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

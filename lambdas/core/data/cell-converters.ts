/**
 * One converter per contract column: raw cell (CSV text, JSON value, Parquet value) → the number
 * stored in the frame (a category's code), or a broken rule.
 *
 * Hot path: a million rows by ten columns goes through here, so a cell that converts allocates
 * nothing (the converter reports a failure through its `rule` field, and the rules are built once
 * per column), and numbers are parsed with `Number` plus cheap checks instead of a regex.
 */
import type { ColumnType, ContractColumn } from './contract';

export type RuleCode =
  | 'null_not_allowed'
  | 'not_a_number'
  | 'not_an_integer'
  | 'not_a_boolean'
  | 'not_a_datetime'
  | 'not_a_category'
  | 'not_allowed_value'
  | 'below_min'
  | 'above_max'
  /** The row itself is broken: wrong field count, not a JSON object, a line that is not JSON. */
  | 'malformed_row';

export interface Rule {
  readonly code: RuleCode;
  /** Completes "column "x" value "abc" …": `is not a number`, `is above max 10`, … */
  readonly text: string;
}

/** What a missing cell looks like in text, for the column types that cannot hold these words. */
const MISSING_TOKENS = new Set(['NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None']);

const BOOLEAN_TOKENS = new Map<string, number>([
  ['true', 1],
  ['True', 1],
  ['TRUE', 1],
  ['1', 1],
  ['false', 0],
  ['False', 0],
  ['FALSE', 0],
  ['0', 0],
]);

const NULL_RULE: Rule = { code: 'null_not_allowed', text: 'null not allowed' };
const NOT_A_NUMBER: Rule = { code: 'not_a_number', text: 'is not a number' };
const NOT_FINITE: Rule = { code: 'not_a_number', text: 'is not a finite number' };
const NOT_AN_INTEGER: Rule = { code: 'not_an_integer', text: 'is not an integer' };
const NOT_SAFE_INTEGER: Rule = {
  code: 'not_an_integer',
  text: 'is outside the exactly representable integers',
};
const NOT_A_BOOLEAN: Rule = { code: 'not_a_boolean', text: 'is not a boolean (true/false/1/0)' };
const NOT_A_DATETIME: Rule = { code: 'not_a_datetime', text: 'is not an ISO 8601 date or date-time' };
const NOT_A_CATEGORY: Rule = { code: 'not_a_category', text: 'is not a text value' };

/** Converts one column's cells; after each `convert`, `rule` is null or the rule the cell broke. */
export interface CellConverter {
  readonly column: ContractColumn;
  rule: Rule | null;
  /** The value to store (NaN or code -1 for missing); meaningless when `rule` is set. */
  convert(raw: unknown): number;
}

export interface CategoryConverter extends CellConverter {
  /** Levels in code order: the contract's `values`, or the distinct values met so far. */
  readonly levels: readonly string[];
  /** Whether levels come from the data (and get sorted once loading is done). */
  readonly dynamicLevels: boolean;
}

export function createCellConverter(column: ContractColumn): CellConverter {
  switch (column.type) {
    case 'category':
      return new CategoryCells(column);
    case 'boolean':
      return new BooleanCells(column);
    case 'datetime':
      return new DatetimeCells(column);
    default:
      return new NumberCells(column);
  }
}

export function isCategoryConverter(converter: CellConverter): converter is CategoryConverter {
  return converter instanceof CategoryCells;
}

/** The frame column kind a contract type is stored as. */
export function storageKind(type: ColumnType): 'numeric' | 'categorical' {
  return type === 'category' ? 'categorical' : 'numeric';
}

/** The converters stored as numbers: a missing cell is NaN, and breaks a rule unless nullable. */
abstract class NumericCells implements CellConverter {
  rule: Rule | null = null;
  private readonly nullable: boolean;

  constructor(readonly column: ContractColumn) {
    this.nullable = column.nullable === true;
  }

  abstract convert(raw: unknown): number;

  protected missing(): number {
    this.rule = this.nullable ? null : NULL_RULE;
    return Number.NaN;
  }
}

class NumberCells extends NumericCells {
  private readonly integer: boolean;
  private readonly min: number;
  private readonly max: number;
  private readonly belowMin: Rule;
  private readonly aboveMax: Rule;

  constructor(column: ContractColumn) {
    super(column);
    this.integer = column.type === 'integer';
    this.min = column.min ?? Number.NEGATIVE_INFINITY;
    this.max = column.max ?? Number.POSITIVE_INFINITY;
    this.belowMin = { code: 'below_min', text: `is below min ${column.min}` };
    this.aboveMax = { code: 'above_max', text: `is above max ${column.max}` };
  }

  convert(raw: unknown): number {
    let value: number;
    if (typeof raw === 'number') {
      value = raw;
      if (Number.isNaN(value)) return this.missing();
    } else if (typeof raw === 'string') {
      value = parseNumberText(raw);
      if (Number.isNaN(value)) {
        if (isMissingText(raw)) return this.missing();
        this.rule = NOT_A_NUMBER;
        return value;
      }
    } else if (raw === null || raw === undefined) {
      return this.missing();
    } else if (typeof raw === 'bigint') {
      value = Number(raw);
      if (!Number.isSafeInteger(value)) {
        this.rule = NOT_SAFE_INTEGER;
        return value;
      }
    } else {
      this.rule = NOT_A_NUMBER;
      return Number.NaN;
    }
    if (!Number.isFinite(value)) this.rule = NOT_FINITE;
    else if (this.integer && !Number.isSafeInteger(value))
      this.rule = Number.isInteger(value) ? NOT_SAFE_INTEGER : NOT_AN_INTEGER;
    else if (value < this.min) this.rule = this.belowMin;
    else if (value > this.max) this.rule = this.aboveMax;
    else this.rule = null;
    return value;
  }
}

class BooleanCells extends NumericCells {
  convert(raw: unknown): number {
    if (typeof raw === 'boolean') {
      this.rule = null;
      return raw ? 1 : 0;
    }
    if (raw === null || raw === undefined || (typeof raw === 'number' && Number.isNaN(raw))) {
      return this.missing();
    }
    if (typeof raw === 'string') {
      const value = BOOLEAN_TOKENS.get(raw.trim());
      if (value !== undefined) {
        this.rule = null;
        return value;
      }
      if (isMissingText(raw)) return this.missing();
    } else if (raw === 0 || raw === 1 || raw === 0n || raw === 1n) {
      this.rule = null;
      return Number(raw);
    }
    this.rule = NOT_A_BOOLEAN;
    return Number.NaN;
  }
}

class DatetimeCells extends NumericCells {
  convert(raw: unknown): number {
    if (raw === null || raw === undefined) return this.missing();
    let value = Number.NaN;
    if (raw instanceof Date) {
      value = raw.getTime();
    } else if (typeof raw === 'string') {
      value = parseIsoDatetime(raw);
      if (Number.isNaN(value) && isMissingText(raw)) return this.missing();
    }
    this.rule = Number.isNaN(value) ? NOT_A_DATETIME : null;
    return value;
  }
}

class CategoryCells implements CategoryConverter {
  rule: Rule | null = null;
  readonly levels: string[];
  readonly dynamicLevels: boolean;
  private readonly codes = new Map<string, number>();
  private readonly nullable: boolean;
  private readonly notAllowed: Rule;

  constructor(readonly column: ContractColumn) {
    this.nullable = column.nullable === true;
    this.levels = [...(column.values ?? [])];
    this.dynamicLevels = column.values === undefined;
    for (const [code, level] of this.levels.entries()) this.codes.set(level, code);
    this.notAllowed = { code: 'not_allowed_value', text: `is not one of [${this.levels.join(', ')}]` };
  }

  convert(raw: unknown): number {
    let text: string;
    if (typeof raw === 'string') text = raw;
    else if (raw === null || raw === undefined || (typeof raw === 'number' && Number.isNaN(raw))) text = '';
    else if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint')
      text = String(raw);
    else {
      this.rule = NOT_A_CATEGORY;
      return -1;
    }
    // Only the empty string means "missing" here: "NA" may well be a category (Namibia).
    if (text.length === 0) {
      this.rule = this.nullable ? null : NULL_RULE;
      return -1;
    }
    const code = this.codes.get(text);
    if (code !== undefined) {
      this.rule = null;
      return code;
    }
    if (!this.dynamicLevels) {
      this.rule = this.notAllowed;
      return -1;
    }
    this.rule = null;
    this.levels.push(text);
    this.codes.set(text, this.levels.length - 1);
    return this.levels.length - 1;
  }
}

/**
 * A decimal number in text, or NaN. `Number` does the parsing; what it accepts beyond decimal
 * notation (hex/binary/octal prefixes, whitespace-only as 0) is turned away here.
 */
export function parseNumberText(text: string): number {
  if (text.length === 0) return Number.NaN;
  const value = Number(text);
  if (Number.isNaN(value)) return value;
  // 0x1F, 0b101, 0o17 (possibly after whitespace) parse in JS but are not data.
  const start = text.charCodeAt(0) <= 32 ? text.length - text.trimStart().length : 0;
  const second = text.charCodeAt(start + 1) | 0x20;
  if (text.charCodeAt(start) === 48 && (second === 120 || second === 98 || second === 111)) return Number.NaN;
  // Whitespace-only text is 0 to `Number`.
  if (value === 0 && start === text.length) return Number.NaN;
  return value;
}

function isMissingText(text: string): boolean {
  const trimmed = text.trim();
  return trimmed.length === 0 || MISSING_TOKENS.has(trimmed);
}

const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Epoch milliseconds of an ISO 8601 date or date-time, or NaN. A date-time without an offset is
 * read as UTC: `Date.parse` would read it in the machine's time zone, and a dataset's version must
 * not depend on where it was loaded.
 */
export function parseIsoDatetime(text: string): number {
  const match = ISO_DATETIME.exec(text.trim());
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s, fraction, offset] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  const millis = fraction ? Math.floor(Number(`0.${fraction}`) * 1000 + 1e-6) : 0;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const time = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC rolls 2015-02-30 over to March: reject dates that do not exist.
  if (new Date(time).getUTCDate() !== day) return Number.NaN;
  if (!offset || offset === 'Z') return time;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
  return time - sign * offsetMinutes * 60_000;
}

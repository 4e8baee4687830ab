/**
 * Checking rows against the contract while they are read: valid rows go straight into the
 * frame's typed arrays, broken rows into the quarantine with their original values and reasons.
 * Nothing is dropped: every input row ends up in exactly one of the two (counts.input = valid +
 * quarantined).
 *
 * Two feeds share the converters: `RowValidator` for row formats (CSV, JSON, JSON Lines; one
 * row at a time, no row kept unless quarantined) and `validateColumns` for Parquet (column chunks
 * as hyparquet decodes them, so no row objects are built at all).
 */
import {
  type CellConverter,
  createCellConverter,
  isCategoryConverter,
  type RuleCode,
} from './cell-converters';
import type { ContractColumn, DataContract } from './contract';
import { DataError } from './errors';
import { type Column, categoricalColumn, type Frame, numericColumn } from './frame';
import {
  cellReason,
  countReasons,
  type JsonValue,
  type QuarantinedRow,
  type RowReason,
  rowReason,
  toJsonValue,
} from './quarantine';

export interface ValidationOptions {
  /**
   * Whether the target column must be in the file. Data to score has no target: with `false`, a
   * file without it validates and the frame has no target column. Default true.
   */
  readonly requireTarget?: boolean;
}

export interface ValidationCounts {
  readonly input: number;
  readonly valid: number;
  readonly quarantined: number;
}

export interface ValidationResult {
  /** The valid rows, columns in contract order. */
  readonly frame: Frame;
  /** The rejected rows, in file order, with original values and reasons. */
  readonly quarantined: readonly QuarantinedRow[];
  readonly counts: ValidationCounts;
  /** Quarantined rows per rule code. */
  readonly reasonCounts: Partial<Record<RuleCode, number>>;
  /** Columns in the file the contract does not name: reported here, not carried into the frame. */
  readonly unknownColumns: readonly string[];
}

/** The contract columns to read from a file whose columns are `header`, and where each one is. */
export interface ColumnPlan {
  readonly columns: readonly ContractColumn[];
  /** Position in the header of each of `columns`. */
  readonly sourceIndex: readonly number[];
  readonly unknownColumns: readonly string[];
}

export function planColumns(
  header: readonly string[],
  columns: readonly ContractColumn[],
  optional: ReadonlySet<string>,
  source: string,
): ColumnPlan {
  const position = new Map<string, number>();
  header.forEach((name, i) => {
    if (position.has(name)) {
      throw new DataError('MALFORMED_FILE', `${source}: column "${name}" appears twice in the header`, {
        field: name,
        source,
      });
    }
    position.set(name, i);
  });
  const missing = columns.filter((c) => !position.has(c.name) && !optional.has(c.name)).map((c) => c.name);
  if (missing.length > 0) {
    const names = missing.map((name) => `"${name}"`).join(', ');
    throw new DataError(
      'MISSING_COLUMN',
      `${source}: column${missing.length > 1 ? 's' : ''} ${names} required by the data contract ` +
        `${missing.length > 1 ? 'are' : 'is'} missing (the file has: ${header.join(', ') || 'no columns'})`,
      { field: missing[0], source },
    );
  }
  const kept = columns.filter((c) => position.has(c.name));
  const known = new Set(columns.map((c) => c.name));
  return {
    columns: kept,
    sourceIndex: kept.map((c) => position.get(c.name) as number),
    unknownColumns: header.filter((name) => !known.has(name)),
  };
}

/** The target is optional when the caller says so; every other contract column is required. */
export function optionalColumns(contract: DataContract, options: ValidationOptions): ReadonlySet<string> {
  return new Set(options.requireTarget === false ? [contract.target] : []);
}

/** Growable typed storage for one column, written at the next valid row's index. */
type Store = { kind: 'numeric'; values: Float64Array } | { kind: 'categorical'; values: Int32Array };

function newStore(converter: CellConverter, capacity: number): Store {
  return isCategoryConverter(converter)
    ? { kind: 'categorical', values: new Int32Array(capacity) }
    : { kind: 'numeric', values: new Float64Array(capacity) };
}

function grow(store: Store, capacity: number): void {
  const values = store.kind === 'numeric' ? new Float64Array(capacity) : new Int32Array(capacity);
  values.set(store.values);
  store.values = values;
}

/**
 * Row-by-row validation into typed arrays. `push` takes the row's cells in header order; the
 * cells array may be reused by the caller between rows (it is copied only if quarantined).
 */
export class RowValidator {
  private readonly converters: CellConverter[];
  private readonly stores: Store[];
  private readonly sourceIndex: readonly number[];
  private readonly quarantined: QuarantinedRow[] = [];
  private capacity: number;
  private valid = 0;
  private input = 0;

  constructor(
    private readonly header: readonly string[],
    private readonly plan: ColumnPlan,
    capacityHint = 1024,
  ) {
    this.converters = plan.columns.map(createCellConverter);
    this.capacity = Math.max(16, capacityHint);
    this.stores = this.converters.map((converter) => newStore(converter, this.capacity));
    this.sourceIndex = plan.sourceIndex;
  }

  /**
   * One data row. `fieldCount` is how many of `cells` belong to it (CSV rows may be short or long);
   * `original` is what the quarantine keeps instead of the cells (a JSON row's own object).
   * Returns the converter whose rule the row broke first, or null (the inference loader uses it).
   */
  push(cells: ArrayLike<unknown>, fieldCount: number, row: number, original?: unknown): CellConverter | null {
    this.input++;
    if (fieldCount !== this.header.length) {
      const reason = rowReason(
        row,
        null,
        `has ${fieldCount} field${fieldCount === 1 ? '' : 's'}, the header has ${this.header.length}`,
      );
      this.quarantine(row, [reason], original ?? this.recordOf(cells, fieldCount));
      return null;
    }
    if (this.valid === this.capacity) {
      this.capacity *= 2;
      for (const store of this.stores) grow(store, this.capacity);
    }
    let reasons: RowReason[] | null = null;
    let firstBroken: CellConverter | null = null;
    const at = this.valid;
    for (let j = 0; j < this.converters.length; j++) {
      const converter = this.converters[j] as CellConverter;
      const raw = cells[this.sourceIndex[j] as number];
      const value = converter.convert(raw);
      if (converter.rule === null) {
        (this.stores[j] as Store).values[at] = value;
      } else {
        firstBroken ??= converter;
        reasons ??= [];
        reasons.push(cellReason(row, converter.column.name, raw, converter.rule));
      }
    }
    if (reasons === null) this.valid++;
    else this.quarantine(row, reasons, original ?? this.recordOf(cells, fieldCount));
    return firstBroken;
  }

  /** A row broken before it had cells (a JSON Lines line that is not JSON, an array element that is not an object). */
  reject(row: number, value: unknown, text: string): void {
    this.input++;
    this.quarantine(row, [rowReason(row, value, text)], value);
  }

  finish(): ValidationResult {
    const frame = buildFrame(this.converters, this.stores, this.valid);
    return result(frame, this.input, this.quarantined, this.plan.unknownColumns);
  }

  private quarantine(row: number, reasons: readonly RowReason[], record: unknown): void {
    const json = toJsonValue(record);
    const asRecord =
      json !== null && typeof json === 'object' && !Array.isArray(json) ? json : { _value: json };
    this.quarantined.push({ row, reasons, record: asRecord });
  }

  private recordOf(cells: ArrayLike<unknown>, fieldCount: number): Record<string, JsonValue> {
    const record: Record<string, JsonValue> = {};
    const shared = Math.min(fieldCount, this.header.length);
    for (let i = 0; i < shared; i++) record[this.header[i] as string] = toJsonValue(cells[i]);
    if (fieldCount > this.header.length) {
      record._extra_fields = Array.from({ length: fieldCount - this.header.length }, (_, k) =>
        toJsonValue(cells[this.header.length + k]),
      );
    }
    return record;
  }
}

/** A decoded run of one column's values, starting at 0-based row `rowStart`. */
export interface ColumnChunk {
  readonly rowStart: number;
  readonly data: ArrayLike<unknown>;
}

/**
 * Column-at-a-time validation (Parquet): each column's chunks are converted into one full-length
 * typed array, broken cells are noted by row, and the valid rows are compacted at the end.
 */
export function validateColumns(
  header: readonly string[],
  chunks: readonly (readonly ColumnChunk[])[],
  rowCount: number,
  plan: ColumnPlan,
): ValidationResult {
  const converters = plan.columns.map(createCellConverter);
  const stores = converters.map((converter) => newStore(converter, rowCount));
  const reasonsByRow = new Map<number, RowReason[]>();
  converters.forEach((converter, j) => {
    const store = stores[j] as Store;
    for (const chunk of chunks[plan.sourceIndex[j] as number] ?? []) {
      const { data, rowStart } = chunk;
      for (let i = 0; i < data.length && rowStart + i < rowCount; i++) {
        const value = converter.convert(data[i]);
        if (converter.rule === null) {
          store.values[rowStart + i] = value;
        } else {
          const row = rowStart + i + 1;
          const reasons = reasonsByRow.get(row) ?? [];
          reasons.push(cellReason(row, converter.column.name, data[i], converter.rule));
          reasonsByRow.set(row, reasons);
        }
      }
    }
  });

  let valid = rowCount;
  if (reasonsByRow.size > 0) {
    // Compact in place: valid rows move down over the broken ones, order kept.
    valid = 0;
    for (let i = 0; i < rowCount; i++) {
      if (reasonsByRow.has(i + 1)) continue;
      if (valid !== i) for (const store of stores) store.values[valid] = store.values[i] as number;
      valid++;
    }
  }
  const quarantined = [...reasonsByRow.keys()]
    .sort((a, b) => a - b)
    .map((row) => ({
      row,
      reasons: reasonsByRow.get(row) as RowReason[],
      record: Object.fromEntries(
        header.map((name, c) => [name, toJsonValue(cellAt(chunks[c] ?? [], row - 1))]),
      ),
    }));
  return result(buildFrame(converters, stores, valid), rowCount, quarantined, plan.unknownColumns);
}

function cellAt(chunks: readonly ColumnChunk[], row: number): unknown {
  for (const chunk of chunks) {
    if (row >= chunk.rowStart && row < chunk.rowStart + chunk.data.length)
      return chunk.data[row - chunk.rowStart];
  }
  return null;
}

function result(
  frame: Frame,
  input: number,
  quarantined: readonly QuarantinedRow[],
  unknownColumns: readonly string[],
): ValidationResult {
  return {
    frame,
    quarantined,
    counts: { input, valid: frame.rowCount, quarantined: quarantined.length },
    reasonCounts: countReasons(quarantined),
    unknownColumns,
  };
}

/**
 * The frame from the filled stores: arrays trimmed to the row count, and levels that came from
 * the data sorted (code-unit order, so no locale can change it) with unused ones dropped, so the
 * same rows give the same levels whatever their order or file format.
 */
function buildFrame(converters: readonly CellConverter[], stores: readonly Store[], rowCount: number): Frame {
  const columns = new Map<string, Column>();
  converters.forEach((converter, j) => {
    const store = stores[j] as Store;
    const name = converter.column.name;
    if (store.kind === 'numeric') {
      const values = store.values.length === rowCount ? store.values : store.values.slice(0, rowCount);
      columns.set(name, numericColumn(values));
      return;
    }
    const codes = store.values.length === rowCount ? store.values : store.values.slice(0, rowCount);
    if (!isCategoryConverter(converter)) throw new Error(`column "${name}" is categorical without levels`);
    if (!converter.dynamicLevels) {
      columns.set(name, categoricalColumn(codes, [...converter.levels]));
      return;
    }
    const used = new Uint8Array(converter.levels.length);
    for (let i = 0; i < rowCount; i++) {
      const code = codes[i] as number;
      if (code >= 0) used[code] = 1;
    }
    const levels = converter.levels.filter((_, code) => used[code] === 1).sort(compareText);
    const newCode = new Map(levels.map((level, code) => [level, code]));
    const remap = Int32Array.from(converter.levels, (level) => newCode.get(level) ?? -1);
    for (let i = 0; i < rowCount; i++) {
      const code = codes[i] as number;
      if (code >= 0) codes[i] = remap[code] as number;
    }
    columns.set(name, categoricalColumn(codes, levels));
  });
  return { rowCount, columns };
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

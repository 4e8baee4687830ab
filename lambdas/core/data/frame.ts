/**
 * The in-memory table every core module shares: columnar, typed arrays, no per-row objects,
 * so a million rows by ten columns stays a few tens of MB (the drift and training paths rely on it).
 *
 * - numeric columns (contract types number, integer, boolean as 0/1, datetime as epoch ms):
 *   Float64Array, NaN marks a missing value;
 * - categorical columns: Int32Array codes into `levels`, -1 marks a missing value.
 */
export interface NumericColumn {
  readonly kind: 'numeric';
  readonly values: Float64Array;
}

export interface CategoricalColumn {
  readonly kind: 'categorical';
  readonly codes: Int32Array;
  readonly levels: readonly string[];
}

export type Column = NumericColumn | CategoricalColumn;

export interface Frame {
  readonly rowCount: number;
  /** Column order is the data's order (the contract's for validated data). */
  readonly columns: ReadonlyMap<string, Column>;
}

export function numericColumn(values: Float64Array): NumericColumn {
  return { kind: 'numeric', values };
}

export function categoricalColumn(codes: Int32Array, levels: readonly string[]): CategoricalColumn {
  return { kind: 'categorical', codes, levels };
}

/** The value of a categorical cell, or null when missing. */
export function categoryAt(column: CategoricalColumn, row: number): string | null {
  const code = column.codes[row] ?? -1;
  return code < 0 ? null : (column.levels[code] ?? null);
}

/** A new frame holding the given rows (in that order) of every column. */
export function takeRows(frame: Frame, rows: ArrayLike<number>): Frame {
  const columns = new Map<string, Column>();
  for (const [name, column] of frame.columns) {
    if (column.kind === 'numeric') {
      const values = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) values[i] = column.values[rows[i] as number] as number;
      columns.set(name, numericColumn(values));
    } else {
      const codes = new Int32Array(rows.length);
      for (let i = 0; i < rows.length; i++) codes[i] = column.codes[rows[i] as number] as number;
      columns.set(name, categoricalColumn(codes, column.levels));
    }
  }
  return { rowCount: rows.length, columns };
}

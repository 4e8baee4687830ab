/**
 * What a frame column is in contract terms, for the writers: a frame only knows numeric vs
 * categorical, while a file should say `true`, `2015-06-01T00:00:00.000Z` or `3`, not 1,
 * 1433116800000 or 3.0. Columns the contract does not name (predictions, scores) are written by
 * their kind: numeric as number, categorical as category.
 */
import type { ColumnType, DataContract } from './contract';
import type { Frame } from './frame';

export interface FrameWriteOptions {
  /** Gives datetime, boolean and integer columns their proper form in the file. */
  readonly contract?: DataContract;
}

export function frameColumnTypes(frame: Frame, contract?: DataContract): ColumnType[] {
  const declared = new Map(contract?.columns.map((column) => [column.name, column.type]));
  return [...frame.columns].map(([name, column]) => {
    const type = declared.get(name);
    if (column.kind === 'categorical') return 'category';
    return type === undefined || type === 'category' ? 'number' : type;
  });
}

/** The text of a present (non-NaN) numeric cell of the given type; also valid JSON for numbers. */
export function renderCell(type: ColumnType, value: number): string {
  switch (type) {
    case 'boolean':
      return value === 0 ? 'false' : 'true';
    case 'datetime':
      return new Date(value).toISOString();
    default:
      return String(value);
  }
}

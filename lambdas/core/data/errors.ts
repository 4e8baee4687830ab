/**
 * The one error type of the data module. It names what is wrong in the caller's terms: the
 * contract field (`columns[2].type`), the data column, the 1-based data row, the file.
 *
 * Rows that break the contract are not errors: they are quarantined with a reason (see
 * `quarantine.ts`). A `DataError` is for problems with a whole file, contract or request.
 */
export type DataErrorCode =
  /** `input_schema.json` is not JSON or does not follow the contract format. */
  | 'INVALID_CONTRACT'
  /** The file's extension (or the given format) is not one we read or write. */
  | 'UNSUPPORTED_FORMAT'
  /** The file cannot be parsed at all (broken quoting, not JSON, not Parquet, no header). */
  | 'MALFORMED_FILE'
  /** A column the contract requires is not in the file. */
  | 'MISSING_COLUMN'
  /** A strict load met rows that break the contract (the message lists the first reasons). */
  | 'REJECTED_ROWS'
  /** A function was called with options it cannot honour (a test fraction of 2, …). */
  | 'INVALID_OPTIONS'
  /** The frame does not have what the operation needs (no target column, missing labels, …). */
  | 'INVALID_FRAME'
  /** `resolveDataset` got a name that is neither bundled nor a readable data file. */
  | 'UNKNOWN_DATASET'
  /** The file or contract could not be read from disk. */
  | 'READ_FAILED';

export class DataError extends Error {
  override name = 'DataError';
  constructor(
    readonly code: DataErrorCode,
    message: string,
    readonly details: {
      /** The contract field, data column or option at fault. */
      readonly field?: string;
      /** The 1-based data row at fault. */
      readonly row?: number;
      /** The file (or object name) at fault. */
      readonly source?: string;
    } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get field(): string | undefined {
    return this.details.field;
  }

  get row(): number | undefined {
    return this.details.row;
  }
}

/** Parses JSON text; text that is not JSON is a `DataError` with `code`, naming the source. */
export function parseJsonText(text: string, source: string, code: DataErrorCode): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DataError(code, `${source}: not valid JSON (${(error as Error).message})`, { source });
  }
}

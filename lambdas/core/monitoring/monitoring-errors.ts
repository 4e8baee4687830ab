/**
 * The errors of the monitoring step. Data that cannot be compared (an empty window, an all-null
 * column, a column the current data lacks) is not an error: it is reported in the drift result.
 * These are for what stops a run: an input that cannot be read, or a request that cannot be met.
 */
import { CoreError } from '../core-error';
import { DataError } from '../data/errors';

export class MonitoringError extends CoreError {
  override name = 'MonitoringError';
}

/** Which input of a monitoring run a problem is about. */
export type MonitoringInputRole = 'reference' | 'current' | 'predictions' | 'reference predictions';

/** An input could not be read or parsed: names it (path or `s3://bucket/key`) and its role. */
export class MonitoringInputError extends MonitoringError {
  override name = 'MonitoringInputError';
  constructor(
    readonly role: MonitoringInputRole,
    /** The path or `s3://bucket/key` at fault. */
    readonly source: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot read the ${role} data ${source}: ${reason}`, options);
  }
}

/**
 * A data module error about an input (unknown format, unparsable file) as a `MonitoringInputError`
 * naming the input and its role; anything else is returned as is, to be rethrown.
 */
export function asInputError(error: unknown, role: MonitoringInputRole, source: string): unknown {
  if (error instanceof DataError) {
    // The data module's messages start with the source already; keep them whole.
    const reason = error.message.startsWith(`${source}: `)
      ? error.message.slice(source.length + 2)
      : error.message;
    return new MonitoringInputError(role, source, reason, { cause: error });
  }
  return error;
}

/** A request field is missing or malformed, or the registry cannot supply what it left out. */
export class MonitoringRequestError extends MonitoringError {
  override name = 'MonitoringRequestError';
  declare readonly field: string;
  constructor(field: string, message: string) {
    super(message, { field });
  }
}

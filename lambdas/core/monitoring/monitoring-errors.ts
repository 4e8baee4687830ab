/**
 * The errors of the monitoring step. Data that cannot be compared (an empty window, an all-null
 * column, a column the current data lacks) is not an error: it is reported in the drift result.
 * These are for what stops a run: an input that cannot be read, or a request that cannot be met.
 */
import { CoreError } from '../core-error';

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

/** A request field is missing or malformed, or the registry cannot supply what it left out. */
export class MonitoringRequestError extends MonitoringError {
  override name = 'MonitoringRequestError';
  declare readonly field: string;
  constructor(field: string, message: string) {
    super(message, { field });
  }
}

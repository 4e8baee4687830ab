/**
 * The errors the MLflow client throws. Callers branch on the class (and on `errorCode` for an
 * API error), never on message text.
 */
import { CoreError } from '../core-error';

/** Base class: `instanceof MlflowError` catches everything this client throws on purpose. */
export class MlflowError extends CoreError {
  override name = 'MlflowError';
}

/**
 * MLflow answered with an error status: a 4xx, or a 5xx that outlived the retries. Carries MLflow's
 * `error_code` (`RESOURCE_DOES_NOT_EXIST`, `RESOURCE_ALREADY_EXISTS`, `INVALID_PARAMETER_VALUE`, …),
 * the HTTP status and MLflow's message.
 */
export class MlflowApiError extends MlflowError {
  override name = 'MlflowApiError';

  constructor(
    /** MLflow's `error_code`, or the code MLflow uses for the HTTP status when the body had none. */
    readonly errorCode: string,
    readonly status: number,
    /** MLflow's own message (the `message` field of its error body). */
    readonly mlflowMessage: string,
    /** `GET /api/2.0/mlflow/…` — which call failed. */
    readonly endpoint: string,
  ) {
    super(`${endpoint} failed: HTTP ${status} ${errorCode}: ${mlflowMessage}`);
  }

  /**
   * The thing asked for is not there. MLflow says so with RESOURCE_DOES_NOT_EXIST (HTTP 404) for
   * experiments, runs, models and versions, but with INVALID_PARAMETER_VALUE (HTTP 400) and
   * "Registered model alias … not found." for a missing alias, so both count. A 404 without an
   * MLflow body (ENDPOINT_NOT_FOUND: a wrong URL) does not: that is a configuration problem.
   */
  get isNotFound(): boolean {
    return (
      this.errorCode === 'RESOURCE_DOES_NOT_EXIST' ||
      this.errorCode === 'NOT_FOUND' ||
      (this.errorCode === 'INVALID_PARAMETER_VALUE' && /\bnot found\b/i.test(this.mlflowMessage))
    );
  }

  get isAlreadyExists(): boolean {
    return this.errorCode === 'RESOURCE_ALREADY_EXISTS';
  }
}

/** The value, or undefined when MLflow says the thing is not there (see `isNotFound`). */
export async function orUndefinedIfMissing<T>(pending: Promise<T>): Promise<T | undefined> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof MlflowApiError && error.isNotFound) return undefined;
    throw error;
  }
}

/**
 * MLflow could not be reached: connection refused or reset, DNS failure, a timed-out attempt, or a
 * 502/503/504 from whatever stands in front of it — after every retry was spent.
 */
export class MlflowUnavailableError extends MlflowError {
  override name = 'MlflowUnavailableError';

  constructor(
    readonly endpoint: string,
    readonly attempts: number,
    /** Set when the last attempt got a 502/503/504 rather than no answer at all. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(
      `${endpoint}: MLflow is unavailable after ${attempts} attempt${attempts === 1 ? '' : 's'} (${
        status ? `HTTP ${status}` : describeCause(options?.cause)
      })`,
      options,
    );
  }
}

/** MLflow answered 2xx with a body this client does not understand (wrong server, proxy page, version skew). */
export class MlflowResponseError extends MlflowError {
  override name = 'MlflowResponseError';

  constructor(
    readonly endpoint: string,
    readonly problem: string,
  ) {
    super(`${endpoint}: unexpected response from MLflow: ${problem}`);
  }
}

/** A client option or environment variable is missing or malformed; names the variable. */
export class MlflowConfigError extends MlflowError {
  override name = 'MlflowConfigError';

  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable} ${message}`);
  }
}

/** A Node network error hides its reason (ECONNREFUSED, ENOTFOUND, …) in `cause`. */
export function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
  }
  if (error.name === 'TimeoutError') return `timed out: ${error.message}`;
  return error.message;
}

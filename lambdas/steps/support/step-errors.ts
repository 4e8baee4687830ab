/**
 * The errors a step throws by name: the state machines retry `TransientStepError` and catch the
 * rest into `PipelineFailed` with the error's name and message as the cause.
 */
import { CoreError } from '../../core/core-error';
// The errors module, not the core/mlflow barrel: the barrel would pull the whole MLflow client into
// steps that never call MLflow (select-best's bundle: 460 KB with it, a few KB without).
import { MlflowUnavailableError } from '../../core/mlflow/errors';

/**
 * A failure worth retrying: MLflow unreachable or answering 5xx, S3 throttling. The state machines
 * retry errors of this name (3 attempts, exponential backoff with jitter) before catching them.
 */
export class TransientStepError extends Error {
  override name = 'TransientStepError';
}

/** A step's environment is missing a variable or holds a bad value; names the variable. */
export class StepConfigError extends Error {
  override name = 'StepConfigError';

  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable} ${message}`);
  }
}

/** A step's input or an object it reads does not have the shape it needs; names the field. */
export class StepInputError extends CoreError {
  override name = 'StepInputError';
  declare readonly field: string;

  constructor(field: string, message: string) {
    super(message, { field });
  }
}

/** S3 answers that mean "try again later" rather than "this is wrong". */
const TRANSIENT_S3 = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestTimeout',
  'ServiceUnavailable',
  'InternalError',
]);

/** Re-throws MLflow and S3 outages as TransientStepError (so Step Functions retries them); else as is. */
export function asStepError(error: unknown): unknown {
  if (error instanceof TransientStepError) return error;
  if (error instanceof MlflowUnavailableError) return new TransientStepError(error.message, { cause: error });
  const named = error as { name?: unknown; $metadata?: { httpStatusCode?: number }; message?: unknown };
  const status = named.$metadata?.httpStatusCode;
  if (
    (typeof named.name === 'string' && TRANSIENT_S3.has(named.name)) ||
    (typeof status === 'number' && status >= 500)
  ) {
    return new TransientStepError(`S3: ${String(named.message ?? named.name)}`, { cause: error });
  }
  return error;
}

/** Runs a step's body, mapping outages to TransientStepError. */
export async function step<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw asStepError(error);
  }
}

/**
 * The serving core's error types. They say what went wrong in the caller's terms (which field,
 * which row) and know nothing of a transport: the predict API (lambdas/predict/) is the one
 * place that turns them into answers.
 */

export type ValidationCode =
  | 'INVALID_SHAPE'
  | 'UNKNOWN_FIELD'
  | 'MISSING_FIELD'
  | 'INVALID_TYPE'
  | 'UNKNOWN_CATEGORY'
  | 'NOT_FINITE'
  | 'TOO_MANY_ROWS'
  | 'NO_ROWS'
  | 'INVALID_ALIAS';

/** The request is malformed or does not match the model's input schema. */
export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(
    readonly code: ValidationCode,
    message: string,
    /** The offending field (a feature name or a body key such as `instances`), when there is one. */
    readonly field?: string,
    /** The 0-based row of the offending value, when there is one. */
    readonly row?: number,
  ) {
    super(message);
  }
}

/** No model could be loaded for the requested alias (yet): the caller may retry later. */
export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
  readonly code = 'MODEL_UNAVAILABLE';
  constructor(
    message: string,
    readonly alias: string,
    /** Why, as a code a public answer may carry (the message may hold upstream detail). */
    readonly reason?: ModelProblemCode,
  ) {
    super(message);
  }
}

/** Why a model version could not be made servable; kept in `/status` as `last_error.code`. */
export type ModelProblemCode =
  | 'REGISTRY_UNREACHABLE'
  | 'ALIAS_NOT_FOUND'
  | 'REGISTRY_ERROR'
  | 'ARTIFACT_DOWNLOAD_FAILED'
  | 'MODEL_CORRUPT'
  | 'MODEL_UNSUPPORTED'
  /** A serving manifest that does not parse (serving/<model>/<alias>.json). */
  | 'MANIFEST_INVALID'
  /** A model file whose bytes do not hash to the sha256 its manifest records. */
  | 'CHECKSUM_MISMATCH';

/**
 * A problem with the registry or a model artifact. `permanent` problems (a corrupt or
 * unsupported artifact: registered versions are immutable) are remembered per version and not
 * retried; the others are retried on the next alias check.
 */
export class ModelProblem extends Error {
  override name = 'ModelProblem';
  constructor(
    readonly code: ModelProblemCode,
    message: string,
    readonly permanent = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The one place where error types become HTTP answers: `{"error": {"code", "message", "field",
 * "row"}}` with the matching status. Anything unexpected is a 500 whose body says nothing of
 * the cause; the cause goes to the log only. A model that cannot be served is a 503 with a
 * generic reason (`registry unreachable`): the registry's own error text names internal hosts
 * and addresses, so it goes to the log and `/status` (an authenticated route), never into an
 * answer `/health` or `/predict` gives.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type ModelProblemCode, ModelUnavailableError, ValidationError } from '../core/serving/errors';
import { RequestError, type RequestErrorCode } from './request-errors';

export interface ErrorBody {
  readonly error: { code: string; message: string; field: string | null; row: number | null };
}

export interface MappedError {
  readonly statusCode: number;
  readonly code: string;
}

/** Where the middleware reports what it did; the handler logs and counts through it. */
export interface HttpErrorsOptions {
  /** Called for every mapped error (metrics by code). */
  onMapped?: (mapped: MappedError, error: unknown) => void;
  /** Called for errors that are not ours to explain (500s), with the original error. */
  onUnexpected?: (error: unknown) => void;
  /** Seconds a client should wait before retrying a 503. @default 5 */
  retryAfterSeconds?: number;
}

const defaults: Required<Pick<HttpErrorsOptions, 'retryAfterSeconds'>> = { retryAfterSeconds: 5 };

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/** A body that cannot be read is a bad request like invalid input; the rest are HTTP's own answers. */
const REQUEST_ERROR_STATUS: Readonly<Record<RequestErrorCode, number>> = {
  NOT_FOUND: 404,
  UNKNOWN_ALIAS: 404,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  EMPTY_BODY: 400,
  INVALID_JSON: 400,
  BODY_TOO_LARGE: 400,
};

export function httpErrors(
  opts: HttpErrorsOptions = {},
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const options = { ...defaults, ...opts };

  const httpErrorsOnError = (request: Request<APIGatewayProxyEvent, APIGatewayProxyResult>): void => {
    const { error } = request;
    const { statusCode, body, headers } = toHttp(error, options.retryAfterSeconds);
    if (statusCode >= 500 && !(error instanceof ModelUnavailableError)) options.onUnexpected?.(error);
    options.onMapped?.({ statusCode, code: body.error.code }, error);
    // Set, not returned: returning would end middy's onError chain before the metrics flush.
    request.response = { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
  };

  return { onError: httpErrorsOnError };
}

export function toHttp(
  error: unknown,
  retryAfterSeconds = defaults.retryAfterSeconds,
): { statusCode: number; body: ErrorBody; headers?: Record<string, string> } {
  if (error instanceof ValidationError) {
    return { statusCode: 400, body: errorBody(error.code, error.message, error.field, error.row) };
  }
  if (error instanceof RequestError) {
    return {
      statusCode: REQUEST_ERROR_STATUS[error.code],
      body: errorBody(error.code, error.message, error.field),
      ...(error.allowed.length > 0 ? { headers: { allow: error.allowed.join(', ') } } : {}),
    };
  }
  if (error instanceof ModelUnavailableError) {
    return {
      statusCode: 503,
      body: errorBody(
        error.code,
        `no model version can be served for alias '${error.alias}': ${publicReason(error.reason)}`,
      ),
      headers: { 'retry-after': String(retryAfterSeconds) },
    };
  }
  return { statusCode: 500, body: errorBody('INTERNAL', 'internal error; the request was logged') };
}

/** What a public answer says about a model problem: its kind, never the upstream text. */
const PUBLIC_REASONS: Readonly<Record<ModelProblemCode, string>> = {
  REGISTRY_UNREACHABLE: 'registry unreachable',
  REGISTRY_ERROR: 'registry error',
  ALIAS_NOT_FOUND: 'the alias is not set in the registry',
  ARTIFACT_DOWNLOAD_FAILED: 'model download failed',
  MODEL_CORRUPT: 'the model could not be loaded',
  MODEL_UNSUPPORTED: 'the model is not supported by this API',
  MANIFEST_INVALID: 'the serving manifest is invalid',
  CHECKSUM_MISMATCH: 'the model files do not match their checksum',
};

export function publicReason(reason: ModelProblemCode | undefined): string {
  return reason === undefined ? 'no model loaded yet' : PUBLIC_REASONS[reason];
}

function errorBody(code: string, message: string, field?: string, row?: number): ErrorBody {
  return { error: { code, message, field: field ?? null, row: row ?? null } };
}

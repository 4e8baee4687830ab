/**
 * What is wrong with a request before the serving core sees it: no such route, a method the
 * route does not take, a body not declared as JSON, or a body that cannot be read as one JSON
 * document, an alias this deployment does not serve. These belong to the API, not to the transport-free core; `httpErrors` maps them,
 * with the core's errors, to status codes.
 */

export type RequestErrorCode =
  | 'NOT_FOUND'
  | 'UNKNOWN_ALIAS'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'EMPTY_BODY'
  | 'INVALID_JSON'
  | 'BODY_TOO_LARGE';

export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly code: RequestErrorCode,
    message: string,
    /** With `METHOD_NOT_ALLOWED`: the methods the route takes, for the `Allow` header. */
    readonly allowed: readonly string[] = [],
    /** The request part at fault (`alias`), when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

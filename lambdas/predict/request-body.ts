/**
 * Reads a JSON request body out of an API Gateway proxy event: content type, size limit,
 * base64 (binary media types) and JSON syntax, each with its own error.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { RequestError } from './request-errors';

export function readJsonBody(event: APIGatewayProxyEvent, maxBodyBytes: number): unknown {
  const contentType = header(event, 'content-type');
  if (!isJson(contentType)) {
    throw new RequestError(
      'UNSUPPORTED_MEDIA_TYPE',
      `the body must be sent as application/json${contentType ? ` (got ${contentType.slice(0, 100)})` : ' (no Content-Type header)'}`,
    );
  }
  const text = readText(event, maxBodyBytes);
  if (text.trim() === '') throw new RequestError('EMPTY_BODY', 'the body is empty; send a JSON object');
  return parseJson(text);
}

/** The scoring protocol's media types (MLflow's scoring server takes these two and Parquet). */
export type ScoringMediaType = 'application/json' | 'text/csv';

/**
 * A body of MLflow's scoring protocol: `application/json` or `text/csv`, UTF-8 (a `charset`
 * parameter may say so; any other parameter is refused, as MLflow's server refuses it).
 */
export function readScoringBody(
  event: APIGatewayProxyEvent,
  maxBodyBytes: number,
): { mediaType: ScoringMediaType; text: string } {
  const contentType = header(event, 'content-type') ?? '';
  const [mediaType = '', ...parameters] = contentType.split(';').map((part) => part.trim());
  const values = new Map(
    parameters.map((pair) => {
      const at = pair.indexOf('=');
      return at < 0
        ? [pair.toLowerCase(), '']
        : [pair.slice(0, at).trim().toLowerCase(), pair.slice(at + 1).trim()];
    }),
  );
  if ((values.get('charset') ?? 'utf-8').toLowerCase() !== 'utf-8') {
    throw new RequestError('UNSUPPORTED_MEDIA_TYPE', 'The scoring server only supports UTF-8');
  }
  const unexpected = [...values.keys()].filter((name) => name !== 'charset');
  if (unexpected.length > 0) {
    throw new RequestError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Unrecognized content type parameters: ${unexpected.join(', ').slice(0, 100)}`,
    );
  }
  const type = mediaType.toLowerCase();
  if (type !== 'application/json' && type !== 'text/csv') {
    throw new RequestError(
      'UNSUPPORTED_MEDIA_TYPE',
      `This predictor only supports the following content types: application/json, text/csv. Got '${contentType.slice(0, 100)}'.`,
    );
  }
  const text = readText(event, maxBodyBytes);
  if (text.trim() === '') throw new RequestError('EMPTY_BODY', 'the body is empty');
  return { mediaType: type, text };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8's message names the position ("Unexpected token } in JSON at position 12"), never a stack.
    const detail = error instanceof SyntaxError ? `: ${error.message.slice(0, 200)}` : '';
    throw new RequestError('INVALID_JSON', `the body is not valid JSON${detail}`);
  }
}

function readText(event: APIGatewayProxyEvent, maxBodyBytes: number): string {
  const raw = event.body ?? '';
  // A quick bound before decoding: base64 inflates by 4/3, a UTF-16 length undercounts bytes by at most 3x.
  if (raw.length > (event.isBase64Encoded ? Math.ceil((maxBodyBytes * 4) / 3) + 4 : maxBodyBytes)) {
    throw tooLarge(maxBodyBytes);
  }
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > maxBodyBytes) throw tooLarge(maxBodyBytes);
  return text;
}

/** application/json, with parameters, or any +json type. */
function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mediaType = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return (
    mediaType === 'application/json' || (mediaType.startsWith('application/') && mediaType.endsWith('+json'))
  );
}

/** API Gateway keeps the client's header case; HTTP says names are case-insensitive. */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const direct = headers[name];
  if (direct !== undefined) return direct;
  for (const key in headers) if (key.toLowerCase() === name) return headers[key];
  return undefined;
}

function tooLarge(maxBodyBytes: number): RequestError {
  return new RequestError('BODY_TOO_LARGE', `the body is over the limit of ${maxBodyBytes} bytes`);
}

/**
 * HTTP to the MLflow server over the global `fetch`: auth headers, a timeout per attempt, retries
 * with exponential backoff and full jitter on connection errors, 5xx and 429, and the mapping of
 * failed calls to the typed errors in `errors.ts`.
 */
import type { z } from 'zod';
import { MlflowApiError, MlflowConfigError, MlflowResponseError, MlflowUnavailableError } from './errors';
import { ErrorResponseSchema } from './schemas';

export type MlflowAuth =
  | { readonly type: 'basic'; readonly username: string; readonly password: string }
  | { readonly type: 'bearer'; readonly token: string };

export interface RetryOptions {
  /** Attempts per call, the first included; 1 turns retries off. @default 3 */
  readonly attempts?: number;
  /** Upper bound of the first backoff; it doubles per retry (full jitter: the wait is random below it). @default 100 */
  readonly baseDelayMs?: number;
  /** Cap on any one backoff. @default 2000 */
  readonly maxDelayMs?: number;
}

export interface TransportOptions {
  /** The tracking server's base URL, e.g. `http://127.0.0.1:5000`. */
  readonly trackingUri: string;
  readonly auth?: MlflowAuth;
  readonly retry?: RetryOptions;
  /** Timeout of one attempt (connect, answer and body). @default 30000 */
  readonly timeoutMs?: number;
}

/** Per-call options every client method takes last. */
export interface CallOptions {
  /** Cancels the call, retries included (e.g. a Lambda's remaining time). */
  readonly signal?: AbortSignal;
}

type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface RequestSpec extends CallOptions {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** Below the tracking URI, e.g. `/api/2.0/mlflow/runs/get`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** Sent as JSON with `content-type: application/json`. */
  readonly json?: unknown;
  /** Sent as-is with `content-type: application/octet-stream`. */
  readonly bytes?: Uint8Array;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 3, baseDelayMs: 100, maxDelayMs: 2000 };
export const DEFAULT_TIMEOUT_MS = 30_000;

/** MLflow's own mapping (mlflow/exceptions.py) for an error answer without an MLflow body. */
const ERROR_CODE_FOR_STATUS: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'ENDPOINT_NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL_ERROR',
  501: 'NOT_IMPLEMENTED',
  503: 'TEMPORARILY_UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** Statuses that say "the server, or what stands before it, is not up": unavailable, not an API error. */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

export class MlflowTransport {
  readonly baseUrl: string;
  private readonly retry: Required<RetryOptions>;
  private readonly timeoutMs: number;
  private readonly authorization: string | undefined;

  constructor(options: TransportOptions) {
    const url = URL.canParse(options.trackingUri) ? new URL(options.trackingUri) : undefined;
    if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
      throw new MlflowConfigError(
        'trackingUri',
        `must be an http:// or https:// URL, got '${options.trackingUri}'`,
      );
    }
    // fetch refuses URLs with credentials in them; MLflow accepts http://user:pass@host as basic auth.
    const inUrl: MlflowAuth | undefined = url.username
      ? {
          type: 'basic',
          username: decodeURIComponent(url.username),
          password: decodeURIComponent(url.password),
        }
      : undefined;
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    this.baseUrl = url.toString().replace(/\/+$/, '');
    this.retry = { ...DEFAULT_RETRY, ...definedOnly(options.retry ?? {}) };
    if (!Number.isInteger(this.retry.attempts) || this.retry.attempts < 1) {
      throw new RangeError(`retry.attempts must be an integer of at least 1, got ${this.retry.attempts}`);
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.authorization = authorizationHeader(options.auth ?? inUrl);
  }

  /** Sends the request and validates the JSON answer against `schema`. */
  async json<S extends z.ZodType>(spec: RequestSpec, schema: S): Promise<z.output<S>> {
    const endpoint = `${spec.method} ${spec.path}`;
    const body = await this.send(spec);
    let parsed: unknown;
    try {
      parsed = body.byteLength === 0 ? {} : JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new MlflowResponseError(endpoint, `not JSON: ${preview(body)}`);
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new MlflowResponseError(
        endpoint,
        `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    return result.data;
  }

  /** Sends the request and returns the raw answer body (artifact downloads). */
  async bytes(spec: RequestSpec): Promise<Uint8Array> {
    return this.send(spec);
  }

  private async send(spec: RequestSpec): Promise<Uint8Array> {
    const endpoint = `${spec.method} ${spec.path}`;
    const url = this.url(spec);
    const init = this.init(spec);
    const { attempts } = this.retry;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(url, init, spec.signal);
      if (outcome.kind === 'answer' && outcome.status >= 200 && outcome.status < 300) return outcome.body;
      // Every method is retried, POSTs included, as MLflow's Python client does: most writes are
      // idempotent (set-tag, alias, log-batch params) or fail cleanly when repeated (creating a
      // named experiment or model → RESOURCE_ALREADY_EXISTS, which get-or-create absorbs). When the
      // first answer was lost, runs/create and model-versions/create can leave a spare behind.
      const retryable = outcome.kind === 'failure' || outcome.status >= 500 || outcome.status === 429;
      if (!retryable || attempt >= attempts) throw toError(endpoint, outcome, attempt);
      await sleep(this.backoff(attempt), spec.signal);
    }
  }

  /** One attempt; the body is read inside it, so a connection dropped mid-body is retried too. */
  private async attempt(url: string, init: RequestInit, signal: AbortSignal | undefined): Promise<Outcome> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await fetch(url, {
        ...init,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const body = new Uint8Array(await response.arrayBuffer());
      return { kind: 'answer', status: response.status, body };
    } catch (error) {
      // The caller's cancellation ends the call; it is not a reason to retry.
      if (signal?.aborted) throw signal.reason;
      return { kind: 'failure', error };
    }
  }

  /** Exponential backoff with full jitter: random in [0, min(max, base·2^(n-1))). */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.random() * ceiling;
  }

  private url(spec: RequestSpec): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const item of value) search.append(name, item);
      else search.append(name, String(value));
    }
    const query = search.size > 0 ? `?${search}` : '';
    return `${this.baseUrl}${spec.path}${query}`;
  }

  private init(spec: RequestSpec): RequestInit {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.authorization) headers.authorization = this.authorization;
    let body: RequestInit['body'];
    if (spec.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.json);
    } else if (spec.bytes !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = spec.bytes as Uint8Array<ArrayBuffer>;
    }
    return { method: spec.method, headers, body };
  }
}

type Outcome =
  | { readonly kind: 'answer'; readonly status: number; readonly body: Uint8Array }
  | { readonly kind: 'failure'; readonly error: unknown };

function toError(endpoint: string, outcome: Outcome, attempts: number): Error {
  if (outcome.kind === 'failure')
    return new MlflowUnavailableError(endpoint, attempts, undefined, { cause: outcome.error });
  const { status, body } = outcome;
  const mlflowError = parseErrorBody(body);
  if (UNAVAILABLE_STATUSES.has(status) && !mlflowError?.error_code) {
    return new MlflowUnavailableError(endpoint, attempts, status);
  }
  const fallbackCode = ERROR_CODE_FOR_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST');
  return new MlflowApiError(
    mlflowError?.error_code ?? fallbackCode,
    status,
    mlflowError?.message ?? (preview(body) || `HTTP ${status}`),
    endpoint,
  );
}

function parseErrorBody(body: Uint8Array): z.output<typeof ErrorResponseSchema> | undefined {
  try {
    const parsed = ErrorResponseSchema.safeParse(JSON.parse(new TextDecoder().decode(body)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function authorizationHeader(auth: MlflowAuth | undefined): string | undefined {
  if (!auth) return undefined;
  if (auth.type === 'bearer') return `Bearer ${auth.token}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
}

function preview(body: Uint8Array): string {
  const text = new TextDecoder().decode(body.subarray(0, 300)).replace(/\s+/g, ' ').trim();
  return body.byteLength > 300 ? `${text}…` : text;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

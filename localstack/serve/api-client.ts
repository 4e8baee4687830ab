/**
 * Calls to the predict API as its clients make them: signed with SigV4 (API_AUTH=iam, the
 * default) or with the API key (API_AUTH=api-key). The demo, the benchmarks, `mlops status --api`,
 * the local end-to-end checks and the tests use it, so each calls `npm run serve` and API Gateway
 * the way a client in AWS would.
 */
import type { ApiAuthMode } from '../../lambdas/predict/config';
import { readEnvFile } from '../services/services';
import { type SigningCredentials, signedHeaders } from './sigv4';

export type ApiCaller =
  | { readonly mode: 'iam'; readonly credentials: SigningCredentials; readonly region: string }
  | { readonly mode: 'api-key'; readonly key: string };

/**
 * The caller the environment describes: API_AUTH picks the mode; iam signs with AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN) in AWS_REGION; api-key sends MLOPS_API_KEY.
 */
export function apiCallerFromEnv(env: NodeJS.ProcessEnv = process.env): ApiCaller {
  const mode = (env.API_AUTH?.trim() || 'iam') as ApiAuthMode;
  if (mode === 'api-key') {
    const key = env.MLOPS_API_KEY?.split(',')[0]?.trim();
    if (!key) throw new Error('MLOPS_API_KEY is required to call the predict API with API_AUTH=api-key');
    return { mode, key };
  }
  if (mode !== 'iam')
    throw new Error(`API_AUTH must be iam or api-key (got ${JSON.stringify(env.API_AUTH)})`);
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  const region = (env.AWS_REGION ?? env.AWS_DEFAULT_REGION)?.trim();
  if (!accessKeyId || !secretAccessKey || !region) {
    const missing = [
      ...(accessKeyId ? [] : ['AWS_ACCESS_KEY_ID']),
      ...(secretAccessKey ? [] : ['AWS_SECRET_ACCESS_KEY']),
      ...(region ? [] : ['AWS_REGION']),
    ];
    throw new Error(`${missing.join(', ')} required to sign predict API calls (API_AUTH=iam)`);
  }
  const sessionToken = env.AWS_SESSION_TOKEN?.trim();
  return {
    mode,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    region,
  };
}

/**
 * The environment with what `npm run local:up` wrote to .local/env filling the gaps, as
 * `npm run serve` reads it: local callers sign with the same credentials the server checks.
 */
export function localEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const fromFile = Object.entries(readEnvFile() ?? {}).filter(([, value]) => typeof value === 'string');
  return { ...Object.fromEntries(fromFile), ...env };
}

export interface ApiRequest {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

/** The headers that authenticate this request for the caller (plus the given ones). */
export async function authHeaders(
  caller: ApiCaller,
  url: string,
  request: ApiRequest = {},
): Promise<Record<string, string>> {
  const headers = request.headers ?? {};
  if (caller.mode === 'api-key') return { ...headers, 'x-api-key': caller.key };
  return signedHeaders(
    {
      url,
      method: request.method ?? 'GET',
      headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
    },
    caller.credentials,
    caller.region,
  );
}

/** `fetch`, authenticated for the caller. */
export async function callApi(caller: ApiCaller, url: string, request: ApiRequest = {}): Promise<Response> {
  return fetch(url, {
    method: request.method ?? 'GET',
    headers: await authHeaders(caller, url, request),
    ...(request.body !== undefined ? { body: request.body } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  });
}

/** A `fetch` for code that takes one (string URLs, string bodies), authenticated for the caller. */
export function callerFetch(caller: ApiCaller): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const body = typeof init?.body === 'string' ? init.body : undefined;
    if (init?.body !== undefined && init.body !== null && body === undefined) {
      throw new TypeError('callerFetch signs string bodies only');
    }
    return callApi(caller, url, {
      method: init?.method ?? 'GET',
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(init?.signal ? { signal: init.signal } : {}),
    });
  };
}

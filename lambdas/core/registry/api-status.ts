/**
 * What a deployed predict API has loaded, from its `GET /status`, set beside what MLflow says.
 * The API re-resolves each alias every ALIAS_TTL, so right after a promotion a mismatch is
 * expected for up to that long; one that outlasts it means the API cannot load the new version.
 */
import { z } from 'zod';
import { InvalidRegistryArgumentError } from './errors';

const ApiAliasSchema = z.object({
  alias: z.string(),
  state: z.string(),
  resolved_version: z.string().nullable().default(null),
  loaded_version: z.string().nullable().default(null),
  run_id: z.string().nullable().default(null),
  last_resolved_at: z.string().nullable().default(null),
  last_error: z
    .object({ code: z.string(), message: z.string(), at: z.string().optional() })
    .nullable()
    .default(null),
});

/** The predict function's `/status` body (lambdas/core/serving's `StoreStatus`); unknown fields are ignored. */
const ApiStatusBodySchema = z.object({
  status: z.string(),
  model: z.string(),
  default_alias: z.string(),
  alias_ttl_seconds: z.number(),
  aliases: z.array(ApiAliasSchema),
});
export type ApiStatusBody = z.output<typeof ApiStatusBodySchema>;

export type ApiStatusReport =
  | { readonly kind: 'answered'; readonly url: string; readonly body: ApiStatusBody }
  /** No answer: refused, DNS, timeout. */
  | { readonly kind: 'unreachable'; readonly url: string; readonly error: string }
  /** An answer, but not a status: HTTP error (a missing API key: 403), or a body of another shape. */
  | { readonly kind: 'invalid'; readonly url: string; readonly error: string };

export interface ApiStatusOptions {
  /** Sent as `x-api-key` (API Gateway's usage-plan key guards `/status`). */
  readonly apiKey?: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** `<api>/status`; an API URL that already ends in `/status` is taken as is. */
export function statusUrl(apiUrl: string): string {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new InvalidRegistryArgumentError(
      'api',
      `the predict API URL must be an http:// or https:// URL, got '${apiUrl}'`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidRegistryArgumentError(
      'api',
      `the predict API URL must be an http:// or https:// URL, got '${apiUrl}'`,
    );
  }
  const base = apiUrl.replace(/\/+$/, '');
  return base.endsWith('/status') ? base : `${base}/status`;
}

/** Never throws for the API's sake: an API that is down is a finding of `status`, not a failure of it. */
export async function fetchApiStatus(
  apiUrl: string,
  options: ApiStatusOptions = {},
): Promise<ApiStatusReport> {
  const url = statusUrl(apiUrl);
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  let text: string;
  try {
    response = await doFetch(url, {
      headers: { accept: 'application/json', ...(options.apiKey && { 'x-api-key': options.apiKey }) },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
    text = await response.text();
  } catch (error) {
    return { kind: 'unreachable', url, error: describeFetchError(error) };
  }
  if (!response.ok) return { kind: 'invalid', url, error: `HTTP ${response.status}: ${preview(text)}` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', url, error: `not JSON: ${preview(text)}` };
  }
  const parsed = ApiStatusBodySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      kind: 'invalid',
      url,
      error: `not a predict API status: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
    };
  }
  return { kind: 'answered', url, body: parsed.data };
}

export interface AliasComparison {
  readonly alias: string;
  /** What MLflow's alias points at now (null: the alias is not set there). */
  readonly mlflowVersion: string | null;
  /** What the API last resolved the alias to. */
  readonly resolvedVersion: string | null;
  /** What the API is serving. */
  readonly loadedVersion: string | null;
  readonly runId: string | null;
  readonly state: string;
  readonly lastResolvedAt: string | null;
  readonly lastError: string | null;
  /** The API serves the version MLflow's alias points at. */
  readonly inSync: boolean;
}

/** Each alias the API follows beside MLflow's version for it. */
export function compareAliases(
  body: ApiStatusBody,
  mlflowAliases: ReadonlyMap<string, string>,
): AliasComparison[] {
  return body.aliases.map((entry) => {
    const mlflowVersion = mlflowAliases.get(entry.alias) ?? null;
    return {
      alias: entry.alias,
      mlflowVersion,
      resolvedVersion: entry.resolved_version,
      loadedVersion: entry.loaded_version,
      runId: entry.run_id,
      state: entry.state,
      lastResolvedAt: entry.last_resolved_at,
      lastError: entry.last_error ? `${entry.last_error.code}: ${entry.last_error.message}` : null,
      inSync: mlflowVersion !== null && entry.loaded_version === mlflowVersion,
    };
  });
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'timed out';
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // undici's answer for ports the Fetch standard blocks (1, 9, 25, 6000, …).
    if (cause.message === 'bad port') return 'port blocked by fetch (the Fetch standard’s bad-port list)';
    return cause.message;
  }
  return error.message;
}

function preview(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

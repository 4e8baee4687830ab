/**
 * What `npm run serve` asks of a caller before the handler runs, as the deployed API Gateway
 * does: with API_AUTH=iam (the default) a SigV4 signature made with the local AWS credentials
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION; service execute-api), with
 * API_AUTH=api-key the key in MLOPS_API_KEY as `x-api-key`. /health and /openapi.json stay public.
 * A refused request is a 403 with API Gateway's body (`{"message": …}`) and `x-amzn-ErrorType`.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { API_AUTH_MODES, type ApiAuthMode } from '../../lambdas/predict/config';
import { PUBLIC_ROUTES } from '../../lambdas/predict/route-access';
import {
  constantTimeEqual,
  type ReceivedRequest,
  type Rejection,
  type SigningCredentials,
  verifySignature,
} from './sigv4';

export type RequestAuth =
  | { readonly mode: 'iam'; readonly credentials: SigningCredentials; readonly region: string }
  | { readonly mode: 'api-key'; readonly keys: readonly string[] };

export class RequestAuthConfigError extends Error {
  override name = 'RequestAuthConfigError';
}

/** The mode and the secrets it checks against, from the environment; errors name the variable. */
export function requestAuthFromEnv(env: NodeJS.ProcessEnv = process.env): RequestAuth {
  const mode = (env.API_AUTH?.trim() || 'iam') as ApiAuthMode;
  if (!(API_AUTH_MODES as readonly string[]).includes(mode)) {
    throw new RequestAuthConfigError(
      `API_AUTH must be ${API_AUTH_MODES.join(' or ')} (got ${JSON.stringify(env.API_AUTH)})`,
    );
  }
  if (mode === 'api-key') {
    const keys = (env.MLOPS_API_KEY ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter((key) => key !== '');
    if (keys.length === 0) {
      throw new RequestAuthConfigError(
        'MLOPS_API_KEY is required with API_AUTH=api-key (the key callers send as x-api-key; several: comma-separated)',
      );
    }
    return { mode, keys };
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  const region = (env.AWS_REGION ?? env.AWS_DEFAULT_REGION)?.trim();
  for (const [name, value] of [
    ['AWS_ACCESS_KEY_ID', accessKeyId],
    ['AWS_SECRET_ACCESS_KEY', secretAccessKey],
    ['AWS_REGION', region],
  ] as const) {
    if (!value) {
      throw new RequestAuthConfigError(
        `${name} is required with API_AUTH=iam (the default): requests to /predict and /status are checked against the local AWS credentials (npm run local:up writes them to .local/env)`,
      );
    }
  }
  return {
    mode,
    credentials: { accessKeyId: accessKeyId ?? '', secretAccessKey: secretAccessKey ?? '' },
    region: region ?? '',
  };
}

/** Who the request was authorized as, for the event's `requestContext.identity`. */
export type CallerIdentity = Partial<
  Pick<APIGatewayProxyEvent['requestContext']['identity'], 'accessKey' | 'apiKey'>
>;

export type Authorization =
  | { readonly ok: true; readonly identity: CallerIdentity }
  | ({ readonly ok: false } & Rejection);

export type Authorizer = (request: ReceivedRequest) => Promise<Authorization>;

/** Public routes pass; every other route needs the mode's credential. */
export function requestAuthorizer(
  auth: RequestAuth,
  publicRoutes: readonly string[] = PUBLIC_ROUTES,
): Authorizer {
  const open = new Set(publicRoutes);
  return async (request) => {
    if (open.has(normalisedPath(request.path))) return { ok: true, identity: {} };
    if (auth.mode === 'api-key') {
      const given = request.headers['x-api-key'];
      const key = Array.isArray(given) ? given[0] : given;
      // Every configured key is compared, so the time taken does not say which one nearly matched.
      const matches = auth.keys.map((candidate) => key !== undefined && constantTimeEqual(candidate, key));
      return matches.includes(true)
        ? { ok: true, identity: { apiKey: key ?? null } }
        : { ok: false, type: 'ForbiddenException', message: 'Forbidden' };
    }
    const rejection = await verifySignature(request, { credentials: auth.credentials, region: auth.region });
    return rejection
      ? { ok: false, ...rejection }
      : { ok: true, identity: { accessKey: auth.credentials.accessKeyId } };
  };
}

function normalisedPath(raw: string): string {
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    path = raw;
  }
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

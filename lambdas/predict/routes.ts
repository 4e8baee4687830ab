/**
 * The predict API's routes: parse the API Gateway event, call the serving core, shape the
 * answer. Errors are thrown as types and become HTTP answers in `httpErrors`.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  ModelProblem,
  type ModelProblemCode,
  ModelUnavailableError,
  ValidationError,
} from '../core/serving/errors';
import { score } from '../core/serving/mlflow-scoring';
import type { ModelStore, StoreStatus } from '../core/serving/model-store';
import { predict } from '../core/serving/predict';
import { ALIAS_NAME_RULE, isAliasName } from '../core/settings';
import type { ApiAuthMode } from './config';
import { publicReason, toHttp } from './http-errors';
import { openApiDocument } from './openapi';
import { parseJson, readJsonBody, readScoringBody } from './request-body';
import { RequestError } from './request-errors';

/**
 * Problems whose message is upstream text (a network error naming a host or an address, S3's or
 * the registry's own words): /status says what kind of problem it is and leaves the detail to the
 * function's log, where `aliasResolutionFailed`/`modelLoadFailed` wrote it. The other problems
 * (a checksum mismatch, a model that does not load) are described in this API's own words.
 */
const UPSTREAM_PROBLEMS: ReadonlySet<ModelProblemCode> = new Set([
  'REGISTRY_UNREACHABLE',
  'REGISTRY_ERROR',
  'ARTIFACT_DOWNLOAD_FAILED',
]);

export function withoutUpstreamText(status: StoreStatus): StoreStatus {
  return {
    ...status,
    aliases: status.aliases.map((alias) =>
      alias.last_error && UPSTREAM_PROBLEMS.has(alias.last_error.code)
        ? {
            ...alias,
            last_error: {
              ...alias.last_error,
              message: `${publicReason(alias.last_error.code)} (the details are in the function's log)`,
            },
          }
        : alias,
    ),
  };
}

export interface RouteDependencies {
  readonly store: ModelStore;
  readonly maxBodyBytes: number;
  readonly metrics: Metrics;
  /** The aliases `?alias=` may name; the served alias must be among them. */
  readonly allowedAliases: readonly string[];
  readonly apiAuth: ApiAuthMode;
}

type Route = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const NO_STORE_HEADERS = { ...JSON_HEADERS, 'cache-control': 'no-store' } as const;

export function createRouter(deps: RouteDependencies): Route {
  const { store, metrics } = deps;
  const allowed = new Set(deps.allowedAliases);
  if (!allowed.has(store.defaultAlias)) {
    throw new Error(
      `allowedAliases (${deps.allowedAliases.join(', ')}) must include the served alias '${store.defaultAlias}'`,
    );
  }
  const allowedList = [...allowed].join(', ');

  const routes: Record<string, Partial<Record<string, Route>>> = {
    '/predict': {
      POST: async (event) => {
        const alias = requestedAlias(event) ?? store.defaultAlias;
        // Checked before anything asks the registry: an alias nobody allowed costs no lookup.
        if (!allowed.has(alias)) {
          throw new RequestError(
            'UNKNOWN_ALIAS',
            `alias '${alias}' is not served by this API; allowed: ${allowedList}`,
            [],
            'alias',
          );
        }
        // The body's envelope (content type, size, JSON) is checked before the model is needed.
        const body = readJsonBody(event, deps.maxBodyBytes);
        const result = await predict(store, body, alias);
        metrics.addDimension('Alias', alias);
        metrics.addMetric('ServedModelVersion', MetricUnit.NoUnit, Number(result.model.version));
        return { statusCode: 200, headers: JSON_HEADERS, body: JSON.stringify(result) };
      },
    },
    // MLflow's scoring protocol, as `mlflow models serve` answers it (mlflow-scoring.ts).
    '/invocations': {
      POST: async (event) => {
        try {
          const { mediaType, text } = readScoringBody(event, deps.maxBodyBytes);
          const request =
            mediaType === 'text/csv'
              ? { kind: 'csv' as const, text }
              : { kind: 'json' as const, body: parseJson(text) };
          const answer = await score(store, request);
          metrics.addDimension('Alias', store.defaultAlias);
          metrics.addMetric('ServedModelVersion', MetricUnit.NoUnit, Number(answer.version));
          return {
            statusCode: 200,
            headers: { ...JSON_HEADERS, 'x-model-version': answer.version },
            body: JSON.stringify({ predictions: answer.predictions }),
          };
        } catch (error) {
          return mlflowError(error);
        }
      },
    },
    // Readiness, as MLflow's and SageMaker's containers answer it: 200 once a model is loaded.
    '/ping': {
      GET: async () => {
        if (store.peek()) return { statusCode: 200, headers: NO_STORE_HEADERS, body: '\n' };
        // Starts the first load if nothing has yet; the probe itself never waits on it.
        store.model().catch(() => {});
        return {
          statusCode: 503,
          headers: NO_STORE_HEADERS,
          body: JSON.stringify({
            error_code: 'TEMPORARILY_UNAVAILABLE',
            message: `no model loaded for alias '${store.defaultAlias}' yet`,
          }),
        };
      },
    },
    // Liveness: the process answers. Whether a model is loaded is /ping's (and /status's) to say.
    '/health': {
      GET: async () => {
        const model = store.peek();
        const answer = {
          status: 'ok',
          model: { name: store.modelName, version: model?.version ?? null, alias: store.defaultAlias },
        };
        return { statusCode: 200, headers: NO_STORE_HEADERS, body: JSON.stringify(answer) };
      },
    },
    '/status': {
      GET: async () => ({
        statusCode: 200,
        headers: NO_STORE_HEADERS,
        body: JSON.stringify(withoutUpstreamText(store.status())),
      }),
    },
    '/openapi.json': {
      GET: async () => {
        const model = store.peek();
        const document = openApiDocument({
          modelName: store.modelName,
          defaultAlias: store.defaultAlias,
          maxRows: store.maxRows,
          maxBodyBytes: deps.maxBodyBytes,
          allowedAliases: [...allowed],
          apiAuth: deps.apiAuth,
          ...(model ? { model } : {}),
        });
        return { statusCode: 200, headers: JSON_HEADERS, body: JSON.stringify(document) };
      },
    },
  };

  return async function route(event) {
    const path = normalisePath(event.path);
    const methods = routes[path];
    if (!methods) {
      throw new RequestError(
        'NOT_FOUND',
        `no route for ${path.slice(0, 200)}; try POST /predict or GET /openapi.json`,
      );
    }
    const handle = methods[event.httpMethod.toUpperCase()];
    if (!handle) {
      const allowed = Object.keys(methods);
      throw new RequestError('METHOD_NOT_ALLOWED', `${path} accepts ${allowed.join(', ')}`, allowed);
    }
    return handle(event);
  };
}

/**
 * MLflow's error body (`{"error_code", "message"}`): 400 BAD_REQUEST for anything wrong with the
 * request, 415 for a media type the protocol does not take, 503 while no model is loadable. The
 * messages are the API's own (field and row named), never upstream text.
 */
function mlflowError(error: unknown): APIGatewayProxyResult {
  if (error instanceof ModelUnavailableError) {
    return {
      statusCode: 503,
      headers: { ...JSON_HEADERS, 'retry-after': '5' },
      body: JSON.stringify({
        error_code: 'TEMPORARILY_UNAVAILABLE',
        message: `no model version can be served for alias '${error.alias}': ${publicReason(error.reason)}`,
      }),
    };
  }
  if (error instanceof ValidationError || error instanceof RequestError) {
    const { statusCode, body } = toHttp(error);
    const where = [
      body.error.field !== null ? `field '${body.error.field}'` : '',
      body.error.row !== null ? `row ${body.error.row}` : '',
    ].filter(Boolean);
    const message = `${body.error.message}${where.length > 0 ? ` (${where.join(', ')})` : ''}`;
    if (statusCode === 415) return { statusCode, headers: { 'content-type': 'text/plain' }, body: message };
    return {
      statusCode: 400,
      headers: JSON_HEADERS,
      body: JSON.stringify({ error_code: 'BAD_REQUEST', message }),
    };
  }
  if (error instanceof ModelProblem) {
    // The graph refused the input (a value the session cannot take): MLflow's generic answer.
    return {
      statusCode: 400,
      headers: JSON_HEADERS,
      body: JSON.stringify({
        error_code: 'BAD_REQUEST',
        message:
          'Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference.',
      }),
    };
  }
  throw error;
}

function normalisePath(path: string | undefined): string {
  if (!path) return '/';
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function requestedAlias(event: APIGatewayProxyEvent): string | undefined {
  const values = event.multiValueQueryStringParameters?.alias;
  if (values && values.length > 1) {
    throw new ValidationError('INVALID_ALIAS', 'give the alias parameter at most once', 'alias');
  }
  const alias = event.queryStringParameters?.alias;
  if (alias === undefined) return undefined;
  if (alias === '') throw new ValidationError('INVALID_ALIAS', 'the alias parameter is empty', 'alias');
  if (!isAliasName(alias))
    throw new ValidationError('INVALID_ALIAS', `alias must be ${ALIAS_NAME_RULE}`, 'alias');
  return alias;
}

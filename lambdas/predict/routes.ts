/**
 * The predict API's routes: parse the API Gateway event, call the serving core, shape the
 * answer. Errors are thrown as types and become HTTP answers in `httpErrors`.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ValidationError } from '../core/serving/errors';
import type { ModelStore } from '../core/serving/model-store';
import { predict } from '../core/serving/predict';
import { ALIAS_NAME_RULE, isAliasName } from '../core/settings';
import type { ApiAuthMode } from './config';
import { openApiDocument } from './openapi';
import { readJsonBody } from './request-body';
import { RequestError } from './request-errors';

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
    '/health': {
      GET: async () => {
        const model = await store.model();
        const answer = {
          status: 'ok',
          model: { name: store.modelName, version: model.version, alias: store.defaultAlias },
        };
        return { statusCode: 200, headers: NO_STORE_HEADERS, body: JSON.stringify(answer) };
      },
    },
    '/status': {
      GET: async () => ({ statusCode: 200, headers: NO_STORE_HEADERS, body: JSON.stringify(store.status()) }),
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

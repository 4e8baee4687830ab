/**
 * Assembles the predict API from its parts: `createPredictApp` builds the model store (following
 * the serving manifests in S3, or a registry a test gives), the logger and metrics, and the handler, so the Lambda
 * entry point, the demo, the tests and the benchmark run the same wiring. `createPredictHandler`
 * is the middy stack alone, around a store that already exists.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ModelUnavailableError } from '../core/serving/errors';
import { ModelStore } from '../core/serving/model-store';
import type { ModelRegistry } from '../core/serving/registry';
import { type ApiAuthMode, allowedAliases, type PredictConfig } from './config';
import { httpErrors } from './http-errors';
import { createObservability, type Observability, storeEvents } from './observability';
import { registryFor } from './registry';
import { requestMetrics } from './request-metrics';
import { createRouter } from './routes';

/** What a caller may put in place of the parts `createPredictApp` builds from the config. */
export interface PredictAppOverrides {
  /** The registry the store follows. @default the manifests in `config.servingBucket` (`registryFor`) */
  readonly registry?: ModelRegistry;
  /** The logger and metrics. @default `createObservability()` */
  readonly observability?: Observability;
}

export interface PredictApp {
  readonly handler: PredictHandler;
  readonly store: ModelStore;
}

export function createPredictApp(
  config: PredictConfig,
  { registry = registryFor(config), observability = createObservability() }: PredictAppOverrides = {},
): PredictApp {
  const store = new ModelStore({
    registry,
    modelName: config.modelName,
    defaultAlias: config.modelAlias,
    aliasTtlMs: config.aliasTtlMs,
    maxRows: config.maxRows,
    events: storeEvents(observability),
  });
  return {
    handler: createPredictHandler({
      store,
      maxBodyBytes: config.maxBodyBytes,
      allowedAliases: config.allowedAliases,
      apiAuth: config.apiAuth,
      ...observability,
    }),
    store,
  };
}

export interface PredictHandlerDependencies extends Observability {
  readonly store: ModelStore;
  readonly maxBodyBytes: number;
  /** What `?alias=` may name. @default the store's default alias and `Challenger` */
  readonly allowedAliases?: readonly string[];
  /** Documented in /openapi.json. @default 'iam' */
  readonly apiAuth?: ApiAuthMode;
}

export type PredictHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

export function createPredictHandler({
  store,
  maxBodyBytes,
  allowedAliases: allowed = allowedAliases(store.defaultAlias, []),
  apiAuth = 'iam',
  logger,
  metrics,
}: PredictHandlerDependencies): PredictHandler {
  const route = createRouter({ store, maxBodyBytes, metrics, allowedAliases: allowed, apiAuth });
  // No early-timeout race (middy's default arms a timer and a promise per invocation): nothing a
  // request waits on is unbounded, since model loads give up on the S3 client's timeouts
  // (registry.ts), far inside the function's 29 s.
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(route, { timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(requestMetrics(metrics))
    .use(
      httpErrors({
        onMapped: ({ statusCode, code }, error) => {
          const metric = metrics.singleMetric();
          metric.addDimension('Code', code);
          metric.addMetric('Errors', MetricUnit.Count, 1);
          if (statusCode < 500)
            logger.info('request rejected', { statusCode, code, ...errorLocation(error) });
          else if (error instanceof ModelUnavailableError)
            // The answer carries a generic reason; the registry's own words stay in the log.
            logger.warn('no model to serve', {
              alias: error.alias,
              reason: error.reason,
              detail: error.message,
            });
        },
        onUnexpected: (error) =>
          logger.error('unexpected error', error instanceof Error ? error : String(error)),
      }),
    );
}

function errorLocation(error: unknown): { field?: string; row?: number } {
  if (error === null || typeof error !== 'object') return {};
  const { field, row } = error as { field?: unknown; row?: unknown };
  return {
    ...(typeof field === 'string' ? { field } : {}),
    ...(typeof row === 'number' ? { row } : {}),
  };
}

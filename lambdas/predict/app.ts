/**
 * Assembles the predict handler from its parts, so the Lambda entry point, the local server,
 * the tests and the benchmark build the same middy stack around their own model store.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ModelStore } from '../core/serving/model-store';
import { httpErrors } from './http-errors';
import type { Observability } from './observability';
import { requestMetrics } from './request-metrics';
import { createRouter } from './routes';

export interface PredictHandlerDependencies extends Observability {
  readonly store: ModelStore;
  readonly maxBodyBytes: number;
}

export type PredictHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

export function createPredictHandler({
  store,
  maxBodyBytes,
  logger,
  metrics,
}: PredictHandlerDependencies): PredictHandler {
  const route = createRouter({ store, maxBodyBytes, metrics });
  // No early-timeout race (middy's default arms a timer and a promise per invocation): nothing a
  // request waits on is unbounded, since model loads give up on the MLflow client's timeouts
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

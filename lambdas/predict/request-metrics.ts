/**
 * Counts every request and its latency into the invocation's metrics batch, which Powertools'
 * `logMetrics` flushes when the invocation ends.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

export interface RequestMetricsOptions {
  /** Clock in ms; replaceable for tests. @default performance.now */
  now?: () => number;
}

type Internal = { requestStartedAt?: number };

export function requestMetrics(
  metrics: Metrics,
  opts: RequestMetricsOptions = {},
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const now = opts.now ?? (() => performance.now());

  const requestMetricsBefore = (request: Request<APIGatewayProxyEvent, APIGatewayProxyResult>): void => {
    (request.internal as Internal).requestStartedAt = now();
  };
  const requestMetricsAfter = (request: Request<APIGatewayProxyEvent, APIGatewayProxyResult>): void => {
    const started = (request.internal as Internal).requestStartedAt ?? now();
    metrics.addMetric('Requests', MetricUnit.Count, 1);
    metrics.addMetric('Latency', MetricUnit.Milliseconds, now() - started);
  };

  return { before: requestMetricsBefore, after: requestMetricsAfter, onError: requestMetricsAfter };
}

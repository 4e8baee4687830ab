/**
 * The predict function's logger and metrics, created once per process (Powertools: structured
 * JSON logs carrying the request id, CloudWatch metrics as EMF lines on stdout), and the
 * store events wired to them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ModelStoreEvents } from '../core/serving/model-store';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

export const SERVICE_NAME = 'predict';
export const METRICS_NAMESPACE = 'ServerlessMlops';

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Environment settings (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL) win over these defaults. */
export function createObservability(options: { logLevel?: LogLevel } = {}): Observability {
  return {
    logger: new Logger({
      serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    }),
    metrics: new Metrics({
      namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
      serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
    }),
  };
}

/**
 * Model loading and alias checks run in the background, between invocations, so each is
 * emitted as its own EMF line (a single metric) rather than joining a request's batch.
 */
export function storeEvents({ logger, metrics }: Observability): ModelStoreEvents {
  const single = (dimensions: Record<string, string>, name: string, unit: Unit, value: number) => {
    const metric = metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) metric.addDimension(key, dimension);
    metric.addMetric(name, unit, value);
  };
  return {
    modelLoaded: ({ version, loadMs, downloadMs }) => {
      logger.info('model version loaded', { version, loadMs, downloadMs });
      single({}, 'ModelLoadTime', MetricUnit.Milliseconds, loadMs);
    },
    modelSwapped: ({ alias, from, to, swapMs }) => {
      logger.info('alias now served by a new version', { alias, from, to, swapMs });
      single({ Alias: alias }, 'ModelSwaps', MetricUnit.Count, 1);
    },
    aliasResolutionFailed: ({ alias, code, message }) => {
      logger.warn('alias resolution failed; serving the loaded version', { alias, code, reason: message });
      single({ Alias: alias, Code: code }, 'AliasResolutionFailures', MetricUnit.Count, 1);
    },
    modelLoadFailed: ({ alias, version, code, message }) => {
      logger.error('model version failed to load; serving the loaded version', {
        alias,
        version,
        code,
        reason: message,
      });
      single({ Alias: alias, Code: code }, 'ModelLoadFailures', MetricUnit.Count, 1);
    },
  };
}

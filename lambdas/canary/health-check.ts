/**
 * Scheduled canary: GET the predict API's /ping (200 once a model is loaded) and record whether it answered 200 in time.
 * The alarm on HealthCheckSuccess (lib/observability.ts) fires when it did not; a failed check
 * is data, not an error, so the function itself succeeds either way.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { PIPELINE_METRICS } from '../steps/pipeline-metrics';

export interface HealthCheckResult {
  readonly healthy: boolean;
  /** HTTP status, or null when no answer came (timeout, DNS, connection refused). */
  readonly status: number | null;
  readonly latencyMs: number;
  readonly error?: string;
}

export interface HealthCheckSettings {
  readonly url: string;
  readonly timeoutMs: number;
}

export class HealthCheckConfigError extends Error {
  override name = 'HealthCheckConfigError';
}

/** Reads HEALTH_URL (required, http/https) and HEALTH_TIMEOUT_MS (default 5000). */
export function loadHealthCheckSettings(env: NodeJS.ProcessEnv = process.env): HealthCheckSettings {
  const url = env.HEALTH_URL?.trim();
  if (!url || !/^https?:\/\/\S+$/.test(url)) {
    throw new HealthCheckConfigError(
      `HEALTH_URL must be the http(s) URL of the API's /ping route (got ${JSON.stringify(env.HEALTH_URL)})`,
    );
  }
  const rawTimeout = env.HEALTH_TIMEOUT_MS?.trim() || '5000';
  const timeoutMs = Number(rawTimeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) {
    throw new HealthCheckConfigError(
      `HEALTH_TIMEOUT_MS must be an integer from 100 to 60000 (got ${JSON.stringify(rawTimeout)})`,
    );
  }
  return { url, timeoutMs };
}

/** One probe; never throws. */
export async function checkHealth(
  settings: HealthCheckSettings,
  fetchFn: typeof fetch = fetch,
): Promise<HealthCheckResult> {
  const started = performance.now();
  try {
    const response = await fetchFn(settings.url, {
      method: 'GET',
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    // Drain the body so the connection is released before the function freezes.
    await response.arrayBuffer();
    const latencyMs = Math.round(performance.now() - started);
    return { healthy: response.status === 200, status: response.status, latencyMs };
  } catch (err) {
    const latencyMs = Math.round(performance.now() - started);
    return {
      healthy: false,
      status: null,
      latencyMs,
      error: err instanceof Error ? err.message : String(err),
    };
  }
}

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'health-check' });
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? PIPELINE_METRICS.namespace,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'health-check',
});
let settings: HealthCheckSettings | undefined;

export async function handler(): Promise<HealthCheckResult> {
  settings ??= loadHealthCheckSettings();
  const result = await checkHealth(settings);
  metrics.addMetric(PIPELINE_METRICS.healthCheckSuccess, MetricUnit.Count, result.healthy ? 1 : 0);
  metrics.addMetric(PIPELINE_METRICS.healthCheckLatency, MetricUnit.Milliseconds, result.latencyMs);
  metrics.publishStoredMetrics();
  if (result.healthy) {
    logger.info('health check passed', { url: settings.url, latencyMs: result.latencyMs });
  } else {
    logger.error('health check failed', { url: settings.url, ...result });
  }
  return result;
}

/**
 * The registry the predict function follows: MLflow, through the project's client configured
 * from the environment (auth, S3 endpoint, retries: see lambdas/core/mlflow/config.ts).
 */
import { MlflowClient, mlflowClientOptionsFromEnv } from '../core/mlflow';
import { MlflowRegistry } from '../core/serving/mlflow-registry';
import type { ModelRegistry } from '../core/serving/registry';
import type { PredictConfig } from './config';

/**
 * Alias checks run in the background and are retried on the next TTL anyway, so a call gives up
 * sooner than the client's defaults (30 s, 3 attempts); MLFLOW_HTTP_REQUEST_* still override.
 */
const SERVING_CALL_DEFAULTS = { timeoutMs: 10_000, retry: { attempts: 2 } } as const;

export function registryFor(config: PredictConfig, env: NodeJS.ProcessEnv = process.env): ModelRegistry {
  const fromEnv = mlflowClientOptionsFromEnv({ ...env, MLFLOW_TRACKING_URI: config.trackingUri });
  return new MlflowRegistry(new MlflowClient({ ...SERVING_CALL_DEFAULTS, ...fromEnv }));
}

/**
 * The registry the predict function follows: the serving manifests in SERVING_BUCKET, read with
 * an S3 client configured from the environment the AWS SDK's way (region; `AWS_ENDPOINT_URL_S3` /
 * `AWS_ENDPOINT_URL` for a local S3, then with path-style addressing). No MLflow call: a cold
 * start and every alias check cost S3 requests only.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { ManifestRegistry } from '../core/serving/manifest-registry';
import type { ModelRegistry } from '../core/serving/registry';
import type { PredictConfig } from './config';

/**
 * Alias checks run in the background and are retried on the next TTL anyway, so an S3 call gives
 * up after a few seconds rather than the SDK's defaults (no timeout, 3 attempts).
 */
const CONNECTION_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 10_000;

export function servingS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3?.trim() || env.AWS_ENDPOINT_URL?.trim();
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  return new S3Client({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    maxAttempts: 2,
    // The SDK builds its Node HTTP handler from these options.
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
  });
}

export function registryFor(config: PredictConfig, env: NodeJS.ProcessEnv = process.env): ModelRegistry {
  return new ManifestRegistry({ s3: servingS3Client(env), bucket: config.servingBucket });
}

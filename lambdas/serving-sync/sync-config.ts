/**
 * What the webhook, the reconciler and the local serve process read from the environment:
 * the serving bucket, the served models, the MLflow client and an S3 client, and the webhook's
 * HMAC secret. Read once, at a Lambda's cold start.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { MlflowClient } from '../core/mlflow';
import { fetchSecretString } from '../core/mlflow/secret-password';
import { type PublishContext, type PublishRequest, publishAliasManifest } from '../core/serving-manifest';

type Env = Readonly<Record<string, string | undefined>>;

export class SyncConfigError extends Error {
  override name = 'SyncConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

/** `SERVING_BUCKET`, required. */
export function servingBucketFrom(env: Env): string {
  const bucket = env.SERVING_BUCKET?.trim();
  if (!bucket)
    throw new SyncConfigError('SERVING_BUCKET', 'is required: the bucket of the serving manifests');
  return bucket;
}

/** `SERVED_MODELS` (comma-separated), else `MODEL_NAME`; at least one. */
export function servedModelsFrom(env: Env): string[] {
  const listed = (env.SERVED_MODELS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const models = listed.length > 0 ? listed : [env.MODEL_NAME?.trim() ?? ''].filter((name) => name !== '');
  if (models.length === 0) {
    throw new SyncConfigError('SERVED_MODELS', 'is required (or MODEL_NAME): the registered models to serve');
  }
  return [...new Set(models)];
}

/** An S3 client for the serving bucket: a local endpoint (`AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`) is addressed by path. */
export function s3ClientFromEnv(env: Env): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3?.trim() || env.AWS_ENDPOINT_URL?.trim();
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined;
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  const sessionToken = env.AWS_SESSION_TOKEN?.trim();
  return new S3Client({
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(region ? { region } : {}),
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
  });
}

/**
 * The webhook's HMAC secret: `MLFLOW_WEBHOOK_SECRET` (plain, local), else the SecretString of the
 * Secrets Manager secret `MLFLOW_WEBHOOK_SECRET_ARN` names (AWS).
 */
export async function webhookSecretFrom(env: Env): Promise<string> {
  const plain = env.MLFLOW_WEBHOOK_SECRET;
  if (plain !== undefined && plain !== '') return plain;
  const arn = env.MLFLOW_WEBHOOK_SECRET_ARN?.trim();
  if (!arn) {
    throw new SyncConfigError(
      'MLFLOW_WEBHOOK_SECRET',
      'is required (or MLFLOW_WEBHOOK_SECRET_ARN): the HMAC secret MLflow signs webhook deliveries with',
    );
  }
  const secret = await fetchSecretString(arn, env, 'MLFLOW_WEBHOOK_SECRET_ARN');
  if (typeof secret !== 'string' || secret === '') {
    throw new SyncConfigError('MLFLOW_WEBHOOK_SECRET_ARN', `names ${arn}, whose SecretString is empty`);
  }
  return secret;
}

export interface SyncContext extends PublishContext {
  readonly servedModels: readonly string[];
}

/** Bucket, served models and clients from the environment (MLflow's variables as everywhere). */
export function syncContextFrom(env: Env): SyncContext {
  return {
    bucket: servingBucketFrom(env),
    servedModels: servedModelsFrom(env),
    s3: s3ClientFromEnv(env),
    mlflow: MlflowClient.fromEnv(env),
  };
}

export type Publisher = (request: PublishRequest) => ReturnType<typeof publishAliasManifest>;

export function publisherFor(context: PublishContext): Publisher {
  return (request) => publishAliasManifest(context, request);
}

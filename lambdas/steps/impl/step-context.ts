/**
 * What a step works with: its config, an S3 client and (for training steps) an MLflow client,
 * built once per environment. A Lambda builds it from `process.env` at its first call; the local
 * runner builds one from the environment it is given, so no global state is shared between runs.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { MlflowClient } from '../../core/mlflow';
import { type Environment, type StepConfig, stepConfigFrom } from './step-config';

export interface StepContext {
  readonly config: StepConfig;
  readonly s3: S3Client;
  /** Built on first use: data steps never need MLflow, nor MLFLOW_TRACKING_URI. */
  mlflow(): MlflowClient;
}

export function createStepContext(env: Environment): StepContext {
  const config = stepConfigFrom(env);
  const s3 = s3ClientFrom(env);
  let mlflow: MlflowClient | undefined;
  return {
    config,
    s3,
    mlflow: () => {
      mlflow ??= MlflowClient.fromEnv(env);
      return mlflow;
    },
  };
}

/**
 * The S3 client of the steps. `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` point it at a local
 * stand-in, which needs path-style addressing (no bucket sub-domains on 127.0.0.1); credentials
 * come from the given environment when both keys are there, else from the SDK's default chain.
 */
export function s3ClientFrom(env: Environment): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3?.trim() || env.AWS_ENDPOINT_URL?.trim();
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
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

let processContext: StepContext | undefined;

/** The context of a Lambda: from `process.env`, built at the first call (cold start) and kept. */
export function defaultStepContext(): StepContext {
  processContext ??= createStepContext(process.env);
  return processContext;
}

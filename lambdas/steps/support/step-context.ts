/**
 * What a step works with: its config, an S3 client and (for training steps) an MLflow client,
 * built once per environment. A Lambda builds it from `process.env` at its first call; the local
 * runner builds one from the environment it is given, so no global state is shared between runs.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { MlflowClient } from '../../core/mlflow';
import { type Environment, type StepConfig, stepConfigFrom } from './step-config';

export interface StepContext {
  readonly config: StepConfig;
  /** The environment the context was built from: steps with settings of their own (drift, alerts) parse them from it. */
  readonly env: Environment;
  readonly s3: S3Client;
  /** Built on first use: data steps never need MLflow, nor MLFLOW_TRACKING_URI. */
  mlflow(): MlflowClient;
  /** Built on first use: only send-drift-alert sends e-mail. */
  ses(): SESv2Client;
  /** Closes the AWS clients' sockets (a local run ends; a Lambda never calls it). */
  close(): void;
}

export function createStepContext(env: Environment): StepContext {
  const config = stepConfigFrom(env);
  const s3 = s3ClientFrom(env);
  let mlflow: MlflowClient | undefined;
  let ses: SESv2Client | undefined;
  return {
    config,
    env,
    s3,
    mlflow: () => {
      mlflow ??= MlflowClient.fromEnv(env);
      return mlflow;
    },
    ses: () => {
      ses ??= new SESv2Client(awsClientConfig(env, env.AWS_ENDPOINT_URL_SESV2));
      return ses;
    },
    close: () => {
      s3.destroy();
      ses?.destroy();
    },
  };
}

/**
 * The S3 client of the steps. `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` point it at a local
 * stand-in, which needs path-style addressing (no bucket sub-domains on 127.0.0.1); credentials
 * come from the given environment when both keys are there, else from the SDK's default chain.
 */
export function s3ClientFrom(env: Environment): S3Client {
  const config = awsClientConfig(env, env.AWS_ENDPOINT_URL_S3);
  return new S3Client({ ...config, ...(config.endpoint ? { forcePathStyle: true } : {}) });
}

/**
 * Endpoint (the service's own variable, else `AWS_ENDPOINT_URL`), region and credentials of an AWS
 * client, from the given environment rather than `process.env`, so a local run can point at its
 * own stand-ins.
 */
function awsClientConfig(env: Environment, serviceEndpoint: string | undefined) {
  const endpoint = serviceEndpoint?.trim() || env.AWS_ENDPOINT_URL?.trim();
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  const sessionToken = env.AWS_SESSION_TOKEN?.trim();
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
  };
}

let processContext: StepContext | undefined;

/** The context of a Lambda: from `process.env`, built at the first call (cold start) and kept. */
export function defaultStepContext(): StepContext {
  processContext ??= createStepContext(process.env);
  return processContext;
}

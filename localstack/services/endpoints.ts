/**
 * The addresses and settings of the local services, as scripts and tests read them (`.local/env`).
 */
import type { ServicePorts } from './port-setting';

export type BackendStore = 'postgres' | 'sqlite';

export interface LocalEndpoints {
  MLFLOW_TRACKING_URI: string;
  AWS_ENDPOINT_URL: string;
  DATABASE_URL: string;
  AWS_REGION: string;
  AWS_DEFAULT_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  MLFLOW_ARTIFACTS_BUCKET: string;
  /** The serving manifests and model copies the predict API reads (versioned, as on AWS). */
  SERVING_BUCKET: string;
  MLFLOW_BACKEND_STORE: BackendStore;
  /** The pipelines' MLflow user: what `up()` hands out, so every client authenticates. */
  MLFLOW_TRACKING_USERNAME?: string;
  MLFLOW_TRACKING_PASSWORD?: string;
}

/** The endpoints with the credentials of the running MLflow, as `up()` returns them. */
export type LocalServiceEnv = LocalEndpoints &
  Required<Pick<LocalEndpoints, 'MLFLOW_TRACKING_USERNAME' | 'MLFLOW_TRACKING_PASSWORD'>>;

const ARTIFACTS_BUCKET = 'mlflow-artifacts';
const SERVING_BUCKET = 'mlops-local-serving';
const TEST_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

export function endpointsOn(
  ports: ServicePorts,
  backendStore: BackendStore,
  env: NodeJS.ProcessEnv = process.env,
): LocalEndpoints {
  const region = env.AWS_REGION ?? 'us-east-1';
  return {
    MLFLOW_TRACKING_URI: `http://127.0.0.1:${ports.mlflow}`,
    AWS_ENDPOINT_URL: `http://127.0.0.1:${ports.aws}`,
    DATABASE_URL: `postgresql://mlflow@127.0.0.1:${ports.postgres}/mlflow`,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    ...TEST_CREDENTIALS,
    MLFLOW_ARTIFACTS_BUCKET: ARTIFACTS_BUCKET,
    SERVING_BUCKET,
    MLFLOW_BACKEND_STORE: backendStore,
  };
}

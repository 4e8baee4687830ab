/**
 * The real `mlflow server` from the venv: backend store in Postgres (or SQLite), artifacts in S3 on
 * the local AWS endpoint through MLflow's artifact proxy. The store it was started on is recorded,
 * so asking for the other one restarts it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendStore, LocalEndpoints } from './endpoints';
import { localDir, VENV_BIN } from './local-paths';
import { isHealthy, isPortOpen, killGroup, readPid, startDetached, waitHealthy } from './processes';
import { ServiceStartError } from './service-error';

function storeFile(): string {
  return join(localDir(), 'mlflow-store');
}

/** The backend store the local MLflow was last started on, if it was. */
export function runningBackendStore(): BackendStore | undefined {
  const file = storeFile();
  const recorded = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return recorded === 'postgres' || recorded === 'sqlite' ? recorded : undefined;
}

export async function startMlflow(
  port: number,
  env: LocalEndpoints,
  log: (line: string) => void,
): Promise<void> {
  const url = `${env.MLFLOW_TRACKING_URI}/health`;
  const current = runningBackendStore() ?? '';
  if (await isHealthy(url)) {
    if (current === env.MLFLOW_BACKEND_STORE || current === '') {
      log(`mlflow already up on ${env.MLFLOW_TRACKING_URI} (${current || 'unknown'} backend store)`);
      return;
    }
    log(`mlflow is running on the ${current} store; restarting it on ${env.MLFLOW_BACKEND_STORE}`);
    const pid = readPid('mlflow');
    if (pid) await killGroup(pid);
  } else if (await isPortOpen(port)) {
    throw new ServiceStartError(`port ${port} is taken by another process; set MLOPS_MLFLOW_PORT`);
  }
  const bucket = env.MLFLOW_ARTIFACTS_BUCKET;
  const backendUri =
    env.MLFLOW_BACKEND_STORE === 'postgres'
      ? // SQLAlchemy 2.1 maps bare postgresql:// to psycopg 3; the venv ships psycopg2.
        env.DATABASE_URL.replace('postgresql://', 'postgresql+psycopg2://')
      : `sqlite:///${join(localDir(), 'mlflow.db')}`;
  log(
    `starting mlflow on ${env.MLFLOW_TRACKING_URI} (${env.MLFLOW_BACKEND_STORE} store, artifacts in s3://${bucket})`,
  );
  const options = {
    '--host': '127.0.0.1',
    '--port': String(port),
    '--workers': '2',
    '--backend-store-uri': backendUri,
    '--artifacts-destination': `s3://${bucket}`,
  };
  startDetached(
    'mlflow',
    join(VENV_BIN, 'mlflow'),
    ['server', ...Object.entries(options).flat(), '--serve-artifacts'],
    {
      MLFLOW_S3_ENDPOINT_URL: env.AWS_ENDPOINT_URL,
      AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
      AWS_DEFAULT_REGION: env.AWS_REGION,
      // The server itself proxies artifacts; it must not try to reach AWS for anything else.
      AWS_EC2_METADATA_DISABLED: 'true',
      MLFLOW_DISABLE_TELEMETRY: 'true',
      // MLflow 3 starts a job runner with several huey consumers (GenAI jobs) by default: about a
      // gigabyte of RSS for features this project never uses.
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
      DO_NOT_TRACK: 'true',
    },
  );
  writeFileSync(storeFile(), env.MLFLOW_BACKEND_STORE);
  await waitHealthy('mlflow', url, 180_000);
}

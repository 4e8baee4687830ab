/**
 * Starts, reuses and stops the local stand-ins for the AWS stack: Debian's Postgres
 * (`postgres.ts`), the local AWS endpoint (`aws-endpoint.ts`: moto server with LocalStack's
 * `/_aws/ses` route) and a real `mlflow server` (`mlflow-server.ts`) with its backend store in
 * Postgres (or SQLite) and its artifacts in S3 on that endpoint, behind MLflow's basic auth
 * (`mlflow-auth.ts`: admin, pipelines and reader users, passwords in `.local/mlflow-auth.json`).
 *
 * Everything runs in the background with logs and pid files under `.local/` (`local-paths.ts`),
 * so tests, the demo and `mlops local up` share one set of services. Ports and the state
 * directory are read from the environment when a function is called, not at import.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAwsEndpoint } from './aws-endpoint';
import { type BackendStore, endpointsOn, type LocalEndpoints, type LocalServiceEnv } from './endpoints';
import { localDir, ROOT } from './local-paths';
import { MLFLOW_PIPELINES_USER } from './mlflow-auth';
import { startMlflow } from './mlflow-server';
import { servicePorts } from './port-setting';
import { startPostgres, stopPostgres } from './postgres';
import { stopDetached } from './processes';
import { ServiceStartError } from './service-error';

// The public face of the local services: other code imports these from here.
export type { BackendStore, LocalEndpoints, LocalServiceEnv } from './endpoints';
export { LOCAL_DIR, ROOT } from './local-paths';
export {
  credentialsFile,
  localTrackingCredentials,
  MLFLOW_ADMIN_USER,
  MLFLOW_PIPELINES_USER,
  MLFLOW_READER_USER,
  readMlflowCredentials,
} from './mlflow-auth';
export { runningBackendStore } from './mlflow-server';
export { ServiceStartError } from './service-error';

export interface ServiceOptions {
  backendStore?: BackendStore;
  /** Called with a line of progress for people. */
  log?: (line: string) => void;
}

export function endpoints(backendStore: BackendStore): LocalEndpoints {
  return endpointsOn(servicePorts(), backendStore);
}

/**
 * Runs localstack/setup.sh (venv + Postgres); it returns at once when everything is in place.
 * MLflow on SQLite does not need Postgres, so then a missing one is only mentioned.
 */
export function ensureInstalled(store: BackendStore = 'postgres'): void {
  const args = ['--no-npm', ...(store === 'sqlite' ? ['--postgres-optional'] : [])];
  const result = spawnSync('bash', [join(ROOT, 'localstack', 'setup.sh'), ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) throw new ServiceStartError('localstack/setup.sh failed (see the messages above)');
}

/**
 * Starts what is not running and returns the environment for clients: the endpoints and the
 * pipelines' MLflow credentials (MLFLOW_TRACKING_USERNAME/PASSWORD, which MLflow's Python client
 * reads too).
 */
export async function up(options: ServiceOptions = {}): Promise<LocalServiceEnv> {
  const log = options.log ?? (() => {});
  const store = options.backendStore ?? 'postgres';
  // Settings first: a bad port stops here, before anything is installed or started.
  const ports = servicePorts();
  ensureInstalled(store);
  const dir = localDir();
  mkdirSync(join(dir, 'logs'), { recursive: true });
  mkdirSync(join(dir, 'pids'), { recursive: true });
  const endpoints = endpointsOn(ports, store);

  if (store === 'postgres') await startPostgres(ports.postgres, log);
  await startAwsEndpoint(ports.aws, endpoints, log);
  const credentials = await startMlflow(ports.mlflow, endpoints, log);

  const env: LocalServiceEnv = {
    ...endpoints,
    MLFLOW_TRACKING_USERNAME: MLFLOW_PIPELINES_USER,
    MLFLOW_TRACKING_PASSWORD: credentials.pipelinesPassword,
  };
  writeEnvFile(env);
  return env;
}

export async function down(log: (line: string) => void = () => {}): Promise<void> {
  for (const name of ['mlflow', 'aws']) await stopDetached(name, log);
  stopPostgres(log);
}

export function readEnvFile(): LocalEndpoints | undefined {
  const file = join(localDir(), 'env');
  if (!existsSync(file)) return undefined;
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => /^export ([A-Z_]+)='(.*)'$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1], m[2]] as const);
  return Object.fromEntries(entries) as unknown as LocalEndpoints;
}

function writeEnvFile(env: LocalEndpoints): void {
  const body = Object.entries(env)
    .map(([k, v]) => `export ${k}='${v}'`)
    .join('\n');
  // It holds the pipelines' MLflow password: readable by its owner only.
  const file = join(localDir(), 'env');
  writeFileSync(file, `# Written by npm run local:up; source it: . .local/env\n${body}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

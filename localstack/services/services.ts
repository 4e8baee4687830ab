/**
 * Starts, reuses and stops the local stand-ins for the AWS stack: Debian's Postgres
 * (`postgres.ts`), the local AWS endpoint (`aws-endpoint.ts`: moto server with LocalStack's
 * `/_aws/ses` route) and a real `mlflow server` (`mlflow-server.ts`) with its backend store in
 * Postgres (or SQLite) and its artifacts in S3 on that endpoint.
 *
 * Everything runs in the background with logs and pid files under `.local/` (`local-paths.ts`),
 * so tests, the demo and `mlops local up` share one set of services. Ports and the state
 * directory are read from the environment when a function is called, not at import.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAwsEndpoint } from './aws-endpoint';
import { type BackendStore, endpointsOn, type LocalEndpoints } from './endpoints';
import { localDir, ROOT } from './local-paths';
import { startMlflow } from './mlflow-server';
import { servicePorts } from './port-setting';
import { startPostgres, stopPostgres } from './postgres';
import { stopDetached } from './processes';
import { ServiceStartError } from './service-error';

// The public face of the local services: other code imports these from here.
export type { BackendStore, LocalEndpoints } from './endpoints';
export { LOCAL_DIR, ROOT } from './local-paths';
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

export async function up(options: ServiceOptions = {}): Promise<LocalEndpoints> {
  const log = options.log ?? (() => {});
  const store = options.backendStore ?? 'postgres';
  // Settings first: a bad port stops here, before anything is installed or started.
  const ports = servicePorts();
  ensureInstalled(store);
  const dir = localDir();
  mkdirSync(join(dir, 'logs'), { recursive: true });
  mkdirSync(join(dir, 'pids'), { recursive: true });
  const env = endpointsOn(ports, store);

  if (store === 'postgres') await startPostgres(ports.postgres, log);
  await startAwsEndpoint(ports.aws, env, log);
  await startMlflow(ports.mlflow, env, log);

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
  writeFileSync(join(localDir(), 'env'), `# Written by npm run local:up; source it: . .local/env\n${body}\n`);
}

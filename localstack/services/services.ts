/**
 * Starts, reuses and stops the local stand-ins for the AWS stack: Debian's Postgres, the local
 * AWS endpoint (moto server with LocalStack's `/_aws/ses` route) and a real `mlflow server`
 * with its backend store in Postgres (or SQLite) and its artifacts in S3 on that endpoint.
 *
 * Everything runs in the background with logs and pid files under `.local/`, so tests, the
 * demo and `npm run local:up` share one set of services.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portFromEnv } from './port-setting';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// MLOPS_LOCAL_DIR lets a second, independent set of services run beside the default one (tests).
export const LOCAL_DIR = resolve(process.env.MLOPS_LOCAL_DIR ?? join(ROOT, '.local'));
const VENV_BIN = join(ROOT, 'localstack', '.venv', 'bin');

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
  MLFLOW_BACKEND_STORE: BackendStore;
}

export interface ServiceOptions {
  backendStore?: BackendStore;
  /** Called with a line of progress for people. */
  log?: (line: string) => void;
}

// Read when used, so a bad value fails `up()` with a ServiceStartError rather than the import.
const PORTS = {
  get postgres() {
    return portFromEnv(process.env, 'MLOPS_POSTGRES_PORT', 55432, ServiceStartError);
  },
  get aws() {
    return portFromEnv(process.env, 'MLOPS_AWS_PORT', 4566, ServiceStartError);
  },
  get mlflow() {
    return portFromEnv(process.env, 'MLOPS_MLFLOW_PORT', 5000, ServiceStartError);
  },
};
const REGION = process.env.AWS_REGION ?? 'us-east-1';
const ARTIFACTS_BUCKET = 'mlflow-artifacts';
const TEST_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
}

export function endpoints(backendStore: BackendStore): LocalEndpoints {
  return {
    MLFLOW_TRACKING_URI: `http://127.0.0.1:${PORTS.mlflow}`,
    AWS_ENDPOINT_URL: `http://127.0.0.1:${PORTS.aws}`,
    DATABASE_URL: `postgresql://mlflow@127.0.0.1:${PORTS.postgres}/mlflow`,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    ...TEST_CREDENTIALS,
    MLFLOW_ARTIFACTS_BUCKET: ARTIFACTS_BUCKET,
    MLFLOW_BACKEND_STORE: backendStore,
  };
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
  for (const service of ['postgres', 'aws', 'mlflow'] as const) void PORTS[service];
  ensureInstalled(store);
  mkdirSync(join(LOCAL_DIR, 'logs'), { recursive: true });
  mkdirSync(join(LOCAL_DIR, 'pids'), { recursive: true });
  const env = endpoints(store);

  if (store === 'postgres') await startPostgres(log);
  await startAwsEndpoint(log, env);
  await startMlflow(log, env);

  writeEnvFile(env);
  return env;
}

export async function down(log: (line: string) => void = () => {}): Promise<void> {
  for (const name of ['mlflow', 'aws']) {
    const pid = readPid(name);
    if (pid && isAlive(pid)) {
      log(`stopping ${name} (pid ${pid})`);
      await killGroup(pid);
    }
    rmSync(pidFile(name), { force: true });
  }
  const dataDir = join(LOCAL_DIR, 'postgres');
  if (existsSync(join(dataDir, 'postmaster.pid'))) {
    log('stopping postgres');
    runAsPostgresOwner(findPgBin('pg_ctl') ?? 'pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop'], {
      allowFailure: true,
    });
  }
}

export function readEnvFile(): LocalEndpoints | undefined {
  const file = join(LOCAL_DIR, 'env');
  if (!existsSync(file)) return undefined;
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => /^export ([A-Z_]+)='(.*)'$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1], m[2]] as const);
  return Object.fromEntries(entries) as unknown as LocalEndpoints;
}

// --- Postgres ---------------------------------------------------------------------------------

function findPgBin(name: string): string | undefined {
  const fromPath = spawnSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (fromPath) return fromPath;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', name)))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin', name) : undefined;
}

/** Postgres refuses to run as root: as root, run its tools as the `postgres` system user. */
function runAsPostgresOwner(
  bin: string,
  args: string[],
  opts: { allowFailure?: boolean } = {},
): { status: number; output: string } {
  const asRoot = process.getuid?.() === 0;
  const [cmd, fullArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const result = spawnSync(cmd, fullArgs, { encoding: 'utf8' });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0 && !opts.allowFailure) {
    throw new ServiceStartError(`${bin} ${args.join(' ')} failed:\n${output}`);
  }
  return { status: result.status ?? 1, output };
}

async function startPostgres(log: (line: string) => void): Promise<void> {
  const dataDir = join(LOCAL_DIR, 'postgres');
  const logFile = join(LOCAL_DIR, 'logs', 'postgres.log');
  if (await isPortOpen(PORTS.postgres)) {
    if (existsSync(join(dataDir, 'postmaster.pid'))) {
      log(`postgres already up on 127.0.0.1:${PORTS.postgres}`);
      await ensureMlflowDatabase();
      return;
    }
    throw new ServiceStartError(
      `port ${PORTS.postgres} is taken by another process; set MLOPS_POSTGRES_PORT to a free port`,
    );
  }
  const initdb = findPgBin('initdb');
  const pgCtl = findPgBin('pg_ctl');
  if (!initdb || !pgCtl)
    throw new ServiceStartError('PostgreSQL is not installed: run bash localstack/setup.sh');
  const asRoot = process.getuid?.() === 0;
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log('initialising a project-local Postgres cluster in .local/postgres');
    mkdirSync(dataDir, { recursive: true });
    if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dataDir]);
    runAsPostgresOwner(initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  }
  // The log file must be writable by the server's user.
  writeFileSync(logFile, '', { flag: 'a' });
  if (asRoot) execFileSync('chown', ['postgres:postgres', logFile]);
  rmSync(join(dataDir, 'postmaster.pid'), { force: true });
  log(`starting postgres on 127.0.0.1:${PORTS.postgres}`);
  const started = runAsPostgresOwner(
    pgCtl,
    [
      '-D',
      dataDir,
      '-l',
      logFile,
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${PORTS.postgres} -c listen_addresses=127.0.0.1 -k ${dataDir} -c fsync=off`,
      'start',
    ],
    { allowFailure: true },
  );
  if (started.status !== 0) {
    throw new ServiceStartError(`postgres did not start:\n${started.output}\n${tail(logFile)}`);
  }
  await ensureMlflowDatabase();
}

async function ensureMlflowDatabase(): Promise<void> {
  const psql = findPgBin('psql') ?? 'psql';
  const query = (sql: string, db = 'postgres') =>
    spawnSync(
      psql,
      ['-h', '127.0.0.1', '-p', String(PORTS.postgres), '-U', 'postgres', '-d', db, '-tAc', sql],
      {
        encoding: 'utf8',
      },
    );
  const hasRole = query("SELECT 1 FROM pg_roles WHERE rolname='mlflow'").stdout.trim() === '1';
  if (!hasRole) query('CREATE ROLE mlflow LOGIN');
  const hasDb = query("SELECT 1 FROM pg_database WHERE datname='mlflow'").stdout.trim() === '1';
  if (!hasDb) {
    const created = query('CREATE DATABASE mlflow OWNER mlflow');
    if (created.status !== 0)
      throw new ServiceStartError(`could not create the mlflow database: ${created.stderr}`);
  }
}

// --- the local AWS endpoint ------------------------------------------------------------------

async function startAwsEndpoint(log: (line: string) => void, env: LocalEndpoints): Promise<void> {
  const url = `${env.AWS_ENDPOINT_URL}/_health`;
  if (!(await isHealthy(url))) {
    if (await isPortOpen(PORTS.aws)) {
      throw new ServiceStartError(`port ${PORTS.aws} is taken by another process; set MLOPS_AWS_PORT`);
    }
    log(`starting the local AWS endpoint (moto server) on ${env.AWS_ENDPOINT_URL}`);
    startDetached(
      'aws',
      join(VENV_BIN, 'python'),
      [join(ROOT, 'localstack', 'services', 'aws_endpoint.py'), '--port', String(PORTS.aws)],
      {},
    );
    await waitHealthy('aws', url, 60_000);
  } else {
    log(`local AWS endpoint already up on ${env.AWS_ENDPOINT_URL}`);
  }
  await ensureBucket(env, ARTIFACTS_BUCKET);
}

async function ensureBucket(env: LocalEndpoints, bucket: string): Promise<void> {
  const { S3Client, CreateBucketCommand, HeadBucketCommand } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client({
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    s3.destroy();
  }
}

// --- MLflow ------------------------------------------------------------------------------------

const STORE_FILE = join(LOCAL_DIR, 'mlflow-store');

/** The backend store the local MLflow was last started on, if it was. */
export function runningBackendStore(): BackendStore | undefined {
  const recorded = existsSync(STORE_FILE) ? readFileSync(STORE_FILE, 'utf8').trim() : '';
  return recorded === 'postgres' || recorded === 'sqlite' ? recorded : undefined;
}

async function startMlflow(log: (line: string) => void, env: LocalEndpoints): Promise<void> {
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
  } else if (await isPortOpen(PORTS.mlflow)) {
    throw new ServiceStartError(`port ${PORTS.mlflow} is taken by another process; set MLOPS_MLFLOW_PORT`);
  }
  const backendUri =
    env.MLFLOW_BACKEND_STORE === 'postgres'
      ? // SQLAlchemy 2.1 maps bare postgresql:// to psycopg 3; the venv ships psycopg2.
        env.DATABASE_URL.replace('postgresql://', 'postgresql+psycopg2://')
      : `sqlite:///${join(LOCAL_DIR, 'mlflow.db')}`;
  log(
    `starting mlflow on ${env.MLFLOW_TRACKING_URI} (${env.MLFLOW_BACKEND_STORE} store, artifacts in s3://${ARTIFACTS_BUCKET})`,
  );
  startDetached(
    'mlflow',
    join(VENV_BIN, 'mlflow'),
    [
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      String(PORTS.mlflow),
      '--workers',
      '2',
      '--backend-store-uri',
      backendUri,
      '--artifacts-destination',
      `s3://${ARTIFACTS_BUCKET}`,
      '--serve-artifacts',
    ],
    {
      MLFLOW_S3_ENDPOINT_URL: env.AWS_ENDPOINT_URL,
      AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
      AWS_DEFAULT_REGION: env.AWS_REGION,
      // The server itself proxies artifacts; it must not try to reach AWS for anything else.
      AWS_EC2_METADATA_DISABLED: 'true',
      MLFLOW_DISABLE_TELEMETRY: 'true',
      DO_NOT_TRACK: 'true',
    },
  );
  writeFileSync(STORE_FILE, env.MLFLOW_BACKEND_STORE);
  await waitHealthy('mlflow', url, 180_000);
}

// --- process plumbing --------------------------------------------------------------------------

function pidFile(name: string): string {
  return join(LOCAL_DIR, 'pids', `${name}.pid`);
}

function readPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function startDetached(name: string, cmd: string, args: string[], extraEnv: Record<string, string>): void {
  const logPath = join(LOCAL_DIR, 'logs', `${name}.log`);
  const out = openSync(logPath, 'a');
  const child = spawn(cmd, args, {
    detached: true, // its own process group, so `down` stops its workers too
    stdio: ['ignore', out, out],
    env: { ...process.env, ...extraEnv },
    cwd: ROOT,
  });
  child.unref();
  if (!child.pid) throw new ServiceStartError(`could not start ${name} (${cmd})`);
  writeFileSync(pidFile(name), String(child.pid));
}

async function killGroup(pid: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && isGroupAlive(pid)) await sleep(200);
  if (isGroupAlive(pid)) signal('SIGKILL');
  while (isGroupAlive(pid)) await sleep(100);
}

function isGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return isAlive(pid);
  }
}

async function waitHealthy(name: string, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pid = readPid(name);
  while (Date.now() < deadline) {
    if (await isHealthy(url)) return;
    if (pid && !isAlive(pid)) break;
    await sleep(500);
  }
  const reason = pid && !isAlive(pid) ? 'exited' : `was not healthy after ${timeoutMs / 1000}s`;
  throw new ServiceStartError(
    `${name} ${reason}. Last lines of ${join(LOCAL_DIR, 'logs', `${name}.log`)}:\n${tail(join(LOCAL_DIR, 'logs', `${name}.log`))}`,
  );
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolvePort(true);
    });
    socket.once('error', () => resolvePort(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolvePort(false);
    });
  });
}

function tail(file: string, lines = 30): string {
  if (!existsSync(file) || statSync(file).size === 0) return '(empty log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function writeEnvFile(env: LocalEndpoints): void {
  const body = Object.entries(env)
    .map(([k, v]) => `export ${k}='${v}'`)
    .join('\n');
  writeFileSync(join(LOCAL_DIR, 'env'), `# Written by npm run local:up; source it: . .local/env\n${body}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

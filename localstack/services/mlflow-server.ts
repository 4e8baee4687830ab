/**
 * The real `mlflow server` from the venv, with MLflow's basic-auth app: backend store in Postgres
 * (or SQLite), its auth tables in the same database (or a SQLite file beside it), artifacts in S3
 * on the local AWS endpoint through MLflow's artifact proxy. The store it was started on is
 * recorded, so asking for the other one restarts it; a server found running without auth (from
 * before auth) is restarted with it.
 *
 * After the server is healthy, the `pipelines` (writer) and `reader` users are created, or
 * checked, by docker/mlflow/mlflow_users.py: the same script the ECS container runs.
 *
 * A store an older MLflow wrote (the venv's `mlflow` pin moved on) makes the server exit with
 * "Detected out-of-date database schema": then the store is migrated once with `mlflow db upgrade`
 * (docker/mlflow/mlflow_db_upgrade.py, as the ECS upgrade task does), saying so, and the server
 * started again.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BackendStore, LocalEndpoints } from './endpoints';
import { localDir, logFile, ROOT, VENV_BIN } from './local-paths';
import {
  ensureMlflowCredentials,
  MLFLOW_ADMIN_USER,
  MLFLOW_PIPELINES_USER,
  MLFLOW_READER_USER,
  type MlflowCredentials,
} from './mlflow-auth';
import { mlflowWebhookEnv } from './mlflow-webhook-keys';
import { isHealthy, isPortOpen, killGroup, readPid, startDetached, waitHealthy } from './processes';
import { ServiceStartError } from './service-error';

const USERS_SCRIPT = join(ROOT, 'docker', 'mlflow', 'mlflow_users.py');
/** The schema migration the ECS upgrade task runs too (docker/mlflow/entrypoint.sh db-upgrade). */
const DB_UPGRADE_SCRIPT = join(ROOT, 'docker', 'mlflow', 'mlflow_db_upgrade.py');

/** What `mlflow server` logs, and exits on, when its store was written by an older MLflow. */
const OUT_OF_DATE_SCHEMA = 'Detected out-of-date database schema';

/** Whether the server's output says its store needs `mlflow db upgrade`. */
export function needsSchemaUpgrade(serverOutput: string): boolean {
  return serverOutput.includes(OUT_OF_DATE_SCHEMA);
}

function storeFile(): string {
  return join(localDir(), 'mlflow-store');
}

/** The backend store the local MLflow was last started on, if it was. */
export function runningBackendStore(): BackendStore | undefined {
  const file = storeFile();
  const recorded = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return recorded === 'postgres' || recorded === 'sqlite' ? recorded : undefined;
}

/**
 * Whether the server at this URL asks for credentials: an anonymous API call answers 401 with
 * the auth app, 200 without it.
 */
export async function requiresAuth(trackingUri: string): Promise<boolean> {
  const response = await fetch(`${trackingUri}/api/2.0/mlflow/experiments/search?max_results=1`, {
    signal: AbortSignal.timeout(5000),
  });
  await response.arrayBuffer();
  return response.status === 401;
}

/** Starts MLflow with auth (or reuses it) and returns the credentials its users log in with. */
export async function startMlflow(
  port: number,
  env: LocalEndpoints,
  log: (line: string) => void,
): Promise<MlflowCredentials> {
  const url = `${env.MLFLOW_TRACKING_URI}/health`;
  const current = runningBackendStore() ?? '';
  const credentials = ensureMlflowCredentials();
  if (await isHealthy(url)) {
    const withAuth = await requiresAuth(env.MLFLOW_TRACKING_URI);
    if (withAuth && (current === env.MLFLOW_BACKEND_STORE || current === '')) {
      log(
        `mlflow already up on ${env.MLFLOW_TRACKING_URI} (${current || 'unknown'} backend store, basic auth)`,
      );
      if (!(await usersLogIn(env.MLFLOW_TRACKING_URI, credentials))) {
        await ensureUsers(env.MLFLOW_TRACKING_URI, credentials);
      }
      return credentials;
    }
    log(
      withAuth
        ? `mlflow is running on the ${current} store; restarting it on ${env.MLFLOW_BACKEND_STORE}`
        : `mlflow on ${env.MLFLOW_TRACKING_URI} runs without authentication; restarting it with basic auth`,
    );
    const pid = readPid('mlflow');
    if (!pid) {
      throw new ServiceStartError(
        `the MLflow server on port ${port} was not started from ${localDir()}; stop it or set MLOPS_MLFLOW_PORT`,
      );
    }
    await killGroup(pid);
  } else if (await isPortOpen(port)) {
    throw new ServiceStartError(`port ${port} is taken by another process; set MLOPS_MLFLOW_PORT`);
  }
  const bucket = env.MLFLOW_ARTIFACTS_BUCKET;
  const backendUri =
    env.MLFLOW_BACKEND_STORE === 'postgres'
      ? // SQLAlchemy 2.1 maps bare postgresql:// to psycopg 3; the venv ships psycopg2.
        env.DATABASE_URL.replace('postgresql://', 'postgresql+psycopg2://')
      : `sqlite:///${join(localDir(), 'mlflow.db')}`;
  // The auth tables live beside the tracking tables (their own alembic version table).
  const authDatabaseUri =
    env.MLFLOW_BACKEND_STORE === 'postgres' ? backendUri : `sqlite:///${join(localDir(), 'mlflow-auth.db')}`;
  const authConfig = join(localDir(), 'mlflow-auth.ini');
  writeFileSync(authConfig, authIni(authDatabaseUri), { mode: 0o600 });
  log(
    `starting mlflow on ${env.MLFLOW_TRACKING_URI} (${env.MLFLOW_BACKEND_STORE} store, artifacts in s3://${bucket})`,
  );
  const options = {
    '--host': '127.0.0.1',
    '--port': String(port),
    // One uvicorn worker: uvicorn then serves in the server's child without a multiprocessing
    // supervisor, and each extra worker would cost ~250 MB RSS (and its own database pool) for
    // a laptop's few concurrent clients, which one worker's thread pool serves.
    '--workers': '1',
    '--backend-store-uri': backendUri,
    '--artifacts-destination': `s3://${bucket}`,
  };
  const serverEnv = {
    MLFLOW_AUTH_CONFIG_PATH: authConfig,
    // The admin is created from these on the first start against an empty user table.
    MLFLOW_AUTH_ADMIN_USERNAME: MLFLOW_ADMIN_USER,
    MLFLOW_AUTH_ADMIN_PASSWORD: credentials.adminPassword,
    MLFLOW_FLASK_SERVER_SECRET_KEY: credentials.secretKey,
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
    // Webhooks to a loopback receiver (npm run serve), their secrets under a stable key.
    ...mlflowWebhookEnv(),
  };
  const start = (): number => {
    const serverLog = logFile('mlflow');
    const offset = existsSync(serverLog) ? statSync(serverLog).size : 0;
    startDetached(
      'mlflow',
      join(VENV_BIN, 'mlflow'),
      ['server', ...Object.entries(options).flat(), '--serve-artifacts', '--app-name', 'basic-auth'],
      serverEnv,
    );
    return offset;
  };
  const offset = start();
  writeFileSync(storeFile(), env.MLFLOW_BACKEND_STORE);
  try {
    await waitHealthy('mlflow', url, 180_000);
  } catch (error) {
    // The venv's MLflow is newer than the one that wrote the store: migrate it once, and start again.
    const output = readFileSync(logFile('mlflow')).subarray(offset).toString('utf8');
    if (!needsSchemaUpgrade(output)) throw error;
    log(
      `the ${env.MLFLOW_BACKEND_STORE} store was written by an older MLflow: upgrading its schema once (mlflow db upgrade)`,
    );
    const said = await upgradeSchema(backendUri, log);
    if (said.includes('does not know')) {
      throw new ServiceStartError(
        `the ${env.MLFLOW_BACKEND_STORE} store was migrated by a newer MLflow than the venv's; install that version (localstack/requirements.txt) or start on another store:\n${said}`,
      );
    }
    start();
    await waitHealthy('mlflow', url, 180_000);
  }
  await ensureUsers(env.MLFLOW_TRACKING_URI, credentials);
  return credentials;
}

/** `mlflow db upgrade` on the store, through the script the ECS upgrade task runs. */
async function upgradeSchema(backendUri: string, log: (line: string) => void): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(
      join(VENV_BIN, 'python'),
      [DB_UPGRADE_SCRIPT, '--url', backendUri, '--mlflow', join(VENV_BIN, 'mlflow')],
      { timeout: 600_000 },
    );
    for (const line of stdout.trim().split('\n')) if (line) log(line);
    return stdout;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new ServiceStartError(
      `could not upgrade the local MLflow store's schema: ${(failed.stderr || failed.stdout || failed.message).trim()}`,
    );
  }
}

/** The auth app's settings: every authenticated user reads; only grants write. */
function authIni(databaseUri: string): string {
  return [
    '# Written by localstack/services/mlflow-server.ts on every start; the admin password is',
    '# passed in MLFLOW_AUTH_ADMIN_PASSWORD (see mlflow-auth.json), never written here.',
    '[mlflow]',
    'default_permission = READ',
    `database_uri = ${databaseUri}`,
    `admin_username = ${MLFLOW_ADMIN_USER}`,
    'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
    // A password check is a PBKDF2 hash (about a second of CPU on a busy laptop): each worker
    // remembers a good one for a minute. A password changed through another worker still logs in
    // there until then.
    'auth_cache_ttl_seconds = 60',
    '',
  ].join('\n');
}

/** Whether the pipelines' and the reader's users log in with the stored passwords. */
async function usersLogIn(trackingUri: string, credentials: MlflowCredentials): Promise<boolean> {
  const logsIn = async (username: string, password: string) => {
    const response = await fetch(`${trackingUri}/api/2.0/mlflow/users/current`, {
      headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    return response.ok;
  };
  const answers = await Promise.all([
    logsIn(MLFLOW_PIPELINES_USER, credentials.pipelinesPassword),
    logsIn(MLFLOW_READER_USER, credentials.readerPassword),
  ]);
  return answers.every(Boolean);
}

/** Creates (or checks) the pipelines' and the reader's users, as the ECS container does. */
async function ensureUsers(trackingUri: string, credentials: MlflowCredentials): Promise<void> {
  try {
    await promisify(execFile)(
      join(VENV_BIN, 'python'),
      [
        USERS_SCRIPT,
        '--url',
        trackingUri,
        '--wait',
        '60',
        '--user',
        `${MLFLOW_PIPELINES_USER}:writer:MLOPS_PIPELINES_PASSWORD`,
        '--user',
        `${MLFLOW_READER_USER}:reader:MLOPS_READER_PASSWORD`,
      ],
      {
        env: {
          ...process.env,
          MLFLOW_AUTH_ADMIN_USERNAME: MLFLOW_ADMIN_USER,
          MLFLOW_AUTH_ADMIN_PASSWORD: credentials.adminPassword,
          MLOPS_PIPELINES_PASSWORD: credentials.pipelinesPassword,
          MLOPS_READER_PASSWORD: credentials.readerPassword,
        },
        timeout: 120_000,
      },
    );
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new ServiceStartError(
      `could not create the local MLflow users: ${stderr || (error as Error).message}` +
        (stderr?.includes('admin credentials')
          ? `\n(the auth tables hold an admin from another ${localDir()}/mlflow-auth.json: restore that file, or drop the auth tables)`
          : ''),
    );
  }
}

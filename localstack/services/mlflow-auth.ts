/**
 * The local MLflow's basic-auth credentials: generated once per state directory and kept in
 * `<state dir>/mlflow-auth.json` (mode 0600), so a restart, the tests and the CLI all find the
 * same passwords. Three users, as on AWS (docker/mlflow): `admin` (manages users, the UI for
 * people), `pipelines` (writes runs, versions and aliases) and `reader` (read-only).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localDir } from './local-paths';
import { servicePorts } from './port-setting';
import { ServiceStartError } from './service-error';

export const MLFLOW_ADMIN_USER = 'admin';
export const MLFLOW_PIPELINES_USER = 'pipelines';
export const MLFLOW_READER_USER = 'reader';

export interface MlflowCredentials {
  readonly adminPassword: string;
  readonly pipelinesPassword: string;
  readonly readerPassword: string;
  /** Flask's secret key for the auth app's CSRF protection: one static value for every worker. */
  readonly secretKey: string;
}

export function credentialsFile(dir: string = localDir()): string {
  return join(dir, 'mlflow-auth.json');
}

/** A password MLflow accepts (at least 12 characters), URL- and shell-safe. */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The stored credentials, if this state directory has them; a damaged file names itself. */
export function readMlflowCredentials(dir: string = localDir()): MlflowCredentials | undefined {
  const file = credentialsFile(dir);
  if (!existsSync(file)) return undefined;
  let parsed: Partial<Record<keyof MlflowCredentials, unknown>>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new ServiceStartError(
      `${file} is not JSON; delete it and the local MLflow's auth tables to start over`,
    );
  }
  for (const key of ['adminPassword', 'pipelinesPassword', 'readerPassword', 'secretKey'] as const) {
    const value = parsed[key];
    if (typeof value !== 'string' || value.length < 12) {
      throw new ServiceStartError(`${file}: ${key} is missing or shorter than 12 characters`);
    }
  }
  return parsed as MlflowCredentials;
}

/** The stored credentials, generated and written (0600) the first time. */
export function ensureMlflowCredentials(dir: string = localDir()): MlflowCredentials {
  const existing = readMlflowCredentials(dir);
  if (existing) return existing;
  const created: MlflowCredentials = {
    adminPassword: generatePassword(),
    pipelinesPassword: generatePassword(),
    readerPassword: generatePassword(),
    secretKey: generatePassword(),
  };
  const file = credentialsFile(dir);
  writeFileSync(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return created;
}

/**
 * The pipelines' credentials for a process talking to the local MLflow, when it has none of its
 * own: MLFLOW_TRACKING_USERNAME (or a token) set by the user wins, and a tracking URI other than
 * the local server's gets nothing. Returns the variables to set, or an empty object.
 */
export function localTrackingCredentials(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.MLFLOW_TRACKING_USERNAME?.trim() || env.MLFLOW_TRACKING_TOKEN?.trim()) return {};
  const uri = env.MLFLOW_TRACKING_URI?.trim();
  if (uri && !isLocalServer(uri, env)) return {};
  const stored = readMlflowCredentials(localDir(env));
  if (!stored) return {};
  return {
    MLFLOW_TRACKING_USERNAME: MLFLOW_PIPELINES_USER,
    MLFLOW_TRACKING_PASSWORD: stored.pipelinesPassword,
  };
}

function isLocalServer(uri: string, env: NodeJS.ProcessEnv): boolean {
  if (!URL.canParse(uri)) return false;
  const url = new URL(uri);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && port === servicePorts(env).mlflow;
}

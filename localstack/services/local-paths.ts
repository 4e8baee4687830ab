/**
 * Where the local services live on disk: the checkout, the state directory (`.local/`, or
 * MLOPS_LOCAL_DIR) with its logs and pid files, and the Python venv that runs MLflow and moto.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The state directory, read when called. MLOPS_LOCAL_DIR lets a second, independent set of
 * services run beside the default one (tests).
 */
export function localDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.MLOPS_LOCAL_DIR ?? join(ROOT, '.local'));
}

/** The state directory as this process started with it, for module-level defaults elsewhere. */
export const LOCAL_DIR = localDir();

export const VENV_BIN = join(ROOT, 'localstack', '.venv', 'bin');

export function logFile(name: string): string {
  return join(localDir(), 'logs', `${name}.log`);
}

export function pidFile(name: string): string {
  return join(localDir(), 'pids', `${name}.pid`);
}

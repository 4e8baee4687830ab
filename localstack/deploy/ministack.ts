/**
 * ministack (PyPI, MIT): the local AWS emulator `npm run local:deploy` deploys the CDK app to when
 * there is no Docker engine. It runs as a plain process from its own venv
 * (`localstack/.venv/ministack`, installed by localstack/setup.sh from
 * localstack/deploy/ministack-requirements.txt: its exact botocore pin clashes with boto3's in the
 * main venv), on its own port (MLOPS_MINISTACK_PORT, default 4567), with its log and pid file under
 * the state directory like the other local services. Each Lambda runs as a local `node` worker, so
 * the project's Node 22 goes first on its PATH.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localDir, logFile, pidFile, ROOT } from '../services/local-paths';
import { portFromEnv } from '../services/port-setting';
import { isHealthy, readPid, stopDetached, tail } from '../services/processes';
import { DeploymentError } from './localstack-deployment';

export const MINISTACK_REQUIREMENTS = join(ROOT, 'localstack', 'deploy', 'ministack-requirements.txt');
export const MINISTACK_VENV = join(ROOT, 'localstack', '.venv', 'ministack');
export const MINISTACK_BIN = join(MINISTACK_VENV, 'bin', 'ministack');
/** The project's Node 22 (the `node` dev dependency), for the Lambda workers. */
export const NODE22_BIN = join(ROOT, 'node_modules', 'node', 'bin');
/** The pid and log file name under the state directory. */
export const MINISTACK_SERVICE = 'ministack';
export const DEFAULT_MINISTACK_PORT = 4567;

/** The pinned version, from the requirements file setup.sh installs. */
export function pinnedMinistackVersion(file = MINISTACK_REQUIREMENTS): string {
  const pin = /^ministack==(\S+)$/m.exec(readFileSync(file, 'utf8'));
  if (!pin?.[1]) throw new DeploymentError(`${file} pins no ministack version (a line ministack==<version>)`);
  return pin[1];
}

export function ministackPort(env: NodeJS.ProcessEnv = process.env): number {
  return portFromEnv(env, 'MLOPS_MINISTACK_PORT', DEFAULT_MINISTACK_PORT, DeploymentError);
}

export function ministackUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `http://127.0.0.1:${ministackPort(env)}`;
}

/**
 * The environment ministack runs with: its port on 127.0.0.1 only, S3 data on disk, Node 22 first.
 * Nothing AWS_* is inherited: ministack hands its own environment to the Lambda workers, and an
 * AWS_ENDPOINT_URL from `.local/env` (the moto endpoint of `local up`) would send the functions'
 * S3 and SES calls there instead of to ministack.
 */
export function ministackEnv(port: number, dataDir: string, base: NodeJS.ProcessEnv): Record<string, string> {
  const inherited = Object.fromEntries(
    Object.entries(base).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('AWS_'),
    ),
  );
  return {
    ...inherited,
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    GATEWAY_PORT: String(port),
    BIND_HOST: '127.0.0.1',
    S3_DATA_DIR: join(dataDir, 's3'),
    LAMBDA_EXECUTOR: 'local',
    PATH: `${NODE22_BIN}:${base.PATH ?? ''}`,
  };
}

export interface MinistackHealth {
  readonly version: string;
  readonly edition: string;
}

/** `GET /_ministack/health`: `{ services, edition, version }`. */
export async function ministackHealth(url: string): Promise<MinistackHealth | undefined> {
  try {
    const response = await fetch(`${url}/_ministack/health`, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { version?: unknown; edition?: unknown };
    return {
      version: typeof body.version === 'string' ? body.version : 'unknown',
      edition: typeof body.edition === 'string' ? body.edition : 'unknown',
    };
  } catch {
    return undefined;
  }
}

/**
 * Starts ministack, or reuses the one answering on its port. A fresh start begins with empty
 * state (ministack keeps its state in memory; its S3 data directory is cleared to match).
 */
export async function startMinistack(
  log: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ url: string; health: MinistackHealth; reused: boolean; seconds: number }> {
  const port = ministackPort(env);
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const running = await ministackHealth(url);
  if (running) return { url, health: running, reused: true, seconds: 0 };
  if (await isHealthy(`${url}/_localstack/health`)) {
    throw new DeploymentError(
      `port ${port} answers as LocalStack, not ministack: stop it, or move ministack with MLOPS_MINISTACK_PORT`,
    );
  }
  if (!existsSync(MINISTACK_BIN)) {
    throw new DeploymentError(
      `ministack is not installed (${MINISTACK_BIN} is missing): run bash localstack/setup.sh --no-npm`,
    );
  }
  const dataDir = join(localDir(env), 'ministack');
  rmSync(dataDir, { recursive: true, force: true });
  for (const dir of [dataDir, join(localDir(env), 'logs'), join(localDir(env), 'pids')]) {
    mkdirSync(dir, { recursive: true });
  }
  log(`starting ministack ${pinnedMinistackVersion()} on ${url} (log ${logFile(MINISTACK_SERVICE)})`);
  const out = openSync(logFile(MINISTACK_SERVICE), 'a');
  const child = spawn(MINISTACK_BIN, [], {
    detached: true, // its own process group: stopping it stops its Lambda workers too
    stdio: ['ignore', out, out],
    env: ministackEnv(port, dataDir, env),
    cwd: dataDir,
  });
  child.unref();
  if (!child.pid) throw new DeploymentError(`could not start ${MINISTACK_BIN}`);
  writeFileSync(pidFile(MINISTACK_SERVICE), String(child.pid));
  const pid = readPid(MINISTACK_SERVICE);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const health = await ministackHealth(url);
    if (health) return { url, health, reused: false, seconds: (performance.now() - started) / 1000 };
    if (pid !== undefined && !alive(pid)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const why = pid !== undefined && !alive(pid) ? 'exited' : 'did not answer /_ministack/health within 60s';
  throw new DeploymentError(
    `ministack ${why}. Last lines of ${logFile(MINISTACK_SERVICE)}:\n${tail(logFile(MINISTACK_SERVICE))}`,
  );
}

/** Stops the ministack `startMinistack` started (its Lambda workers are in its process group). */
export async function stopMinistack(log: (line: string) => void): Promise<void> {
  await stopDetached(MINISTACK_SERVICE, log);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

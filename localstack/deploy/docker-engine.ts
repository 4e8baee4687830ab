/**
 * Is there a Docker engine `npm run local:deploy` / `local:e2e` can use? The docker CLI, a daemon
 * that answers `docker info` within a few seconds, and the Compose v2 plugin. Each missing piece
 * gets its own message, so a user knows whether to install something or start something.
 *
 * The command runner is a parameter: unit tests drive the decision with canned results.
 */
import { spawn } from 'node:child_process';

/** Exit code of local:deploy and local:e2e when there is no usable Docker engine. */
export const EXIT_NO_DOCKER = 3;

export interface CommandResult {
  /** null when the command did not run to an exit (not found, timed out, killed). */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** `not-found`: the executable is not on PATH; `timeout`: killed after the time limit. */
  readonly failure?: 'not-found' | 'timeout' | 'spawn-error';
}

export type CommandRunner = (
  command: string,
  args: readonly string[],
  timeoutMs: number,
) => Promise<CommandResult>;

export type DockerEngine =
  | { readonly available: true; readonly serverVersion: string; readonly composeVersion: string }
  | {
      readonly available: false;
      readonly missing: 'docker-cli' | 'docker-daemon' | 'docker-compose';
      /** One line saying what was found, for people. */
      readonly detail: string;
    };

/** How long `docker info` may take: a stopped Docker Desktop can hang instead of failing. */
export const DOCKER_INFO_TIMEOUT_MS = 10_000;

export async function detectDockerEngine(
  run: CommandRunner = runCommand,
  timeoutMs = DOCKER_INFO_TIMEOUT_MS,
): Promise<DockerEngine> {
  const info = await run('docker', ['info', '--format', '{{.ServerVersion}}'], timeoutMs);
  if (info.failure === 'not-found') {
    return { available: false, missing: 'docker-cli', detail: 'the docker command is not installed' };
  }
  if (info.failure === 'timeout') {
    return {
      available: false,
      missing: 'docker-daemon',
      detail: `the Docker daemon did not answer \`docker info\` within ${timeoutMs / 1000}s`,
    };
  }
  const serverVersion = info.stdout.trim();
  if (info.exitCode !== 0 || serverVersion === '') {
    return {
      available: false,
      missing: 'docker-daemon',
      detail: `the docker command is installed but the Docker daemon is not reachable (${firstLine(info.stderr) || `docker info exited ${info.exitCode}`})`,
    };
  }
  const compose = await run('docker', ['compose', 'version', '--short'], timeoutMs);
  const composeVersion = compose.stdout.trim();
  if (compose.exitCode !== 0 || composeVersion === '') {
    return {
      available: false,
      missing: 'docker-compose',
      detail: `Docker ${serverVersion} is running but the Compose v2 plugin (\`docker compose\`) is missing`,
    };
  }
  return { available: true, serverVersion, composeVersion };
}

/** The one message a user gets when there is no usable engine: what is missing, and the Docker-free path. */
export function noDockerMessage(
  engine: Extract<DockerEngine, { available: false }>,
  command: string,
): string {
  const fix = {
    'docker-cli': 'Install Docker Engine or Docker Desktop (with the Compose plugin), then run it again.',
    'docker-daemon': 'Start Docker (Docker Desktop, or `sudo systemctl start docker`), then run it again.',
    'docker-compose':
      'Install the Docker Compose v2 plugin (`docker compose version` must work), then run it again.',
  }[engine.missing];
  return [
    `${command} needs a Docker engine to run LocalStack: ${engine.detail}.`,
    fix,
    'Without Docker, the same pipelines, MLflow and predict API run locally on plain processes:',
    '  npm run demo        the whole lifecycle end to end (data → train → serve → retrain → drift alert)',
    '  npm run local:up    just the services (MLflow, S3/SES endpoint, Postgres) for npm run train / serve',
  ].join('\n');
}

/**
 * Exits with EXIT_NO_DOCKER and the message when there is no usable engine; returns the engine
 * otherwise. For the entry points only.
 */
export async function requireDockerEngine(command: string, run: CommandRunner = runCommand) {
  const engine = await detectDockerEngine(run);
  if (!engine.available) {
    process.stderr.write(`${noDockerMessage(engine, command)}\n`);
    process.exit(EXIT_NO_DOCKER);
  }
  return engine;
}

/** Runs a command to its end, capturing its output; never throws. */
export const runCommand: CommandRunner = (command, args, timeoutMs) =>
  new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({
        exitCode: null,
        stdout,
        stderr: stderr || error.message,
        failure: error.code === 'ENOENT' ? 'not-found' : 'spawn-error',
      });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(
        timedOut
          ? { exitCode: null, stdout, stderr, failure: 'timeout' }
          : { exitCode: code, stdout, stderr },
      );
    });
  });

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line !== '') ?? ''
  );
}

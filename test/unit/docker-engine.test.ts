/**
 * The Docker check of `npm run local:deploy` / `local:e2e`: the decision with canned command
 * results (the runner is the module's own seam), the real runner, and both entry points run as a
 * user runs them, on PATHs with no docker, a docker whose daemon is down, and a working one.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CommandResult,
  type CommandRunner,
  DOCKER_INFO_TIMEOUT_MS,
  detectDockerEngine,
  EXIT_NO_DOCKER,
  noDockerMessage,
  runCommand,
} from '../../localstack/deploy/docker-engine';
import { ROOT } from '../../localstack/services/services';

const DAEMON_DOWN =
  'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

/** A runner answering `docker info` and `docker compose version` with the given results, recording its calls. */
function fakeRunner(answers: { info: CommandResult; compose?: CommandResult }) {
  const calls: { command: string; args: readonly string[]; timeoutMs: number }[] = [];
  const run: CommandRunner = async (command, args, timeoutMs) => {
    calls.push({ command, args, timeoutMs });
    if (args[0] === 'info') return answers.info;
    return answers.compose ?? { exitCode: 0, stdout: '2.29.7\n', stderr: '' };
  };
  return { run, calls };
}

describe('detectDockerEngine', () => {
  it('says the docker CLI is not installed when the command is not found', async () => {
    const { run, calls } = fakeRunner({
      info: { exitCode: null, stdout: '', stderr: 'spawn docker ENOENT', failure: 'not-found' },
    });
    const engine = await detectDockerEngine(run);
    expect(engine).toEqual({
      available: false,
      missing: 'docker-cli',
      detail: 'the docker command is not installed',
    });
    expect(calls).toEqual([
      {
        command: 'docker',
        args: ['info', '--format', '{{.ServerVersion}}'],
        timeoutMs: DOCKER_INFO_TIMEOUT_MS,
      },
    ]);
  });

  it('says the daemon is not reachable, with docker’s own reason, when docker info fails', async () => {
    const { run } = fakeRunner({ info: { exitCode: 1, stdout: '\n', stderr: `${DAEMON_DOWN}\n` } });
    expect(await detectDockerEngine(run)).toEqual({
      available: false,
      missing: 'docker-daemon',
      detail: `the docker command is installed but the Docker daemon is not reachable (${DAEMON_DOWN})`,
    });
  });

  it('says the daemon did not answer when docker info outlives the time limit', async () => {
    const { run, calls } = fakeRunner({
      info: { exitCode: null, stdout: '', stderr: '', failure: 'timeout' },
    });
    const engine = await detectDockerEngine(run, 2500);
    expect(engine).toMatchObject({
      available: false,
      missing: 'docker-daemon',
      detail: 'the Docker daemon did not answer `docker info` within 2.5s',
    });
    expect(calls[0]?.timeoutMs).toBe(2500);
  });

  it('asks for the Compose plugin when the daemon runs but docker compose does not', async () => {
    const { run } = fakeRunner({
      info: { exitCode: 0, stdout: '27.3.1\n', stderr: '' },
      compose: { exitCode: 1, stdout: '', stderr: "docker: 'compose' is not a docker command." },
    });
    expect(await detectDockerEngine(run)).toEqual({
      available: false,
      missing: 'docker-compose',
      detail: 'Docker 27.3.1 is running but the Compose v2 plugin (`docker compose`) is missing',
    });
  });

  it('reports the engine and Compose versions when both answer', async () => {
    const { run, calls } = fakeRunner({ info: { exitCode: 0, stdout: '27.3.1\n', stderr: '' } });
    expect(await detectDockerEngine(run)).toEqual({
      available: true,
      serverVersion: '27.3.1',
      composeVersion: '2.29.7',
    });
    expect(calls.map((c) => c.args.join(' '))).toEqual([
      'info --format {{.ServerVersion}}',
      'compose version --short',
    ]);
  });
});

describe('noDockerMessage', () => {
  it('names what is missing and the Docker-free commands', () => {
    const message = noDockerMessage(
      { available: false, missing: 'docker-cli', detail: 'the docker command is not installed' },
      'npm run local:deploy',
    );
    expect(message.split('\n')[0]).toBe(
      'npm run local:deploy needs a Docker engine to run LocalStack: the docker command is not installed.',
    );
    expect(message).toContain('Install Docker Engine or Docker Desktop');
    expect(message).toMatch(/npm run demo\s+the whole lifecycle/);
    expect(message).toMatch(/npm run local:up\s+just the services/);
  });
});

describe('runCommand', () => {
  it('reports a command that is not on PATH as not-found', async () => {
    const result = await runCommand('mlops-no-such-command-7f3a', [], 5000);
    expect(result).toMatchObject({ exitCode: null, failure: 'not-found' });
  });

  it('kills a command that outlives the time limit and says so', async () => {
    const started = Date.now();
    const result = await runCommand(process.execPath, ['-e', 'setTimeout(() => {}, 10_000)'], 300);
    expect(result).toMatchObject({ exitCode: null, failure: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('returns the exit code and both outputs of a finished command', async () => {
    const result = await runCommand(
      process.execPath,
      ['-e', 'console.log("out"); console.error("err"); process.exit(4)'],
      5000,
    );
    expect(result).toEqual({ exitCode: 4, stdout: 'out\n', stderr: 'err\n' });
  });
});

/** Runs an entry point as `npx tsx localstack/<file>` does, with the given PATH and extra env. */
function runEntry(file: 'deploy.ts' | 'e2e.ts', path: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', join('localstack', 'deploy', file)], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, PATH: path, ...env },
    timeout: 60_000,
  });
}

/** A directory to use as PATH holding only a `docker` script with the given body. */
function pathWithDocker(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-docker-'));
  writeFileSync(join(dir, 'docker'), `#!/bin/sh\n${script}\n`);
  chmodSync(join(dir, 'docker'), 0o755);
  return dir;
}

const NO_STACK_TRACE = /\n\s+at /;

describe.each(['deploy.ts', 'e2e.ts'] as const)('localstack/%s without a Docker engine', (file) => {
  const command = file === 'deploy.ts' ? 'npm run local:deploy' : 'npm run local:e2e';

  it('exits 3 saying the docker command is not installed, with no stack trace', () => {
    const result = runEntry(file, mkdtempSync(join(tmpdir(), 'empty-path-')));
    expect(result.status).toBe(EXIT_NO_DOCKER);
    expect(result.stderr).toContain(
      `${command} needs a Docker engine to run LocalStack: the docker command is not installed.`,
    );
    expect(result.stderr).toContain('npm run demo');
    expect(result.stderr).not.toMatch(NO_STACK_TRACE);
    expect(result.stdout).toBe('');
  });

  it('exits 3 saying the daemon is not reachable when docker info fails', () => {
    const result = runEntry(file, pathWithDocker(`echo "${DAEMON_DOWN}" >&2; exit 1`));
    expect(result.status).toBe(EXIT_NO_DOCKER);
    expect(result.stderr).toContain('the docker command is installed but the Docker daemon is not reachable');
    expect(result.stderr).toContain(DAEMON_DOWN);
    expect(result.stderr).not.toMatch(NO_STACK_TRACE);
  });
});

describe('npm run local:e2e with a Docker engine but nothing deployed', () => {
  it('exits 2 and says to run local:deploy first', () => {
    const docker = pathWithDocker('case "$1" in info) echo 27.3.1;; compose) echo 2.29.7;; esac');
    const localDir = mkdtempSync(join(tmpdir(), 'no-deployment-'));
    const result = runEntry('e2e.ts', docker, { MLOPS_LOCAL_DIR: localDir });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      `local:e2e: no LocalStack deployment found (${join(localDir, 'localstack-outputs.json')} is missing): run npm run local:deploy first`,
    );
  });
});

const thisMachine = await detectDockerEngine();

describe.skipIf(thisMachine.available)('on this machine (no usable Docker engine)', () => {
  it.each(['deploy.ts', 'e2e.ts'] as const)(
    'npx tsx localstack/%s exits 3 with the clear message',
    (file) => {
      const result = spawnSync('npx', ['tsx', join('localstack', 'deploy', file)], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` },
        timeout: 60_000,
      });
      expect(result.status).toBe(EXIT_NO_DOCKER);
      expect(result.stderr).toMatch(/needs a Docker engine to run LocalStack: .+\./);
      expect(result.stderr).toContain('npm run local:up');
      expect(result.stderr).not.toMatch(NO_STACK_TRACE);
    },
  );
});

/**
 * The Docker check of `npm run local:deploy` / `local:e2e` for real: the command runner, and both
 * entry points run as a user runs them, on PATHs with no docker, a docker whose daemon is down,
 * and a working one. The decision itself, on canned results, is in test/unit/docker-engine.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectDockerEngine, EXIT_NO_DOCKER, runCommand } from '../../localstack/deploy/docker-engine';
import { ROOT } from '../../localstack/services/services';
import { runEntryPoint } from '../support/entry-point';

const DAEMON_DOWN =
  'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

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

/**
 * Runs an entry point as `npx tsx localstack/<file>` does, with the given PATH and extra env, for
 * LocalStack: without Docker, local:deploy would otherwise deploy to ministack (a test of its own,
 * local-deploy-ministack.test.ts), and local:e2e would follow a ministack deployment's record.
 */
function runEntry(file: 'deploy.ts' | 'e2e.ts', path: string, env: Record<string, string> = {}) {
  return runEntryPoint(join('localstack', 'deploy', file), [], {
    env: {
      ...process.env,
      PATH: path,
      MLOPS_EMULATOR: 'localstack',
      MLOPS_LOCAL_DIR: mkdtempSync(join(tmpdir(), 'no-record-')),
      ...env,
    },
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

describe.each(['deploy.ts', 'e2e.ts'] as const)(
  'localstack/%s for LocalStack without a Docker engine',
  (file) => {
    const command = file === 'deploy.ts' ? 'npm run local:deploy' : 'npm run local:e2e';

    it('exits 3 saying the docker command is not installed, with no stack trace', async () => {
      const result = await runEntry(file, mkdtempSync(join(tmpdir(), 'empty-path-')));
      expect(result.status).toBe(EXIT_NO_DOCKER);
      expect(result.stderr).toContain(
        `${command} needs a Docker engine to run LocalStack: the docker command is not installed.`,
      );
      expect(result.stderr).toContain('npm run demo');
      expect(result.stderr).not.toMatch(NO_STACK_TRACE);
      expect(result.stdout).toBe('');
    });

    it('exits 3 saying the daemon is not reachable when docker info fails', async () => {
      const result = await runEntry(file, pathWithDocker(`echo "${DAEMON_DOWN}" >&2; exit 1`));
      expect(result.status).toBe(EXIT_NO_DOCKER);
      expect(result.stderr).toContain(
        'the docker command is installed but the Docker daemon is not reachable',
      );
      expect(result.stderr).toContain(DAEMON_DOWN);
      expect(result.stderr).not.toMatch(NO_STACK_TRACE);
    });
  },
);

describe('npm run local:e2e with a Docker engine but nothing deployed', () => {
  it('exits 2 and says to run local:deploy first', async () => {
    const docker = pathWithDocker('case "$1" in info) echo 27.3.1;; compose) echo 2.29.7;; esac');
    const localDir = mkdtempSync(join(tmpdir(), 'no-deployment-'));
    const result = await runEntry('e2e.ts', docker, { MLOPS_LOCAL_DIR: localDir });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      `local:e2e: no LocalStack deployment found (${join(localDir, 'localstack-outputs.json')} is missing): run npm run local:deploy first`,
    );
  });
});

const thisMachine = await detectDockerEngine();

describe.skipIf(thisMachine.available)(
  'on this machine (no usable Docker engine), LocalStack asked for',
  () => {
    it.each(['deploy.ts', 'e2e.ts'] as const)(
      'npx tsx localstack/%s exits 3 with the clear message',
      (file) => {
        const result = spawnSync('npx', ['tsx', join('localstack', 'deploy', file)], {
          cwd: ROOT,
          encoding: 'utf8',
          env: {
            ...process.env,
            PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`,
            // LocalStack asked for: without the choice, local:deploy goes to ministack here.
            MLOPS_EMULATOR: 'localstack',
            MLOPS_LOCAL_DIR: mkdtempSync(join(tmpdir(), 'no-record-')),
          },
          timeout: 60_000,
        });
        expect(result.status).toBe(EXIT_NO_DOCKER);
        expect(result.stderr).toMatch(/needs a Docker engine to run LocalStack: .+\./);
        expect(result.stderr).toContain('npm run local:up');
        expect(result.stderr).not.toMatch(NO_STACK_TRACE);
      },
    );
  },
);

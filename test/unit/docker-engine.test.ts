/**
 * The Docker check of `npm run local:deploy` / `local:e2e`: the decision with canned command
 * results (the runner is the module's own seam). The real runner and both entry points run as a
 * user runs them are in test/integration/docker-engine.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  type CommandResult,
  type CommandRunner,
  DOCKER_INFO_TIMEOUT_MS,
  detectDockerEngine,
  noDockerMessage,
} from '../../localstack/deploy/docker-engine';

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

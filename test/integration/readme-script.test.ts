/**
 * The README is a tested script: every command of its ```bash blocks runs here, in order, as a
 * newcomer types them in one shell in the checkout, on the local stack (test/support/readme-commands.ts
 * says how the README marks the exceptions):
 *
 * - a command must exit 0; a failing one fails the test naming its README line, the command, its
 *   exit code and the end of its stderr (and nothing after it runs);
 * - `# needs AWS` / `# needs Docker` commands run without AWS credentials, region or endpoint (and
 *   with no Docker engine), and must fail with a clear message: an exit code other than 0, the
 *   reason as the last line of stderr, no stack trace;
 * - a background command (`npm run serve &`) is started and waited for until it prints its
 *   address; it is stopped when the README is done;
 * - skipped blocks are listed, with their reasons, and not run.
 *
 * One shell: each command runs in `bash -c` with the environment the previous one left (so
 * `. .local/env` and `export` carry over, as in a terminal). The README's defaults are mapped to
 * this run's (forThisRun): `.local/` is MLOPS_LOCAL_DIR when that is set, port 3000 a free port.
 * Files the README creates in the checkout are removed afterwards, so `git status` stays as it was.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../support/project-paths';
import { forThisRun, type ReadmeCommand, readmeCommands } from '../support/readme-commands';

const COMMAND_TIMEOUT_MS = 180_000;
const BACKGROUND_READY_MS = 60_000;

interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The environment the command left (its exports, a sourced env file). */
  readonly env: NodeJS.ProcessEnv;
}

/** What bash sets by itself, which must not leak from one command into the next. */
const SHELL_OWN = new Set(['_', 'SHLVL', 'PWD', 'OLDPWD']);

function runInShell(command: string, env: NodeJS.ProcessEnv, stateDir: string): Promise<Outcome> {
  const stateFile = path.join(stateDir, 'env');
  rmSync(stateFile, { force: true });
  // The command first, as typed; then the environment it leaves, NUL-separated (values may hold newlines).
  const script = `${command}\n__readme_status=$?\nenv -0 > ${JSON.stringify(stateFile)}\nexit $__readme_status\n`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      stderr += `\n[readme test] killed after ${COMMAND_TIMEOUT_MS / 1000} s`;
      child.kill('SIGKILL');
    }, COMMAND_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      let left: NodeJS.ProcessEnv = env;
      try {
        left = {};
        for (const entry of readFileSync(stateFile, 'utf8').split('\0')) {
          const at = entry.indexOf('=');
          if (at > 0 && !SHELL_OWN.has(entry.slice(0, at))) left[entry.slice(0, at)] = entry.slice(at + 1);
        }
      } catch {
        left = env; // the command ended the shell itself (exit): nothing carried over
      }
      resolve({ status, stdout, stderr, env: left });
    });
  });
}

/** Starts a long-running command in its own process group; resolves once it prints an http:// address. */
function startInBackground(command: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    let ready = false;
    const timer = setTimeout(() => {
      stop(child);
      reject(
        new Error(
          `not ready after ${BACKGROUND_READY_MS / 1000} s (no http:// address printed):\n${output.slice(-2000)}`,
        ),
      );
    }, BACKGROUND_READY_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!ready && /https?:\/\/\S+/.test(output)) {
        ready = true;
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`ended before it was ready (${signal ?? `exit ${code}`}):\n${output.slice(-2000)}`));
    });
  });
}

function stop(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

/** Without AWS: no credentials, region, profile or endpoint, no instance metadata, and no Docker engine. */
function withoutAwsOrDocker(env: NodeJS.ProcessEnv, scratch: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (!name.startsWith('AWS_')) out[name] = value;
  return {
    ...out,
    AWS_CONFIG_FILE: path.join(scratch, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(scratch, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    DOCKER_HOST: `unix://${path.join(scratch, 'no-docker.sock')}`,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const untracked = () =>
  spawnSync('git', ['ls-files', '--others', '--exclude-standard', '-z'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  })
    .stdout.split('\0')
    .filter(Boolean);

const tail = (text: string, lines = 15) => text.trimEnd().split('\n').slice(-lines).join('\n');
const STACK_FRAME = /^\s+at \S/m;

const commands = readmeCommands(readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8'));
const background: ChildProcess[] = [];
const before = new Set(untracked());
const scratch = mkdtempSync(path.join(tmpdir(), 'readme-script-'));

afterAll(() => {
  for (const child of background) stop(child);
  // What the README made in the checkout (weather.csv, its contract, candidates.json, …).
  for (const file of untracked())
    if (!before.has(file)) rmSync(path.join(PROJECT_ROOT, file), { force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe('the README, run as a script', () => {
  // About 4 minutes on a busy 2-core machine, most of it the demo and the pipelines.
  it('runs every command in order on the local stack; the AWS and Docker ones fail with a clear message', {
    timeout: 480_000,
  }, async () => {
    // A newcomer's shell: the project's ports and places (MLOPS_*), none of the endpoints the
    // global set-up exported; `. .local/env` in the README brings them in.
    const local = inject('localEnv') as unknown as Record<string, string>;
    let env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) if (!(name in local)) env[name] = value;
    const predictPort = await freePort();
    env.PORT = String(predictPort);
    // npm's "new version available" notice is not the README's output (and not an AWS command's message).
    env.npm_config_update_notifier = 'false';
    const localDir = process.env.MLOPS_LOCAL_DIR?.trim() || undefined;
    const run = { ...(localDir !== undefined && { localDir }), predictPort };

    const skipped = commands.filter((c) => c.kind === 'skip');
    process.stderr.write(
      `[readme] ${commands.length - skipped.length} commands; not run:\n${skipped
        .map((c) => `  line ${c.line} ${c.command.split('\n')[0]} (${c.reason})`)
        .join('\n')}\n`,
    );
    const where = (c: ReadmeCommand) => `README line ${c.line} (${c.section}): ${c.text}`;

    for (const c of commands) {
      if (c.kind === 'skip') continue;
      const command = forThisRun(c.command, run);
      const started = performance.now();
      if (c.kind === 'background') {
        try {
          background.push(await startInBackground(command, env));
        } catch (error) {
          throw new Error(`${where(c)}\n${(error as Error).message}`);
        }
      } else if (c.kind === 'aws' || c.kind === 'docker') {
        const outcome = await runInShell(command, withoutAwsOrDocker(env, scratch), scratch);
        const message = outcome.stderr.trimEnd().split('\n').at(-1) ?? '';
        const detail = `${where(c)}\nwithout ${c.kind === 'aws' ? 'AWS' : 'Docker'}: exit ${outcome.status}\n${tail(outcome.stderr)}`;
        expect(outcome.status, detail).not.toBe(0);
        expect(message.trim(), detail).not.toBe('');
        expect(outcome.stderr, detail).not.toMatch(STACK_FRAME);
        process.stderr.write(`[readme] line ${c.line} without ${c.kind}: ${message.trim()}\n`);
      } else {
        const outcome = await runInShell(command, env, scratch);
        if (outcome.status !== 0) {
          throw new Error(
            `${where(c)}\nexited ${outcome.status}; stderr:\n${tail(outcome.stderr)}\nstdout:\n${tail(outcome.stdout, 5)}`,
          );
        }
        env = outcome.env;
      }
      process.stderr.write(
        `[readme] line ${c.line} ok (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
      );
    }
  });
});

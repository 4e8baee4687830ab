/**
 * Runs one of the project's TypeScript entry points (`bin/mlops.ts`, `bin/app.ts`, the
 * `localstack/` scripts) in a child process, as a user's `tsx <file>` does, or any other command,
 * and collects what it prints. For integration tests and benches: the unit tier starts no process.
 *
 * `node --import tsx` rather than the tsx binary: the binary starts Node as its own child, so this
 * costs one Node start-up instead of two, and a signal sent to the child reaches the program.
 * Asynchronous, so a test can serve the CLI from its own event loop (a fake API) while it runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { PROJECT_ROOT } from './project-paths';

export interface EntryPointResult {
  /** The exit code, or null when the process ended by a signal (see `signal`). */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface EntryPointOptions {
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long. @default 60_000 for an entry point, none for another command */
  readonly timeoutMs?: number;
  /** Sees stderr as it grows, and may act on the child (send it a signal). */
  readonly onStderr?: (stderr: string, child: ChildProcess) => void;
}

/** Runs `file` (relative to the project root) with `args`, from the project root. */
export function runEntryPoint(
  file: string,
  args: readonly string[] = [],
  { timeoutMs = 60_000, ...options }: EntryPointOptions = {},
): Promise<EntryPointResult> {
  return runProcess(process.execPath, ['--import', 'tsx', file, ...args], { timeoutMs, ...options });
}

/** Runs any command from the project root, stdin closed; no time limit unless `timeoutMs` is given. */
export function runProcess(
  command: string,
  args: readonly string[],
  { env = process.env, timeoutMs, onStderr }: EntryPointOptions = {},
): Promise<EntryPointResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Decoded as a stream, so a character split across two chunks stays whole.
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      onStderr?.(stderr, child);
    });
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** The `mlops` CLI (bin/mlops.ts) with the given arguments. */
export function mlops(args: readonly string[], options?: EntryPointOptions): Promise<EntryPointResult> {
  return runEntryPoint('bin/mlops.ts', args, options);
}

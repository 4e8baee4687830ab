/**
 * Runs a long command (docker compose, cdklocal) with its output shown line by line as it comes,
 * keeping the last lines so a failure can be reported with its tail and nothing else.
 */
import { spawn } from 'node:child_process';

export interface StreamingResult {
  /** null when the command could not be started or was killed by a signal. */
  readonly exitCode: number | null;
  /** The last `tailLines` lines of stdout and stderr, interleaved as they came. */
  readonly tail: readonly string[];
  /** Set when the command could not be started (e.g. ENOENT). */
  readonly startError?: string;
}

export interface StreamingOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Each non-empty output line, as it arrives. */
  readonly onLine?: (line: string) => void;
  /** @default 60 */
  readonly tailLines?: number;
}

export function runStreaming(
  command: string,
  args: readonly string[],
  options: StreamingOptions = {},
): Promise<StreamingResult> {
  const keep = options.tailLines ?? 60;
  const tail: string[] = [];
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = lineSplitter((line) => {
      tail.push(line);
      if (tail.length > keep) tail.shift();
      options.onLine?.(line);
    });
    const out = collect();
    const err = collect();
    child.stdout.on('data', out.push);
    child.stderr.on('data', err.push);
    child.on('error', (error) => resolve({ exitCode: null, tail, startError: error.message }));
    child.on('close', (code) => {
      out.flush();
      err.flush();
      resolve({ exitCode: code, tail });
    });
  });
}

/** One splitter per stream, so a line split across two chunks is not cut in two. */
function lineSplitter(emit: (line: string) => void) {
  return () => {
    let pending = '';
    return {
      push: (chunk: Buffer) => {
        const text = pending + chunk.toString();
        const lines = text.split(/\r?\n/);
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') emit(stripAnsi(line));
      },
      flush: () => {
        if (pending.trim() !== '') emit(stripAnsi(pending));
        pending = '';
      },
    };
  };
}

// Progress bars and colours of the CDK CLI and compose are noise in a kept tail.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escape sequences is the point
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

function stripAnsi(line: string): string {
  return line.replace(ANSI, '');
}

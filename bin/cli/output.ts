/**
 * How every subcommand talks to people and scripts: progress to stderr, results to stdout, and
 * with --json exactly one JSON line last on stdout. Errors are one clear line, never a stack trace.
 */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    /** 2 for bad arguments or input, 1 for a failure of the work itself. */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface Output {
  readonly json: boolean;
  /** Progress for people (stderr), silent with --json unless verbose. */
  progress(line: string): void;
  /** The human rendering of a result (stdout), skipped with --json. */
  info(text: string): void;
  /** The result: a JSON line with --json, else nothing (the human text was already printed). */
  result(value: unknown): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    progress: (line) => {
      process.stderr.write(`${line}\n`);
    },
    info: (text) => {
      if (!json) process.stdout.write(`${text}\n`);
    },
    result: (value) => {
      if (json) process.stdout.write(`${JSON.stringify(value)}\n`);
    },
  };
}

/** Renders rows as an aligned plain-text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

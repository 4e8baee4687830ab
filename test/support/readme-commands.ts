/**
 * The commands of the README's ```bash blocks, in the order a reader meets them, for
 * test/integration/readme-script.test.ts, which runs them on the local stack.
 *
 * How the README marks what the test cannot simply run (markers are part of the README's text):
 *
 * - A trailing comment starting with `needs AWS` or `needs Docker`
 *   (`npx cdk deploy MlopsStack-dev …   # needs AWS: …`): the command needs an AWS account or a
 *   Docker engine. The test runs it without either and expects it to fail with a clear message:
 *   an exit code other than 0 and no stack trace.
 * - A trailing `&` (`MODEL_NAME=weather-classifier npm run serve &`): a long-running command, as a
 *   reader starts it in the background. The test starts it, waits until it prints its address
 *   (`http://…`), and stops it when the README is done.
 * - An HTML comment `<!-- readme-test: aws -->` or `<!-- readme-test: docker -->` on the line
 *   before a block: as the trailing comment, for every command of the block (for blocks whose
 *   lines should stay as they are).
 * - An HTML comment `<!-- readme-test: skip <reason> -->` on the line before a block: the block is
 *   not run, for the reason given (`npm test` is the suite itself; `local:deploy` takes minutes and
 *   has its own test). The reason is required.
 *
 * Everything else is run and must exit 0. A command is one line; a line ending in `\`, or with a
 * quote still open, continues on the next, and a here-document (`<<'EOF'` … `EOF`) belongs to the line that opens it. Lines that
 * are only a comment are not commands. Other fences (```json, ```python, ```mermaid) are not run.
 */

export type ReadmeCommandKind = 'run' | 'background' | 'aws' | 'docker' | 'skip';

export interface ReadmeCommand {
  /** The shell text to run: without its trailing comment, and for a background command without its `&`. */
  readonly command: string;
  /** The command as the README writes it, comment included. */
  readonly text: string;
  /** 1-based line in the README where the command starts. */
  readonly line: number;
  /** The nearest heading above it. */
  readonly section: string;
  readonly kind: ReadmeCommandKind;
  /** Why a block is skipped (`skip`), from its marker. */
  readonly reason?: string;
}

export class ReadmeFormatError extends Error {
  override name = 'ReadmeFormatError';
  constructor(line: number, message: string) {
    super(`README line ${line}: ${message}`);
  }
}

const FENCE = /^```(\S*)\s*$/;
const MARKER = /^<!--\s*readme-test:\s*(\S+)\s*(.*?)\s*-->\s*$/;
const HEREDOC = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/;

export function readmeCommands(markdown: string): ReadmeCommand[] {
  const lines = markdown.split('\n');
  const commands: ReadmeCommand[] = [];
  let section = '';
  let marker: { kind: string; reason: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) {
      section = (heading[1] as string).trim();
      continue;
    }
    const found = MARKER.exec(line.trim());
    if (found) {
      marker = { kind: found[1] as string, reason: found[2] as string, line: i + 1 };
      if (!['skip', 'aws', 'docker'].includes(marker.kind)) {
        throw new ReadmeFormatError(
          i + 1,
          `unknown readme-test marker "${marker.kind}" (known: skip, aws, docker)`,
        );
      }
      if (marker.kind === 'skip' && marker.reason === '') {
        throw new ReadmeFormatError(i + 1, 'a readme-test skip marker needs a reason');
      }
      continue;
    }
    const fence = FENCE.exec(line);
    if (!fence) {
      if (line.trim() !== '' && marker) {
        throw new ReadmeFormatError(marker.line, 'a readme-test marker must be right before a ```bash block');
      }
      continue;
    }
    const language = fence[1] as string;
    const end = lines.findIndex((candidate, j) => j > i && /^```\s*$/.test(candidate));
    if (end < 0) throw new ReadmeFormatError(i + 1, 'a code block is not closed');
    if (marker && language !== 'bash') {
      throw new ReadmeFormatError(marker.line, 'a readme-test marker must be right before a ```bash block');
    }
    if (language === 'bash') {
      for (const command of blockCommands(lines, i + 1, end, section)) {
        if (marker?.kind === 'skip') commands.push({ ...command, kind: 'skip', reason: marker.reason });
        else if (marker) commands.push({ ...command, kind: marker.kind as 'aws' | 'docker' });
        else commands.push(command);
      }
    }
    marker = undefined;
    i = end;
  }
  return commands;
}

/** The commands of the block's body, lines `from` (inclusive) to `to` (exclusive, the closing fence). */
function blockCommands(lines: readonly string[], from: number, to: number, section: string): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  for (let i = from; i < to; i++) {
    const first = lines[i] as string;
    if (first.trim() === '' || first.trim().startsWith('#')) continue;
    const start = i;
    const parts = [first];
    while (continues(parts.join('\n')) && i + 1 < to) parts.push(lines[++i] as string);
    const heredoc = HEREDOC.exec(parts.join('\n'));
    if (heredoc) {
      const terminator = heredoc[2] as string;
      let closed = false;
      while (i + 1 < to) {
        const next = lines[++i] as string;
        parts.push(next);
        if (next.trim() === terminator) {
          closed = true;
          break;
        }
      }
      if (!closed) throw new ReadmeFormatError(start + 1, `the here-document is not closed by ${terminator}`);
    }
    const text = parts.join('\n');
    const [head, ...rest] = parts;
    const { code, comment } = splitComment(head as string);
    const body = [code, ...rest].join('\n').trimEnd();
    const background = !heredoc && /(^|[^&])&$/.test(body);
    const needs = /^needs (AWS|Docker)\b/.exec(comment ?? '');
    const kind: ReadmeCommandKind = needs
      ? needs[1] === 'AWS'
        ? 'aws'
        : 'docker'
      : background
        ? 'background'
        : 'run';
    commands.push({
      command: background ? body.slice(0, -1).trimEnd() : body,
      text,
      line: start + 1,
      section,
      kind,
    });
  }
  return commands;
}

/** The command goes on on the next line: it ends in `\`, or a quote is still open. */
function continues(text: string): boolean {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quote) {
      if (char === '\\' && quote === '"') i++;
      else if (char === quote) quote = undefined;
    } else if (char === '\\') {
      if (i === text.length - 1) return true;
      i++;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '#' && (i === 0 || /\s/.test(text[i - 1] as string))) {
      // A comment runs to the end of its line.
      const end = text.indexOf('\n', i);
      if (end < 0) break;
      i = end;
    }
  }
  return quote !== undefined;
}

/**
 * A line's code and its trailing comment: a `#` after whitespace, outside quotes (`${#x}`, `a#b`
 * and `'# not a comment'` stay code).
 */
export function splitComment(line: string): { code: string; comment?: string } {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quote) {
      if (char === '\\' && quote === '"') i++;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '\\') {
      i++;
      continue;
    }
    if (char === "'" || char === '"') quote = char;
    else if (char === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) {
      return { code: line.slice(0, i).trimEnd(), comment: line.slice(i + 1).trim() };
    }
  }
  return { code: line.trimEnd() };
}

export interface ThisRun {
  /** MLOPS_LOCAL_DIR when it is not the default `.local/` of the checkout. */
  readonly localDir?: string;
  /** The port the README's `npm run serve` listens on in this run (the README's is 3000). */
  readonly predictPort?: number;
}

/**
 * The README is written for the default set-up: the local state in `.local/`, the predict API on
 * port 3000. A test run may use other places (its own MLOPS_LOCAL_DIR, a free port, so parallel
 * runs do not collide): this rewrites exactly those two things in a command, nothing else.
 */
export function forThisRun(command: string, run: ThisRun): string {
  let out = command;
  if (run.localDir !== undefined) {
    const dir = run.localDir.replace(/\/+$/, '');
    out = out.replace(/(^|[\s'"=(])\.local\//g, (_match, before: string) => `${before}${dir}/`);
  }
  if (run.predictPort !== undefined) {
    out = out.replace(
      /\b(127\.0\.0\.1|localhost):3000\b/g,
      (_match, host: string) => `${host}:${run.predictPort}`,
    );
  }
  return out;
}

/**
 * The README's commands as test/integration/readme-script.test.ts runs them: how a block's lines
 * become commands and markers become kinds (test/support/readme-commands.ts), and that the README
 * itself tells the newcomer's story in order, with every skip explained.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/project-paths';
import { forThisRun, readmeCommands, splitComment } from '../support/readme-commands';

const fence = (language: string, ...lines: string[]) => [`\`\`\`${language}`, ...lines, '```'].join('\n');

describe('readmeCommands', () => {
  it('takes each line of a bash block as a command, with its section and line, leaving out comment lines', () => {
    const markdown = [
      '# Title',
      '## Quick start',
      fence('bash', 'npm run demo      # the whole lifecycle', '', '# a comment line', 'npm run local:up'),
    ].join('\n');
    expect(readmeCommands(markdown)).toEqual([
      {
        command: 'npm run demo',
        text: 'npm run demo      # the whole lifecycle',
        line: 4,
        section: 'Quick start',
        kind: 'run',
      },
      { command: 'npm run local:up', text: 'npm run local:up', line: 7, section: 'Quick start', kind: 'run' },
    ]);
  });

  it('runs only bash blocks', () => {
    const markdown = [
      fence('json', '{"a": 1}'),
      fence('python', 'print(1)'),
      fence('', 'ls'),
      fence('bash', 'ls'),
    ].join('\n');
    expect(readmeCommands(markdown).map((c) => c.command)).toEqual(['ls']);
  });

  it('joins continued lines, open quotes and here-documents into one command', () => {
    const markdown = fence(
      'bash',
      'curl -s localhost:3000/predict \\',
      "  -d '{}'   # bash's comment, on the last line",
      'curl -d \'{"a": {',
      '  "b": 1}}\'',
      "cat > c.json <<'EOF'",
      '[{"name": "a # b"}]',
      'EOF',
      'echo done',
    );
    const commands = readmeCommands(markdown);
    expect(commands.map((c) => [c.line, c.command])).toEqual([
      [2, "curl -s localhost:3000/predict \\\n  -d '{}'   # bash's comment, on the last line"],
      [4, 'curl -d \'{"a": {\n  "b": 1}}\''],
      [6, 'cat > c.json <<\'EOF\'\n[{"name": "a # b"}]\nEOF'],
      [9, 'echo done'],
    ]);
  });

  it('marks needs AWS / needs Docker comments, and a trailing & as a background command', () => {
    const markdown = fence(
      'bash',
      'npx cdk bootstrap   # needs AWS: once per account',
      'docker compose up   # needs Docker',
      'MODEL_NAME=m npm run serve &   # in the background',
      'a && b',
      'echo "# needs AWS"',
    );
    expect(readmeCommands(markdown).map((c) => [c.kind, c.command])).toEqual([
      ['aws', 'npx cdk bootstrap'],
      ['docker', 'docker compose up'],
      ['background', 'MODEL_NAME=m npm run serve'],
      ['run', 'a && b'],
      ['run', 'echo "# needs AWS"'],
    ]);
  });

  it('marks every command of a block after an aws or docker marker', () => {
    const markdown = ['<!-- readme-test: aws -->', fence('bash', 'a', 'b'), fence('bash', 'c')].join('\n');
    expect(readmeCommands(markdown).map((c) => [c.kind, c.command])).toEqual([
      ['aws', 'a'],
      ['aws', 'b'],
      ['run', 'c'],
    ]);
  });

  it('skips a block after a skip marker, with its reason', () => {
    const markdown = [
      '<!-- readme-test: skip the suite itself -->',
      fence('bash', 'npm test'),
      fence('bash', 'ls'),
    ].join('\n');
    expect(readmeCommands(markdown).map((c) => [c.kind, c.command, c.reason])).toEqual([
      ['skip', 'npm test', 'the suite itself'],
      ['run', 'ls', undefined],
    ]);
  });

  it('refuses a marker without a reason, an unknown one, or one not before a bash block, naming the line', () => {
    expect(() => readmeCommands(['<!-- readme-test: skip -->', fence('bash', 'ls')].join('\n'))).toThrow(
      'README line 1: a readme-test skip marker needs a reason',
    );
    expect(() => readmeCommands(['<!-- readme-test: cloud -->', fence('bash', 'ls')].join('\n'))).toThrow(
      'README line 1: unknown readme-test marker "cloud"',
    );
    expect(() =>
      readmeCommands(['<!-- readme-test: skip why -->', 'text', fence('bash', 'ls')].join('\n')),
    ).toThrow('README line 1: a readme-test marker must be right before a ```bash block');
    expect(() => readmeCommands(['```bash', 'ls'].join('\n'))).toThrow(
      'README line 1: a code block is not closed',
    );
    expect(() => readmeCommands(fence('bash', "cat > f <<'EOF'", 'x'))).toThrow(
      'README line 2: the here-document is not closed by EOF',
    );
  });
});

describe('splitComment', () => {
  it('splits at a # after whitespace outside quotes', () => {
    expect(splitComment('npx mlops status   # aliases')).toEqual({
      code: 'npx mlops status',
      comment: 'aliases',
    });
    const length = '$' + '{#x}'; // bash's length of x, not a comment
    expect(splitComment(`echo '# no' a#b ${length}`)).toEqual({ code: `echo '# no' a#b ${length}` });
    expect(splitComment('echo "a \\" # still quoted" # yes')).toEqual({
      code: 'echo "a \\" # still quoted"',
      comment: 'yes',
    });
  });
});

describe('forThisRun', () => {
  it('moves .local/ to the run’s MLOPS_LOCAL_DIR and port 3000 to the run’s port, nothing else', () => {
    const run = { localDir: '/tmp/x-local/', predictPort: 43123 };
    expect(forThisRun('. .local/env', run)).toBe('. /tmp/x-local/env');
    expect(forThisRun('cat .local/mlflow-auth.json', run)).toBe('cat /tmp/x-local/mlflow-auth.json');
    expect(forThisRun('npx mlops status --api http://127.0.0.1:3000', run)).toBe(
      'npx mlops status --api http://127.0.0.1:43123',
    );
    expect(forThisRun('curl localhost:3000/predict', run)).toBe('curl localhost:43123/predict');
    expect(forThisRun('ls my.local/x localhost:30001', run)).toBe('ls my.local/x localhost:30001');
    expect(forThisRun('. .local/env', {})).toBe('. .local/env');
  });
});

describe("the README's commands", () => {
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const commands = readmeCommands(readme);
  const run = commands.filter((c) => c.kind !== 'skip');

  it("tell the newcomer's story in order: land, pipelines, train, promote, serve, move the alias, roll back, monitor, drift report", () => {
    const steps: [string, RegExp][] = [
      ['the demo', /^npm run demo$/],
      ['contract infer', /mlops contract infer /],
      ['land', /mlops land /],
      ['run data', /mlops run data /],
      ['run train', /mlops run train /],
      ['promote', /mlops promote /],
      ['serve', /npm run serve/],
      ['move the alias', /mlops promote /],
      ['roll back', /mlops rollback /],
      ['monitor', /mlops run monitor /],
      ['drift report', /mlops drift report /],
    ];
    let at = -1;
    for (const [step, pattern] of steps) {
      const next = run.findIndex((c, i) => i > at && pattern.test(c.command));
      expect(next, `${step} (${pattern}) after README line ${run[at]?.line ?? 0}`).toBeGreaterThan(at);
      at = next;
    }
  });

  it('start every long-running command in the background, and nothing else', () => {
    const background = run.filter((c) => c.kind === 'background').map((c) => c.command);
    expect(background.length).toBeGreaterThan(0);
    for (const command of background) expect(command).toMatch(/npm run serve$/);
    for (const c of run.filter((c) => c.kind === 'run'))
      expect(c.command, `line ${c.line}`).not.toMatch(/npm run serve$/);
  });

  it('explain every skipped block, and a skip that names a test names one that exists', () => {
    const skipped = commands.filter((c) => c.kind === 'skip');
    for (const c of skipped) {
      expect(c.reason, `line ${c.line}`).toBeTruthy();
      for (const file of c.reason?.match(/test\/[\w/.-]+\.test\.ts/g) ?? []) {
        expect(existsSync(path.join(PROJECT_ROOT, file)), `line ${c.line}: ${file}`).toBe(true);
      }
    }
    // Skipping is the exception: the commands a newcomer follows all run.
    expect(skipped.length).toBeLessThan(commands.length / 4);
  });

  it('use no placeholder file a reader would have to make up', () => {
    for (const c of run.filter((c) => c.kind === 'run')) {
      expect(c.command, `line ${c.line}`).not.toMatch(
        /\b(sales|ref|new|customers)\.(csv|parquet|json)\b|<[a-z-]+>/,
      );
    }
  });
});

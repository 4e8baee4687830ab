/**
 * The `mlops` launcher (package.json "bin": bin/mlops.mjs) as a user's shell starts it: `--help`
 * and `--version` from the prebuilt bundle, the same text as the TypeScript entry; every other
 * command, and a bundle older than the program, through tsx. The timing is a benchmark
 * (bench/cli-help.ts), not asserted here.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../localstack/services/services';
import { mlops, runProcess } from '../support/entry-point';

const BUNDLE = join(ROOT, 'dist', 'cli', 'mlops.mjs');
const launcher = (args: string[]) =>
  runProcess(process.execPath, ['bin/mlops.mjs', ...args], { timeoutMs: 60_000 });

describe('bin/mlops.mjs', () => {
  beforeAll(() => {
    const build = spawnSync(process.execPath, ['bin/build-cli.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
  });

  it('builds a bundle git ignores, without the subcommand modules', () => {
    const ignored = spawnSync('git', ['check-ignore', '-q', BUNDLE], { cwd: ROOT });
    expect(ignored.status).toBe(0);
    const text = readFileSync(BUNDLE, 'utf8');
    expect(text).toContain('import("./land-command")');
    expect(text).not.toContain('registerLand(program');
  });

  it('prints the same help and version as bin/mlops.ts, from the bundle', async () => {
    const [fast, slow, version] = await Promise.all([
      launcher(['--help']),
      mlops(['--help']),
      launcher(['--version']),
    ]);
    expect(fast.status, fast.stderr).toBe(0);
    expect(fast.stdout).toBe(slow.stdout);
    expect(fast.stdout).toMatch(/^ {2}land \[options\] <file> +put a data file/m);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout).toBe(`${pkg.version}\n`);
  });

  it('runs a command through tsx, with its exit code and one-line errors', async () => {
    const infer = await launcher(['contract', 'infer', 'lambdas/core/datasets/iris/iris.csv']);
    expect(infer.status, infer.stderr).toBe(0);
    expect(JSON.parse(infer.stdout)).toMatchObject({
      name: 'iris',
      task: 'classification',
      target: 'species',
    });
    const refused = await launcher(['land', 'nowhere.txt', '--dataset', 'x']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^mlops: <file>: nowhere\.txt: cannot tell the data format/);
  });

  it('does not use a bundle older than the program: --help then goes through tsx', async () => {
    const program = statSync(join(ROOT, 'bin/cli/program.ts')).mtime;
    const old = new Date(program.getTime() - 60_000);
    utimesSync(BUNDLE, old, old);
    try {
      const help = await launcher(['--help']);
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/^Usage: mlops/);
    } finally {
      const build = spawnSync(process.execPath, ['bin/build-cli.mjs'], { cwd: ROOT });
      expect(build.status).toBe(0);
    }
  });
});

/**
 * The `mlops` CLI as a user runs it, on arguments it refuses before reaching any service: one
 * line on stderr, exit code 2, no stack trace. The parsing and rendering behind these lines are
 * unit-tested in test/unit/lifecycle-cli.test.ts and test/unit/run-command.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mlops } from '../support/entry-point';

const withoutMlflow = (): NodeJS.ProcessEnv => {
  const { MLFLOW_TRACKING_URI: _unset, ...env } = process.env;
  return env;
};

describe('mlops CLI', () => {
  it('lists its subcommands with --help', async () => {
    const result = await mlops(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('local');
  });

  it('prints the package version with --version and -V', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await mlops([flag]);
      expect(result.status).toBe(0);
      expect(result.stdout.trim()).toBe(version);
    }
  });

  it('rejects an unknown command with exit code 2 and a pointer to --help', async () => {
    const result = await mlops(['deploy-everything']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown command 'deploy-everything'");
    expect(result.stderr).toContain('--help');
  });

  it('names the bad option value in one line, without a stack trace', async () => {
    const result = await mlops(['local', 'up', '--store', 'mysql']);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe('mlops: --store must be postgres or sqlite, got "mysql"');
  });
});

describe('mlops train', () => {
  it('rejects a bad option value in one line with exit code 2', async () => {
    const result = await mlops(['train', '--dataset', 'iris', '--promote', 'always']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'mlops: --promote must be one of none, challenger, production, got "always"\n',
    );
  });

  it('says MLFLOW_TRACKING_URI is missing before reading any data', async () => {
    const result = await mlops(['train', '--dataset', 'iris'], { env: withoutMlflow() });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'mlops: MLFLOW_TRACKING_URI is required: the MLflow tracking server URL, e.g. http://127.0.0.1:5000\n',
    );
  });

  it('requires --dataset', async () => {
    const result = await mlops(['train']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("required option '--dataset <name-or-path>' not specified");
  });
});

describe('mlops promote / rollback / status arguments', () => {
  it('rejects bad arguments and a missing MLFLOW_TRACKING_URI in one line with exit code 2', async () => {
    const [badVersion, badAlias, noTracking, help] = await Promise.all([
      mlops(['promote', 'iris', 'two']),
      mlops(['rollback', 'iris', '--alias', 'prod/1']),
      mlops(['status'], { env: withoutMlflow() }),
      mlops(['status', '--help']),
    ]);
    expect(badVersion).toMatchObject({
      status: 2,
      stderr: "mlops: version must be a positive integer, got 'two'\n",
    });
    expect(badAlias).toMatchObject({
      status: 2,
      stderr: "mlops: alias must be 1 to 255 letters, digits, '_' or '-', got 'prod/1'\n",
    });
    expect(noTracking.status).toBe(2);
    expect(noTracking.stderr).toBe(
      'mlops: MLFLOW_TRACKING_URI is required: the MLflow tracking server URL, e.g. http://127.0.0.1:5000\n',
    );
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: mlops status [options] [model]');
    expect(help.stdout).toContain('--api <url>');
  });
});

describe('mlops run', () => {
  it('explains itself with --help, examples included', async () => {
    const result = await mlops(['run', '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: mlops run [options] <pipeline>');
    expect(result.stdout).toContain('$ mlops run data --bundled iris');
    expect(result.stdout).toContain('--aws');
  });

  it('refuses an unknown pipeline in one line with exit 2', async () => {
    const result = await mlops(['run', 'deploy']);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      'mlops: unknown pipeline "deploy": use one of data, train, infer, monitor (data → data pipeline, train → training, infer → inference, monitor → monitoring)',
    );
  });

  it('names a misplaced option before touching any service', async () => {
    const result = await mlops(['run', 'train', '--aws', '--promote', 'production']);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      "mlops: --promote applies to local runs only: the deployed pipeline takes it from the stack's configuration (cdk -c)",
    );
    expect(result.stdout).toBe('');
  });
});

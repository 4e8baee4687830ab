import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function mlops(...args: string[]) {
  return spawnSync('tsx', ['bin/mlops.ts', ...args], { encoding: 'utf8' });
}

describe('mlops CLI', () => {
  it('lists its subcommands with --help', () => {
    const result = mlops('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('local');
  });

  it('rejects an unknown command with exit code 2 and a pointer to --help', () => {
    const result = mlops('deploy-everything');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown command 'deploy-everything'");
    expect(result.stderr).toContain('--help');
  });

  it('names the bad option value in one line, without a stack trace', () => {
    const result = mlops('local', 'up', '--store', 'mysql');
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe('mlops: --store must be postgres or sqlite, got "mysql"');
  });
});

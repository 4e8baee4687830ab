import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `mlops local up` (npm run local:up) twice, then `mlops local down`, on a second set of ports and its own
// state directory, so the shared services the other tests use are left alone.
const dir = mkdtempSync(join(tmpdir(), 'mlops-local-'));
chmodSync(dir, 0o755); // as root, Postgres runs as the postgres user and must reach its data dir
const ports = { MLOPS_MLFLOW_PORT: '5211', MLOPS_AWS_PORT: '4711', MLOPS_POSTGRES_PORT: '55611' };
const env = { ...process.env, ...ports, MLOPS_LOCAL_DIR: dir };

function localServices(...args: string[]) {
  return spawnSync('tsx', ['bin/mlops.ts', 'local', ...args], {
    env,
    encoding: 'utf8',
    timeout: 240_000,
  });
}

function portOpen(port: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

afterAll(() => {
  localServices('down');
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run local:up / local:down', () => {
  it('starts everything, reuses it on a second run, and stops every process', async () => {
    const first = localServices('up', '--json');
    expect(first.status, first.stderr).toBe(0);
    const endpoints = JSON.parse(first.stdout.trim().split('\n').pop() ?? '{}') as Record<string, string>;
    expect(endpoints).toMatchObject({
      MLFLOW_TRACKING_URI: 'http://127.0.0.1:5211',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4711',
      DATABASE_URL: 'postgresql://mlflow@127.0.0.1:55611/mlflow',
    });
    expect(readFileSync(join(dir, 'env'), 'utf8')).toContain(
      "export MLFLOW_TRACKING_URI='http://127.0.0.1:5211'",
    );
    const pids = ['mlflow', 'aws'].map((name) =>
      Number(readFileSync(join(dir, 'pids', `${name}.pid`), 'utf8')),
    );

    const second = localServices('up');
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain('postgres already up');
    expect(second.stderr).toContain('mlflow already up');
    // Reused, not restarted: the same processes.
    expect(
      ['mlflow', 'aws'].map((name) => Number(readFileSync(join(dir, 'pids', `${name}.pid`), 'utf8'))),
    ).toEqual(pids);

    const stopped = localServices('down');
    expect(stopped.status, stopped.stderr).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    for (const port of Object.values(ports)) expect(await portOpen(port)).toBe(false);
    expect(existsSync(join(dir, 'postgres', 'postmaster.pid'))).toBe(false);
  });
});

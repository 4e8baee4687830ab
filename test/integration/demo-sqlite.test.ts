/**
 * `npm run demo -- --store sqlite --json` on a machine where nothing runs yet: the demo starts its
 * own services, MLflow on SQLite (without --store it would take Postgres where installed, the rule
 * of `npm run local:up`, so that one after the demo keeps its store). It gets ports and a local directory of its own
 * (MLOPS_*), so it never touches the services the other integration files share. Afterwards the
 * MLflow store is checked to really be that SQLite file, the services are stopped with
 * `local:down`, and no process of theirs may remain.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient } from '../../lambdas/core/mlflow';
import { ROOT, readMlflowCredentials } from '../../localstack/services/services';

interface DemoJson {
  dataset: { rows: number; quarantined: number; version: string };
  training: { model: string; version: string; candidates: number };
  predict: { ok: boolean; version_before: string; version_after: string; followed_alias: boolean };
  inference: { rows: number };
  monitoring: { drift_metric: string; value: number; threshold: number; alert_sent: boolean };
}

/** A port nothing listens on now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error()),
      );
    });
  });
}

const localDir = mkdtempSync(join(tmpdir(), 'demo-sqlite-'));
let ports: { mlflow: number; aws: number; postgres: number };
let env: NodeJS.ProcessEnv;

/** The env of a user's shell that has never sourced .local/env: no endpoints of the shared services. */
function ownEnv(): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(AWS_|MLFLOW_|DATABASE_URL$)/.test(key)),
  );
  return {
    ...base,
    MLOPS_LOCAL_DIR: localDir,
    MLOPS_MLFLOW_PORT: String(ports.mlflow),
    MLOPS_AWS_PORT: String(ports.aws),
    MLOPS_POSTGRES_PORT: String(ports.postgres),
  };
}

function runDemo(): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    // process.execPath: the Node 22 vitest runs on, as `npx tsx` would pick from node_modules/.bin.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'localstack/demo/demo.ts', '--store', 'sqlite', '--json'],
      {
        cwd: ROOT,
        env,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, stdout }));
  });
}

function localDown() {
  return spawnSync(process.execPath, ['--import', 'tsx', 'bin/mlops.ts', 'local', 'down'], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const pidOf = (name: string) => Number(readFileSync(join(localDir, 'pids', `${name}.pid`), 'utf8').trim());

/** True while any process of the group (the service and its workers) is alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line names this test's directory or ports (Linux /proc). */
function processesOfThisRun(): string[] {
  if (!existsSync('/proc')) return [];
  const marks = [localDir, `--port ${ports.mlflow}`, `--port ${ports.aws}`];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
        return marks.some((mark) => cmdline.includes(mark)) ? [`${pid}: ${cmdline}`] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
}

let demo: { code: number | null; stderr: string; stdout: string };
let summary: DemoJson;
let pids: { mlflow: number; aws: number };

beforeAll(async () => {
  ports = { mlflow: await freePort(), aws: await freePort(), postgres: await freePort() };
  env = ownEnv();
  const started = performance.now();
  demo = await runDemo();
  console.info(`demo on fresh SQLite services: ${((performance.now() - started) / 1000).toFixed(0)}s`);
  if (existsSync(join(localDir, 'pids'))) pids = { mlflow: pidOf('mlflow'), aws: pidOf('aws') };
  const last = demo.stdout.trimEnd().split('\n').at(-1) ?? '';
  try {
    summary = JSON.parse(last) as DemoJson;
  } catch {
    throw new Error(`the demo printed no JSON line (exit ${demo.code}):\n${demo.stderr.slice(-3000)}`);
  }
}, 270_000);

afterAll(() => {
  // Also when a test failed half-way: never leave this run's services behind.
  if (env) localDown();
  rmSync(localDir, { recursive: true, force: true });
});

describe('npm run demo -- --store sqlite --json on fresh services', () => {
  it('starts its own services with MLflow on SQLite and exits 0', () => {
    expect(demo.code, demo.stderr.slice(-3000)).toBe(0);
    expect(demo.stderr).toContain('local services (MLflow on sqlite):');
    expect(demo.stderr).toContain(`starting mlflow on http://127.0.0.1:${ports.mlflow} (sqlite store`);
    expect(demo.stderr).toContain(
      `starting the local AWS endpoint (moto server) on http://127.0.0.1:${ports.aws}`,
    );
  });

  it('prints the summary line: 150 rows, 3 quarantined, v1 → v2 followed, alert sent', () => {
    expect(summary.dataset).toMatchObject({ rows: 150, quarantined: 3 });
    expect(summary.dataset.version).toMatch(/^sha256-[0-9a-f]+$/);
    expect(summary.training).toMatchObject({ version: '2', candidates: 3 });
    expect(summary.predict).toEqual({
      ok: true,
      version_before: '1',
      version_after: '2',
      followed_alias: true,
    });
    expect(summary.inference.rows).toBe(150);
    expect(summary.monitoring).toMatchObject({
      drift_metric: 'share_drifted',
      threshold: 0.2,
      alert_sent: true,
    });
  });

  it('ran MLflow with its backend store in the SQLite file of its local directory, and no Postgres', () => {
    const cmdline = readFileSync(`/proc/${pids.mlflow}/cmdline`, 'utf8').split('\0');
    const store = cmdline[cmdline.indexOf('--backend-store-uri') + 1];
    expect(store).toBe(`sqlite:///${join(localDir, 'mlflow.db')}`);
    expect(readFileSync(join(localDir, 'mlflow-store'), 'utf8')).toBe('sqlite');
    expect(existsSync(join(localDir, 'postgres'))).toBe(false);
  });

  it('registered the model in MLflow on its port, and the SQLite file holds it', async () => {
    // The demo's MLflow asks for basic auth: the pipelines' user of its own state directory.
    const mlflow = MlflowClient.fromEnv({
      MLFLOW_TRACKING_URI: `http://127.0.0.1:${ports.mlflow}`,
      MLFLOW_TRACKING_USERNAME: 'pipelines',
      MLFLOW_TRACKING_PASSWORD: readMlflowCredentials(localDir)?.pipelinesPassword,
    });
    const { model, version } = summary.training;
    expect((await mlflow.getModelVersionByAlias(model, 'Production')).version).toBe(version);
    expect((await mlflow.getModelVersionByAlias(model, 'Challenger')).version).toBe('1');

    const db = new DatabaseSync(join(localDir, 'mlflow.db'), { readOnly: true });
    try {
      const versions = db
        .prepare('SELECT version FROM model_versions WHERE name = ? ORDER BY version')
        .all(model)
        .map((row) => String(row.version));
      expect(versions).toEqual(['1', '2']);
      const alias = db
        .prepare('SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?')
        .get(model, 'Production');
      expect(String(alias?.version)).toBe(version);
    } finally {
      db.close();
    }
  });

  it('stops its services with local:down and leaves no process behind', () => {
    expect(groupAlive(pids.mlflow) && groupAlive(pids.aws)).toBe(true);
    const down = localDown();
    expect(down.status, down.stderr).toBe(0);
    expect(down.stderr).toContain(`stopping mlflow (pid ${pids.mlflow})`);
    expect(groupAlive(pids.mlflow)).toBe(false);
    expect(groupAlive(pids.aws)).toBe(false);
    expect(processesOfThisRun()).toEqual([]);
  });
});

/**
 * Local stack memory: the resident memory of what `npm run local:up` starts (Postgres, the AWS
 * endpoint, MLflow, each with all its child processes), beside the anchor, MLflow as `mlflow
 * server` starts by default (its job runner on, its default workers), in one run.
 *
 *   npx tsx bench/local-stack.ts
 *
 * It starts a fresh stack in its own state directory on free ports (so a running `local:up` is left
 * alone), lets it settle, drives a small tracking and registry workload through it, then reads
 * /proc: RSS (what `ps` and the issue's 2.8 GB figure count, shared pages counted in every process)
 * and PSS (shared pages split between their processes, the honest total). Everything it started is
 * stopped at the end. Writes bench/results/local-stack.json and a line in bench/results/README.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const SETTLE_MS = 15_000;
const TARGET_MB = 1024;

// ---------------------------------------------------------------- /proc

interface ProcessMemory {
  readonly pid: number;
  readonly command: string;
  readonly rssKb: number;
  readonly pssKb: number;
}

function parentsByPid(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command may hold spaces and parentheses: the fields after its last ')' are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // gone while listing
    }
  }
  return parents;
}

/** The process and all its descendants. */
function tree(root: number): number[] {
  const parents = parentsByPid();
  const found = [root];
  for (let i = 0; i < found.length; i++) {
    for (const [pid, parent] of parents) if (parent === found[i]) found.push(pid);
  }
  return found.filter((pid) => existsSync(`/proc/${pid}`));
}

function memoryOf(pid: number): ProcessMemory | undefined {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, command: command.slice(0, 160), rssKb: kb('Rss'), pssKb: kb('Pss') };
  } catch {
    return undefined;
  }
}

interface TierMemory {
  readonly processes: number;
  readonly rss_mb: number;
  readonly pss_mb: number;
  readonly commands: readonly string[];
}

function measure(root: number): TierMemory {
  const members = tree(root)
    .map(memoryOf)
    .filter((m): m is ProcessMemory => m !== undefined);
  const mb = (kb: number) => Math.round(kb / 102.4) / 10;
  return {
    processes: members.length,
    rss_mb: mb(members.reduce((sum, m) => sum + m.rssKb, 0)),
    pss_mb: mb(members.reduce((sum, m) => sum + m.pssKb, 0)),
    commands: members.map((m) => `${m.pid} ${(m.rssKb / 1024).toFixed(0)} MB ${m.command}`),
  };
}

// ---------------------------------------------------------------- services

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function pidIn(file: string): number {
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]?.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid in ${file}`);
  return pid;
}

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

/** A server still starting its workers may drop a connection: retried for up to a minute. */
async function fetchRetrying(url: string, init: RequestInit): Promise<Response> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await fetch(url, init);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** A small tracking + registry workload: what the stack holds after a few minutes of use. */
async function workload(trackingUri: string, headers: Record<string, string>): Promise<void> {
  const call = async (method: string, endpoint: string, body?: unknown) => {
    const response = await fetchRetrying(`${trackingUri}/api/2.0/mlflow/${endpoint}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${endpoint}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<Record<string, unknown>>;
  };
  const name = `bench-local-stack-${Date.now()}`;
  const { experiment_id } = (await call('POST', 'experiments/create', { name })) as { experiment_id: string };
  await call('POST', 'registered-models/create', { name });
  for (let i = 0; i < 20; i++) {
    const { run } = (await call('POST', 'runs/create', { experiment_id, start_time: Date.now() })) as {
      run: { info: { run_id: string; artifact_uri: string } };
    };
    await call('POST', 'runs/log-batch', {
      run_id: run.info.run_id,
      metrics: Array.from({ length: 50 }, (_, k) => ({
        key: `m${k}`,
        value: k * i,
        timestamp: Date.now(),
        step: 0,
      })),
      params: [{ key: 'i', value: String(i) }],
    });
    if (i % 5 === 0) {
      await call('POST', 'model-versions/create', {
        name,
        source: run.info.artifact_uri,
        run_id: run.info.run_id,
      });
    }
    await call('POST', 'runs/update', { run_id: run.info.run_id, status: 'FINISHED', end_time: Date.now() });
  }
  await call('POST', 'runs/search', { experiment_ids: [experiment_id], max_results: 100 });
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlops-bench-stack-'));
  // Run as root, Postgres runs as the postgres user, who must reach its data directory inside.
  chmodSync(dir, 0o755);
  const [postgresPort, awsPort, mlflowPort, anchorPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  Object.assign(process.env, {
    MLOPS_LOCAL_DIR: dir,
    MLOPS_POSTGRES_PORT: String(postgresPort),
    MLOPS_AWS_PORT: String(awsPort),
    MLOPS_MLFLOW_PORT: String(mlflowPort),
  });
  // Imported after the environment is set: the services read it.
  const services = await import('../localstack/services/services');
  const log = (line: string) => process.stderr.write(`[local] ${line}\n`);
  let anchor: ChildProcess | undefined;
  try {
    const env = await services.up({ log });
    // With MLflow's basic auth on, the stack hands out the pipelines' credentials with its endpoints.
    const { MLFLOW_TRACKING_USERNAME: user, MLFLOW_TRACKING_PASSWORD: password } = env as unknown as Record<
      string,
      string | undefined
    >;
    const credentials: Record<string, string> =
      user && password
        ? { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }
        : {};
    await workload(env.MLFLOW_TRACKING_URI, credentials);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const tiers = {
      postgres: measure(pidIn(path.join(dir, 'postgres', 'postmaster.pid'))),
      aws: measure(pidIn(path.join(dir, 'pids', 'aws.pid'))),
      mlflow: measure(pidIn(path.join(dir, 'pids', 'mlflow.pid'))),
    };

    // The anchor: `mlflow server` with its defaults (job runner on, default workers), on SQLite
    // and the same S3 endpoint, measured after the same workload and settling time.
    anchor = spawn(
      path.join(ROOT, 'localstack', '.venv', 'bin', 'mlflow'),
      [
        'server',
        '--host',
        '127.0.0.1',
        '--port',
        String(anchorPort),
        '--backend-store-uri',
        `sqlite:///${path.join(dir, 'anchor.db')}`,
        '--artifacts-destination',
        `s3://${env.MLFLOW_ARTIFACTS_BUCKET}`,
      ],
      {
        stdio: 'ignore',
        detached: true,
        env: {
          ...process.env,
          MLFLOW_S3_ENDPOINT_URL: env.AWS_ENDPOINT_URL,
          AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
          AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
          MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'true',
          MLFLOW_DISABLE_TELEMETRY: 'true',
        },
      },
    );
    const anchorUri = `http://127.0.0.1:${anchorPort}`;
    await waitFor(`${anchorUri}/health`, 180_000);
    await workload(anchorUri, {});
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const anchorMlflow = measure(anchor.pid ?? 0);

    const total = {
      processes: Object.values(tiers).reduce((sum, t) => sum + t.processes, 0),
      rss_mb: Math.round(Object.values(tiers).reduce((sum, t) => sum + t.rss_mb, 0)),
      pss_mb: Math.round(Object.values(tiers).reduce((sum, t) => sum + t.pss_mb, 0)),
    };
    const date = new Date().toISOString().slice(0, 10);
    const result = {
      date,
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      target_mb: TARGET_MB,
      under_target: total.rss_mb < TARGET_MB,
      total,
      tiers,
      anchor: { name: 'mlflow server (defaults: job runner on)', mlflow: anchorMlflow },
    };
    writeFileSync(path.join(RESULTS, 'local-stack.json'), `${JSON.stringify(result, null, 2)}\n`);
    const line =
      `- **local-stack** (${date}, after local:up + 20 runs, 4 versions, ${SETTLE_MS / 1000} s settle): ` +
      `${total.rss_mb} MB RSS (${total.pss_mb} MB PSS) in ${total.processes} processes, ` +
      `${total.rss_mb < TARGET_MB ? 'under' : 'OVER'} the ${TARGET_MB} MB target; ` +
      `MLflow ${tiers.mlflow.rss_mb} MB RSS in ${tiers.mlflow.processes} processes vs ` +
      `${anchorMlflow.rss_mb} MB in ${anchorMlflow.processes} for mlflow server with its defaults ` +
      `(${(anchorMlflow.rss_mb / Math.max(tiers.mlflow.rss_mb, 1)).toFixed(1)}×); ` +
      `Postgres ${tiers.postgres.rss_mb} MB, AWS endpoint ${tiers.aws.rss_mb} MB. Details: local-stack.json`;
    updateReadme(line);
    process.stdout.write(`${line}\n`);
  } finally {
    if (anchor?.pid) {
      try {
        process.kill(-anchor.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await services.down(log);
    rmSync(dir, { recursive: true, force: true });
  }
}

function updateReadme(line: string): void {
  const file = path.join(RESULTS, 'README.md');
  const marker = '- **local-stack**';
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith(marker));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  writeFileSync(file, `${lines.join('\n')}\n${line}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

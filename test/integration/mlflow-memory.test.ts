/**
 * MLflow fits its Fargate task: the exact container entrypoint (docker/mlflow/entrypoint.sh, with
 * the environment lib/mlflow-service.ts gives the dev task: worker count, pool settings, no job
 * runner) runs here against the local Postgres and S3, serves a logging and registry workload,
 * and its whole process tree stays under 70% of the dev task's memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MlflowClient } from '../../lambdas/core/mlflow';
import { loadStageConfig } from '../../lib/config';
import { mlflowWorkers, sqlAlchemyPool } from '../../lib/mlflow-service';
import { PROJECT_ROOT } from '../../lib/mlops-function';
import { VENV_BIN } from '../../localstack/services/local-paths';
import {
  MLFLOW_ADMIN_USER,
  MLFLOW_PIPELINES_USER,
  MLFLOW_READER_USER,
  readMlflowCredentials,
} from '../../localstack/services/mlflow-auth';

const dev = loadStageConfig(() => undefined);
const BUDGET_MIB = 0.7 * dev.mlflow.memoryMiB;

/** The ENV lines of docker/mlflow/Dockerfile: the image sets them for the entrypoint. */
function dockerfileEnv(): Record<string, string> {
  const text = readFileSync(join(PROJECT_ROOT, 'docker/mlflow/Dockerfile'), 'utf8');
  return Object.fromEntries(
    [...text.matchAll(/^ENV\s+([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** RSS of a process and all its descendants, in MiB, from /proc. */
function treeRssMiB(root: number): { mib: number; processes: number } {
  const parents = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      parents.set(Number(entry), Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]));
      rss.set(Number(entry), Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0));
    } catch {
      // The process ended while we looked.
    }
  }
  const tree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (tree.has(parent) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  const kib = [...tree].reduce((sum, pid) => sum + (rss.get(pid) ?? 0), 0);
  return { mib: kib / 1024, processes: tree.size };
}

describe('the MLflow container entrypoint', () => {
  let server: ChildProcess;
  let client: MlflowClient;
  let output = '';
  const samples: { mib: number; processes: number }[] = [];
  let sampler: NodeJS.Timeout;

  beforeAll(async () => {
    const env = inject('localEnv');
    const db = new URL(env.DATABASE_URL);
    // The same auth tables as the local server: its users and passwords, as Secrets Manager gives the task.
    const users = readMlflowCredentials();
    if (!users) throw new Error('the local MLflow has no credentials file: start it with mlops local up');
    const port = await freePort();
    server = spawn('sh', [join(PROJECT_ROOT, 'docker/mlflow/entrypoint.sh')], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: `${VENV_BIN}:${process.env.PATH}`,
        HOME: process.env.HOME,
        ...dockerfileEnv(),
        // What lib/mlflow-service.ts sets on the dev task (the secrets come from Secrets Manager there).
        DB_HOST: db.hostname,
        DB_PORT: db.port,
        DB_NAME: db.pathname.slice(1),
        DB_USER: decodeURIComponent(db.username),
        DB_PASSWORD: 'unused-local-trust-auth',
        ARTIFACTS_BUCKET: env.MLFLOW_ARTIFACTS_BUCKET,
        MLFLOW_PORT: String(port),
        MLFLOW_WORKERS: String(mlflowWorkers(dev.mlflow.memoryMiB, dev.mlflow.cpu)),
        ...sqlAlchemyPool(dev.mlflow.database),
        MLFLOW_SERVER_ALLOWED_HOSTS: `127.0.0.1:${port},localhost:${port}`,
        MLFLOW_DISABLE_TELEMETRY: 'true',
        DO_NOT_TRACK: 'true',
        MLFLOW_AUTH_ADMIN_USERNAME: MLFLOW_ADMIN_USER,
        MLFLOW_AUTH_ADMIN_PASSWORD: users.adminPassword,
        MLFLOW_FLASK_SERVER_SECRET_KEY: users.secretKey,
        MLFLOW_PIPELINES_USERNAME: MLFLOW_PIPELINES_USER,
        MLFLOW_PIPELINES_PASSWORD: users.pipelinesPassword,
        MLFLOW_READER_USERNAME: MLFLOW_READER_USER,
        MLFLOW_READER_PASSWORD: users.readerPassword,
        // The Dockerfile copies the users script to /usr/local/lib/mlflow; here it is in the checkout.
        MLFLOW_USERS_SCRIPT: join(PROJECT_ROOT, 'docker/mlflow/mlflow_users.py'),
        // Local stand-in for the task role's S3 access.
        MLFLOW_S3_ENDPOINT_URL: env.AWS_ENDPOINT_URL,
        AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
        AWS_DEFAULT_REGION: env.AWS_REGION,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    server.stdout?.on('data', (chunk) => (output += chunk));
    server.stderr?.on('data', (chunk) => (output += chunk));
    const uri = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`the entrypoint exited ${server.exitCode}:\n${output}`);
      try {
        if ((await fetch(`${uri}/health`, { signal: AbortSignal.timeout(1000) })).ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`MLflow did not answer /health in 180 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // The dev task's one worker on a shared test machine: slow answers are not what is measured here.
    client = MlflowClient.fromEnv({
      MLFLOW_TRACKING_URI: uri,
      MLFLOW_TRACKING_USERNAME: MLFLOW_PIPELINES_USER,
      MLFLOW_TRACKING_PASSWORD: users.pipelinesPassword,
      MLFLOW_HTTP_REQUEST_TIMEOUT: '120',
    });
    sampler = setInterval(() => samples.push(treeRssMiB(server.pid as number)), 250);
  }, 240_000);

  afterAll(() => {
    clearInterval(sampler);
    try {
      if (server?.pid) process.kill(-server.pid, 'SIGKILL');
    } catch {
      // already gone (it failed to start)
    }
  });

  it(`serves a logging and registry workload within 70% of the dev task's memory`, async () => {
    samples.push(treeRssMiB(server.pid as number));
    const suffix = `${process.pid}-${Date.now()}`;
    const experimentId = await client.createExperiment({ name: `memory-${suffix}` });
    const model = `memory-model-${suffix}`;
    await client.createRegisteredModel({ name: model });
    const payload = new Uint8Array(256 * 1024).fill(7);
    for (let round = 0; round < 5; round++) {
      const versions = await Promise.all(
        Array.from({ length: 3 }, async (_, i) => {
          const run = await client.createRun({ experiment_id: experimentId, run_name: `r${round}-${i}` });
          const runId = run.info.run_id;
          await client.logBatch({
            run_id: runId,
            params: Array.from({ length: 20 }, (_, p) => ({ key: `p${p}`, value: String(p) })),
            metrics: Array.from({ length: 200 }, (_, m) => ({ key: `m${m % 10}`, value: m, step: m })),
          });
          await client.uploadArtifact(`${experimentId}/${runId}/artifacts/model/model.onnx`, payload);
          const version = await client.createModelVersion({
            name: model,
            source: `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`,
            run_id: runId,
          });
          await client.searchRuns({ experiment_ids: [experimentId], max_results: 50 });
          return version.version;
        }),
      );
      // One alias move at a time: MLflow's alias upsert is not safe against concurrent writers.
      await client.setRegisteredModelAlias(model, 'Production', versions[versions.length - 1] as string);
      await client.getModelVersionByAlias(model, 'Production');
    }
    samples.push(treeRssMiB(server.pid as number));
    const peak = samples.reduce((a, b) => (b.mib > a.mib ? b : a));
    console.log(
      `MLflow process tree: peak ${peak.mib.toFixed(0)} MiB over ${peak.processes} processes ` +
        `(${mlflowWorkers(dev.mlflow.memoryMiB, dev.mlflow.cpu)} workers; budget ${BUDGET_MIB.toFixed(0)} MiB)`,
    );
    expect(peak.processes).toBeGreaterThan(1);
    expect(peak.mib).toBeLessThan(BUDGET_MIB);
  }, 240_000);
});

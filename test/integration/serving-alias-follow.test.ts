/**
 * The whole alias-follow path as a user meets it: a real `npm run serve` process under load, the
 * alias moved with MLflow's Python client (not this project's CLI), and the time until the API
 * *answers* with the new version: MLflow's webhook (or, with webhooks off, the reconciler) writes
 * the manifest, the API's next check after ALIAS_TTL_SECONDS (default) picks it up and swaps the
 * model in. Every request of the load must succeed across all the moves.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MlflowClient, mlflowClientOptionsFromEnv } from '../../lambdas/core/mlflow';
import { publishAliasManifest } from '../../lambdas/core/serving-manifest';
import { ALIAS_TTL_SECONDS } from '../../lambdas/core/settings';
import { MlflowWebhooks } from '../../lambdas/serving-sync/mlflow-webhooks';
import { s3ClientFromEnv } from '../../lambdas/serving-sync/sync-config';
import { localDir } from '../../localstack/services/local-paths';
import { MLFLOW_ADMIN_USER, readMlflowCredentials } from '../../localstack/services/mlflow-auth';
import { ROOT } from '../../localstack/services/services';
import {
  freePort,
  killGroup,
  postPredict,
  pythonEnv,
  SETOSA,
  serveCommand,
  sleep,
  waitHealthy,
} from '../support/predict-fixtures';
import { pythonAliasMover } from '../support/python-alias-mover';
import { registerServableVersions } from '../support/serving-sync-fixtures';

const localEnv = inject('localEnv');
const suffix = randomUUID().slice(0, 8);
const model = `alias-follow-${suffix}`;
const webhookName = `alias-follow-test-${suffix}`;
const env: NodeJS.ProcessEnv = { ...process.env, ...localEnv };
const client = MlflowClient.fromEnv(env);
/** MLflow re-reads its webhook list at most every MLFLOW_WEBHOOK_CACHE_TTL (5 s locally). */
const WEBHOOK_CACHE_MS = 6_000;
const CLIENTS = 8;

let versions: [string, string];
const processes: ChildProcess[] = [];

beforeAll(async () => {
  versions = (await registerServableVersions(client, model, 2)) as [string, string];
  await client.setRegisteredModelAlias(model, 'Production', versions[0]);
  const s3 = s3ClientFromEnv(env);
  await publishAliasManifest(
    { mlflow: client, s3, bucket: localEnv.SERVING_BUCKET },
    { model, alias: 'Production', via: 'cli' },
  );
  s3.destroy();
});

afterAll(async () => {
  for (const child of processes) await killGroup(child);
  // The webhook outlives the process that registered it; it must not outlive the test.
  const admin = readMlflowCredentials(localDir(env));
  const webhooks = new MlflowWebhooks(
    mlflowClientOptionsFromEnv({
      ...env,
      ...(admin && {
        MLFLOW_TRACKING_USERNAME: MLFLOW_ADMIN_USER,
        MLFLOW_TRACKING_PASSWORD: admin.adminPassword,
      }),
    }),
  );
  for (const webhook of (await webhooks.list()).filter((found) => found.name === webhookName))
    await webhooks.delete(webhook.webhook_id);
});

/** `npm run serve` as the README runs it, with the default TTL; answers its URL once healthy. */
async function startServe(
  extra: Record<string, string>,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const { command, args } = serveCommand();
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: true,
    stdio: 'ignore',
    env: {
      ...pythonEnv(),
      ...localEnv,
      PORT: String(port),
      MODEL_NAME: model,
      SERVING_WEBHOOK_NAME: webhookName,
      ALIAS_TTL_SECONDS: undefined,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      ...extra,
    },
  });
  processes.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, 120_000);
  return { url, stop: () => killGroup(child) };
}

interface Answer {
  readonly sentAt: number;
  readonly doneAt: number;
  readonly status: number;
  readonly version: string | undefined;
}

/** CLIENTS signed /predict loops, each sending its next request when the last is answered. */
function startLoad(url: string) {
  const answers: Answer[] = [];
  let running = true;
  const loop = async () => {
    while (running) {
      const sentAt = Date.now();
      const answer = await postPredict(url, { instances: [SETOSA] }).catch(() => undefined);
      answers.push({
        sentAt,
        doneAt: Date.now(),
        status: answer?.status ?? 0,
        version: answer?.body.model?.version,
      });
    }
  };
  const loops = Array.from({ length: CLIENTS }, loop);
  return {
    answers,
    /** When the first answer sent after `since` carried `version`. */
    servedAt: async (version: string, since: number, timeoutMs: number): Promise<number> => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const first = answers.find((answer) => answer.sentAt >= since && answer.version === version);
        if (first) return first.doneAt;
        await sleep(20);
      }
      throw new Error(`version ${version} not served within ${timeoutMs} ms`);
    },
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(p * sorted.length) - 1] ?? Number.POSITIVE_INFINITY;
}

/**
 * Moves the alias `moves` times between the two versions under load and measures, for each move,
 * the time from the Python call until the API answered with the new version. Also checks that no
 * answer sent after a switch (and before the next move) carries the old version: a swap is final.
 */
async function followUnderLoad(url: string, moves: number, timeoutMs: number) {
  const load = startLoad(url);
  const mover = pythonAliasMover(model, env);
  const latencies: number[] = [];
  const switches: { version: string; at: number; until: number }[] = [];
  try {
    await mover.ready();
    await load.servedAt(versions[0], Date.now(), 10_000);
    for (let i = 0; i < moves; i++) {
      const version = versions[(i + 1) % 2] as string;
      const movedAt = await mover.move('Production', version);
      const servedAt = await load.servedAt(version, movedAt, timeoutMs);
      latencies.push(servedAt - movedAt);
      // Let the load run on the new version before the next move.
      await sleep(300);
      switches.push({ version, at: servedAt, until: Date.now() });
    }
  } finally {
    mover.close();
    await load.stop();
  }
  const failed = load.answers.filter((answer) => answer.status !== 200);
  const flippedBack = switches.flatMap(({ version, at, until }) =>
    load.answers.filter(
      (answer) => answer.sentAt > at && answer.doneAt < until && answer.version !== version,
    ),
  );
  return { latencies, answered: load.answers.length, failed, flippedBack };
}

describe('an alias moved with the Python client, served by `npm run serve`', () => {
  it('webhook path: the API answers with the new version within 2 s (p95 over 20 moves), 0 failed requests under load', async () => {
    const serve = await startServe({ SERVING_RECONCILE_SECONDS: '3600' });
    await sleep(WEBHOOK_CACHE_MS);
    const { latencies, answered, failed, flippedBack } = await followUnderLoad(serve.url, 20, 15_000);
    await serve.stop();
    const p95 = percentile(latencies, 0.95);
    console.info(
      `alias follow (webhook, TTL ${ALIAS_TTL_SECONDS.default} s): p50 ${percentile(latencies, 0.5)} ms, p95 ${p95} ms, max ${Math.max(...latencies)} ms over 20 moves; ${answered} requests, ${failed.length} failed`,
    );
    expect(failed).toEqual([]);
    expect(flippedBack).toEqual([]);
    expect(answered).toBeGreaterThan(200);
    expect(p95).toBeLessThanOrEqual(2_000);
  }, 240_000);

  it('reconciler path (webhooks off): within its period + TTL + 1 s each time, 0 failed requests', async () => {
    const period = 5;
    const serve = await startServe({ SERVING_WEBHOOK: 'off', SERVING_RECONCILE_SECONDS: String(period) });
    // MLflow may deliver to the removed webhook until its cache expires.
    await sleep(WEBHOOK_CACHE_MS);
    const bound = (period + ALIAS_TTL_SECONDS.default + 1) * 1000;
    const { latencies, answered, failed, flippedBack } = await followUnderLoad(serve.url, 4, bound + 5_000);
    await serve.stop();
    console.info(
      `alias follow (reconciler every ${period} s, TTL ${ALIAS_TTL_SECONDS.default} s): ${latencies.join(', ')} ms; ${answered} requests, ${failed.length} failed`,
    );
    expect(failed).toEqual([]);
    expect(flippedBack).toEqual([]);
    expect(Math.max(...latencies)).toBeLessThanOrEqual(bound);
  }, 240_000);
});

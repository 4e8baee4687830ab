/**
 * Cold start to first prediction, from the serving manifest (what the predict API does now) and
 * through MLflow (the registry path it replaced: resolve the alias in MLflow, download the model
 * directory through it), measured in the same run on the same registered version; plus how long
 * `npm run serve` takes from process start to its first prediction, and how soon a running API
 * follows a published alias move (the default ALIAS_TTL_SECONDS).
 *
 * The in-process figures build a fresh model store per attempt (no cache shared), alternating the
 * two paths so a busy machine slows them alike. Part of `npm run bench:predict`; alone:
 *   tsx bench/predict-cold-start.ts        (writes bench/results/predict-cold-start.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MlflowClient, mlflowClientOptionsFromEnv } from '../lambdas/core/mlflow';
import { ManifestRegistry } from '../lambdas/core/serving/manifest-registry';
import { MlflowRegistry } from '../lambdas/core/serving/mlflow-registry';
import { ModelStore } from '../lambdas/core/serving/model-store';
import { predict } from '../lambdas/core/serving/predict';
import type { ModelRegistry } from '../lambdas/core/serving/registry';
import { ALIAS_TTL_SECONDS } from '../lambdas/core/settings';
import { servingS3Client } from '../lambdas/predict/registry';
import { apiCallerFromEnv, callApi, localEnv } from '../localstack/serve/api-client';
import { ROOT, up } from '../localstack/services/services';
import {
  freePort,
  killGroup,
  moveAlias,
  type RegisteredVersion,
  registerIrisModels,
  SETOSA,
  serveCommand,
  servingBucket,
  sleep,
} from '../test/support/predict-fixtures';
import { startProcess } from './predict';

const ATTEMPTS = Number(process.env.BENCH_COLD_START_ATTEMPTS ?? 5);
const FOLLOW_MOVES = Number(process.env.BENCH_FOLLOW_MOVES ?? 6);
/** The target for a cold start from the manifest on this machine. */
const TARGET_MS = 1000;

export interface ColdStartResult {
  readonly attempts: number;
  /** In-process: a fresh store's first prediction (alias resolved, files downloaded, model loaded and warmed). */
  readonly first_prediction_ms: {
    readonly manifest: { median: number; max: number; all: number[] };
    readonly mlflow: { median: number; max: number; all: number[] };
    readonly manifest_vs_mlflow: number;
  };
  /** `npm run serve`: process start to its first prediction, from the manifest. */
  readonly serve_process_ms: { median: number; max: number; all: number[] };
  readonly target_ms: number;
  readonly target_met: boolean;
  /** A published alias move until the running API answers with the new version. */
  readonly alias_follow_ms: { ttl_s: number; moves: number; p50: number; p95: number; max: number };
  readonly requests_per_alias_check: string;
}

export async function benchColdStart(
  trackingUri: string,
  name: string,
  versions: readonly [RegisteredVersion, RegisteredVersion],
  log: (line: string) => void,
): Promise<ColdStartResult> {
  const [v1, v2] = versions;
  await moveAlias(trackingUri, name, 'Production', v1.version);
  const env = { ...process.env, MLFLOW_TRACKING_URI: trackingUri };
  const registries: Record<'manifest' | 'mlflow', () => ModelRegistry> = {
    manifest: () => new ManifestRegistry({ s3: servingS3Client(env), bucket: servingBucket() }),
    mlflow: () => new MlflowRegistry(new MlflowClient(mlflowClientOptionsFromEnv(env))),
  };
  const times: Record<'manifest' | 'mlflow', number[]> = { manifest: [], mlflow: [] };
  for (let attempt = 0; attempt < ATTEMPTS + 1; attempt++) {
    const order = attempt % 2 === 0 ? (['manifest', 'mlflow'] as const) : (['mlflow', 'manifest'] as const);
    for (const path of order) {
      const ms = await firstPredictionMs(registries[path](), name);
      // The first round warms the S3 and MLflow connections' code paths; it is not kept.
      if (attempt > 0) times[path].push(ms);
    }
  }
  const manifest = stats(times.manifest);
  const mlflow = stats(times.mlflow);
  log(
    `first prediction in-process: manifest ${manifest.median} ms, MLflow ${mlflow.median} ms (median of ${ATTEMPTS})`,
  );

  const serveTimes: number[] = [];
  for (let attempt = 0; attempt < Math.min(ATTEMPTS, 3); attempt++) {
    const { ms, stop } = await startServe(name, 1);
    serveTimes.push(ms);
    await stop();
  }
  const serve = stats(serveTimes);
  log(
    `npm run serve, process start to first prediction: ${serve.median} ms (median of ${serveTimes.length})`,
  );

  const { url, stop } = await startServe(name, ALIAS_TTL_SECONDS.default);
  const follow: number[] = [];
  try {
    for (let move = 0; move < FOLLOW_MOVES; move++) {
      const target = move % 2 === 0 ? v2.version : v1.version;
      await moveAlias(trackingUri, name, 'Production', target);
      const moved = performance.now();
      for (;;) {
        if ((await versionAnswering(url)) === target) break;
        if (performance.now() - moved > 60_000) throw new Error(`version ${target} not served within 60 s`);
        await sleep(20);
      }
      follow.push(Math.round(performance.now() - moved));
    }
  } finally {
    await stop();
  }
  const sorted = [...follow].sort((a, b) => a - b);
  const alias_follow_ms = {
    ttl_s: ALIAS_TTL_SECONDS.default,
    moves: follow.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    max: sorted.at(-1) ?? 0,
  };
  log(
    `alias follow (TTL ${ALIAS_TTL_SECONDS.default} s): p50 ${alias_follow_ms.p50} ms, max ${alias_follow_ms.max} ms`,
  );
  return {
    attempts: ATTEMPTS,
    first_prediction_ms: {
      manifest,
      mlflow,
      manifest_vs_mlflow: Math.round((manifest.median / mlflow.median) * 100) / 100,
    },
    serve_process_ms: serve,
    target_ms: TARGET_MS,
    target_met: manifest.median <= TARGET_MS,
    alias_follow_ms,
    requests_per_alias_check: 'one conditional S3 GET (If-None-Match); 304 while the alias stays',
  };
}

async function firstPredictionMs(registry: ModelRegistry, name: string): Promise<number> {
  const started = performance.now();
  const store = new ModelStore({
    registry,
    modelName: name,
    defaultAlias: 'Production',
    aliasTtlMs: 3_600_000,
    maxRows: 1000,
  });
  try {
    const answer = await predict(store, { instances: [SETOSA] });
    if (answer.predictions.length !== 1) throw new Error('no prediction');
    return Math.round(performance.now() - started);
  } finally {
    store.close();
  }
}

async function startServe(
  name: string,
  ttlSeconds: number,
): Promise<{ url: string; ms: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { command, args } = serveCommand();
  const started = performance.now();
  const child = startProcess(command, args, {
    ...process.env,
    PORT: String(port),
    MODEL_NAME: name,
    ALIAS_TTL_SECONDS: String(ttlSeconds),
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  for (;;) {
    try {
      if ((await versionAnswering(url)) !== undefined) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > 60_000) throw new Error('npm run serve did not answer within 60 s');
    await sleep(10);
  }
  return { url, ms: Math.round(performance.now() - started), stop: () => killGroup(child) };
}

async function versionAnswering(url: string): Promise<string | undefined> {
  const response = await callApi(apiCallerFromEnv(localEnv()), `${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances: [SETOSA] }),
  });
  const body = (await response.json()) as { model?: { version?: string } };
  return response.ok ? body.model?.version : undefined;
}

function stats(values: readonly number[]): { median: number; max: number; all: number[] } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 0.5), max: sorted.at(-1) ?? 0, all: [...values] };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

export function writeColdStartResults(result: ColdStartResult): void {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'predict-cold-start.json'),
    `${JSON.stringify({ benchmark: 'predict-cold-start', date: new Date().toISOString(), ...result }, null, 2)}\n`,
  );
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[bench:predict cold start] ${line}\n`);
  const env = await up({ log });
  Object.assign(process.env, env);
  const name = `predict-cold-${Date.now().toString(36)}`;
  log(`registering ${name} v1 and v2 from Python (mlflow.onnx.log_model)`);
  const [versions] = await registerIrisModels([
    { trackingUri: env.MLFLOW_TRACKING_URI, name, versions: [{}, { intercepts: [0.1, 1.2, -1.2] }] },
  ]);
  const result = await benchColdStart(
    env.MLFLOW_TRACKING_URI,
    name,
    versions as [RegisteredVersion, RegisteredVersion],
    log,
  );
  writeColdStartResults(result);
  log('wrote bench/results/predict-cold-start.json');
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

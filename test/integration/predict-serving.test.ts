/**
 * The predict API against the real S3 endpoint, serving iris classifiers logged from Python with
 * `mlflow.onnx.log_model` into real MLflow servers and published to the serving bucket as every
 * writer publishes them (publishAliasManifest). The API reads only the manifests. The tests run
 * in order and share the models and aliases set up once in beforeAll (registering from Python is
 * slow).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreStatus } from '../../lambdas/core/serving/model-store';
import { ROOT } from '../../localstack/services/services';
import {
  freePort,
  getJson,
  IRIS_COLUMNS,
  killGroup,
  moveAlias,
  type PredictApi,
  type PrivateMlflow,
  postPredict,
  pythonEnv,
  type RegisteredVersion,
  registerIrisModels,
  removeAlias,
  SETOSA,
  serveCommand,
  servedFile,
  sleep,
  startPredictApi,
  startPrivateMlflow,
  tamperServedFile,
  VIRGINICA,
  waitHealthy,
} from '../support/predict-fixtures';

const NAME = `predict-it-${Date.now().toString(36)}`;
/** Served from the private MLflow, which the last test stops. */
const OFFLINE_NAME = `${NAME}-offline`;
const V2_INTERCEPTS = [0.1, 1.2, -1.2];
const V3_INTERCEPTS = [0.2, 0.9, -1.0];

let trackingUri: string;
let privateMlflow: PrivateMlflow | undefined;
let v1: RegisteredVersion;
let v2: RegisteredVersion;
let v3: RegisteredVersion;
/** The private server boots and gets its model while the tests on the shared server run. */
let privateReady: Promise<RegisteredVersion>;
let api: PredictApi;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  trackingUri = process.env.MLFLOW_TRACKING_URI ?? '';
  privateMlflow = await startPrivateMlflow();
  cleanups.push(async () => privateMlflow?.stop());
  privateReady = registerIrisModels([
    { trackingUri: privateMlflow.url, name: OFFLINE_NAME, versions: [{}] },
  ]).then(([versions]) => versions?.[0] as RegisteredVersion);
  privateReady.catch(() => {}); // awaited (and reported) by the test that needs it
  const [shared] = await registerIrisModels([
    { trackingUri, name: NAME, versions: [{}, { intercepts: V2_INTERCEPTS }, { intercepts: V3_INTERCEPTS }] },
  ]);
  [v1, v2, v3] = shared as [RegisteredVersion, RegisteredVersion, RegisteredVersion];
  await moveAlias(trackingUri, NAME, 'Production', v1.version);
  api = await startPredictApi({ MODEL_NAME: NAME, ALIAS_TTL_SECONDS: '1' });
  cleanups.push(() => api.close());
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function statusOf(url: string, alias = 'Production') {
  const { body } = await getJson<StoreStatus>(`${url}/status`);
  return { overall: body.status, alias: body.aliases.find((a) => a.alias === alias) };
}

/** Polls until `check` holds, failing after `timeoutMs`; answers the time it took. */
async function within(timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await sleep(25);
  }
  throw new Error(`not reached within ${timeoutMs} ms`);
}

describe('predict API on serving manifests', () => {
  it('serves the Python-logged version the Production manifest names, and shows the manifest in /status', async () => {
    const records = await postPredict(api.url, { instances: [SETOSA, VIRGINICA] });
    const split = await postPredict(api.url, {
      dataframe_split: { columns: IRIS_COLUMNS, data: [[6.7, 3.0, 5.2, 2.3]] },
    });
    const tensor = await postPredict(api.url, { inputs: [[5.1, 3.5, 1.4, 0.2]] });

    expect(records.status).toBe(200);
    expect(records.body.model).toEqual({
      name: NAME,
      version: v1.version,
      alias: 'Production',
      run_id: v1.runId,
    });
    expect(records.body.predictions?.map((p) => p.label)).toEqual(['setosa', 'virginica']);
    expect(records.body.predictions?.[0]?.probabilities.setosa).toBeCloseTo(0.9962, 3);
    expect(split.body.predictions?.[0]?.label).toBe('virginica');
    expect(tensor.body.predictions?.[0]?.label).toBe('setosa');
    const { alias } = await statusOf(api.url);
    expect(alias?.manifest).toEqual({
      version: v1.version,
      run_id: v1.runId,
      moved_at: expect.any(String),
      moved_by: 'predict-tests',
      via: 'cli',
      written_at: expect.any(String),
      model_onnx_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('names the field and row of bad input', async () => {
    const answer = await postPredict(api.url, { instances: [SETOSA, { ...SETOSA, sepal_width: 'NaN' }] });

    expect(answer).toEqual({
      status: 400,
      body: {
        error: {
          code: 'INVALID_TYPE',
          message: 'sepal_width in row 1 must be a number, got the string "NaN"',
          field: 'sepal_width',
          row: 1,
        },
      },
    });
  });

  it('answers with version 2 within TTL + 1 s of the manifest moving', async () => {
    await moveAlias(trackingUri, NAME, 'Production', v2.version);

    const tookMs = await within(2_000, async () => {
      const answer = await postPredict(api.url, { instances: [SETOSA] });
      expect(answer.status).toBe(200);
      return answer.body.model?.version === v2.version;
    });

    const answer = await postPredict(api.url, { instances: [SETOSA] });
    expect(answer.body.model).toMatchObject({ version: v2.version, run_id: v2.runId });
    expect(tookMs).toBeLessThan(2_000);
  });

  it('follows a shadow alias with its own watcher', async () => {
    await moveAlias(trackingUri, NAME, 'Challenger', v1.version);

    const shadow = await postPredict(api.url, { instances: [SETOSA] }, 'Challenger');
    const main = await postPredict(api.url, { instances: [SETOSA] });

    expect(shadow.body.model).toMatchObject({ alias: 'Challenger', version: v1.version });
    expect(main.body.model).toMatchObject({ alias: 'Production', version: v2.version });
    expect((await statusOf(api.url, 'Challenger')).alias).toMatchObject({
      state: 'ok',
      loaded_version: v1.version,
    });
  });

  it('drops no request during 20 alias flips under 8 concurrent clients', async () => {
    const fast = await startPredictApi({ MODEL_NAME: NAME, ALIAS_TTL_SECONDS: '0.2' });
    cleanups.push(() => fast.close());
    const statuses = new Map<number, number>();
    const versionsSeen = new Set<string>();
    let flipping = true;
    const client = async () => {
      while (flipping) {
        const answer = await postPredict(fast.url, { instances: [SETOSA, VIRGINICA] });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.body.model) versionsSeen.add(answer.body.model.version);
      }
    };
    await postPredict(fast.url, { instances: [SETOSA] });
    const clients = Array.from({ length: 8 }, client);

    for (let flip = 1; flip <= 20; flip++) {
      const target = flip % 2 === 1 ? v1.version : v2.version;
      await moveAlias(trackingUri, NAME, 'Production', target);
      await within(5_000, async () => (await statusOf(fast.url)).alias?.loaded_version === target);
    }
    flipping = false;
    await Promise.all(clients);

    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(Object.fromEntries(statuses)).toEqual({ 200: total });
    expect(total).toBeGreaterThan(100);
    expect([...versionsSeen].sort()).toEqual([v1.version, v2.version].sort());
  });

  it('never swaps in a model.onnx whose bytes do not match the manifest, and says why in /status', async () => {
    // Version 3 is copied to the serving bucket (under another alias), then its model.onnx is
    // replaced by version 1's bytes: a valid model, just not the one the manifest vouches for.
    await moveAlias(trackingUri, NAME, 'Staging', v3.version);
    const v1Bytes = await servedFile(NAME, v1.version, 'model.onnx');
    await tamperServedFile(NAME, v3.version, 'model.onnx', v1Bytes);
    await moveAlias(trackingUri, NAME, 'Production', v3.version);

    await within(5_000, async () => {
      await postPredict(api.url, { instances: [SETOSA] });
      return (await statusOf(api.url)).alias?.last_error?.code === 'CHECKSUM_MISMATCH';
    });

    const answer = await postPredict(api.url, { instances: [SETOSA] });
    expect(answer.status).toBe(200);
    expect(answer.body.model?.version).toBe(v2.version);
    const { overall, alias } = await statusOf(api.url);
    expect(overall).toBe('degraded');
    expect(alias).toMatchObject({
      state: 'degraded',
      resolved_version: v3.version,
      loaded_version: v2.version,
      manifest: { version: v2.version },
      last_error: { code: 'CHECKSUM_MISMATCH', version: v3.version },
    });
    const message = alias?.last_error?.message ?? '';
    const actual = createHash('sha256').update(v1Bytes).digest('hex');
    expect(message).toContain(`model.onnx of version ${v3.version}`);
    expect(message).toContain(`has sha256 ${actual}`);
    expect(message).toMatch(/but the manifest says [0-9a-f]{64}/);
    expect(message).not.toContain(`the manifest says ${actual}`);
  });

  it('keeps serving when the alias is deleted, and reports it', async () => {
    await removeAlias(trackingUri, NAME, 'Production');

    await within(5_000, async () => (await statusOf(api.url)).alias?.last_error?.code === 'ALIAS_NOT_FOUND');

    const answer = await postPredict(api.url, { instances: [VIRGINICA] });
    expect(answer.status).toBe(200);
    expect(answer.body.model?.version).toBe(v2.version);
    expect((await statusOf(api.url)).alias).toMatchObject({
      state: 'degraded',
      loaded_version: v2.version,
      last_error: {
        code: 'ALIAS_NOT_FOUND',
        message: expect.stringContaining(`alias 'Production' of model '${NAME}' is not published`),
      },
    });
  });

  it('starts fresh `npm run serve` processes from the manifest with MLflow stopped; 0 failed requests over 60 s of load', async () => {
    const offline = await privateReady;
    const mlflow = privateMlflow as PrivateMlflow;
    await moveAlias(mlflow.url, OFFLINE_NAME, 'Production', offline.version);
    await mlflow.stop();
    privateMlflow = undefined;
    await expect(fetch(`${mlflow.url}/health`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();

    const first = await startServe(mlflow.url);
    const started = performance.now();
    const answer = await postPredict(first, { instances: [SETOSA] });
    const firstPredictionMs = performance.now() - started;
    expect(answer.status).toBe(200);
    expect(answer.body.model).toEqual({
      name: OFFLINE_NAME,
      version: offline.version,
      alias: 'Production',
      run_id: offline.runId,
    });
    expect((await statusOf(first)).alias?.manifest).toMatchObject({ version: offline.version, via: 'cli' });

    // ~20 requests/s round-robin over the processes serving; two more start cold during the load
    // and take requests as soon as they listen (before their model is loaded).
    const pool = [first];
    const statuses = new Map<number, number>();
    const pending: Promise<void>[] = [];
    const loadMs = 60_000;
    const loadStarted = performance.now();
    const joining = [15_000, 30_000].map(async (at) => {
      await sleep(at);
      pool.push(await startServe(mlflow.url));
    });
    for (let i = 0; performance.now() - loadStarted < loadMs; i++) {
      const url = pool[i % pool.length] as string;
      pending.push(
        postPredict(url, { instances: [VIRGINICA] }).then(
          (reply) => {
            const ok = reply.status === 200 && reply.body.predictions?.[0]?.label === 'virginica';
            statuses.set(ok ? 200 : reply.status, (statuses.get(ok ? 200 : reply.status) ?? 0) + 1);
          },
          () => {
            statuses.set(0, (statuses.get(0) ?? 0) + 1);
          },
        ),
      );
      await sleep(50);
    }
    await Promise.all(joining);
    await Promise.all(pending);

    const total = [...statuses.values()].reduce((sum, n) => sum + n, 0);
    expect(Object.fromEntries(statuses)).toEqual({ 200: total });
    expect(total).toBeGreaterThan(900);
    expect(pool).toHaveLength(3);
    console.info(
      `MLflow stopped: first prediction ${firstPredictionMs.toFixed(0)} ms after listening; ${total} requests over ${loadMs / 1000} s, 0 failed, 3 processes`,
    );
  }, 180_000);
});

/** `npm run serve` for the offline model on a free port, its MLflow address pointing at a stopped server. */
async function startServe(stoppedMlflow: string): Promise<string> {
  const port = await freePort();
  const { command, args } = serveCommand();
  const serve: ChildProcess = spawn(command, args, {
    cwd: ROOT,
    detached: true,
    stdio: 'ignore',
    env: {
      ...pythonEnv(),
      PORT: String(port),
      MLFLOW_TRACKING_URI: stoppedMlflow,
      MODEL_NAME: OFFLINE_NAME,
      ALIAS_TTL_SECONDS: '1',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
  });
  cleanups.push(() => killGroup(serve));
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, 120_000);
  return url;
}

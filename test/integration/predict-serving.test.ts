/**
 * The predict API against real MLflow servers and the real S3 endpoint, serving iris
 * classifiers logged from Python with `mlflow.onnx.log_model`. The tests run in order and
 * share the models and aliases set up once in beforeAll (registering from Python is slow).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreStatus } from '../../lambdas/core/serving/model-store';
import { ROOT } from '../../localstack/services/services';
import {
  deleteAlias,
  freePort,
  getJson,
  IRIS_COLUMNS,
  killGroup,
  type PredictApi,
  type PrivateMlflow,
  postPredict,
  pythonEnv,
  type RegisteredVersion,
  registerIrisModels,
  SETOSA,
  setAlias,
  sleep,
  startPredictApi,
  startPrivateMlflow,
  VIRGINICA,
  waitHealthy,
} from '../support/predict-fixtures';

const NAME = `predict-it-${Date.now().toString(36)}`;
const V2_INTERCEPTS = [0.1, 1.2, -1.2];

let trackingUri: string;
let privateMlflow: PrivateMlflow | undefined;
let v1: RegisteredVersion;
let v2: RegisteredVersion;
let corrupt: RegisteredVersion;
/** The private server boots and gets its model while the tests on the shared server run. */
let privateReady: Promise<RegisteredVersion>;
let api: PredictApi;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  trackingUri = process.env.MLFLOW_TRACKING_URI ?? '';
  privateMlflow = await startPrivateMlflow();
  cleanups.push(async () => privateMlflow?.stop());
  privateReady = registerIrisModels([{ trackingUri: privateMlflow.url, name: NAME, versions: [{}] }]).then(
    ([versions]) => versions?.[0] as RegisteredVersion,
  );
  privateReady.catch(() => {}); // awaited (and reported) by the test that needs it
  const [shared] = await registerIrisModels([
    { trackingUri, name: NAME, versions: [{}, { intercepts: V2_INTERCEPTS }, { corrupt: true }] },
  ]);
  [v1, v2, corrupt] = shared as [RegisteredVersion, RegisteredVersion, RegisteredVersion];
  await setAlias(trackingUri, NAME, 'Production', v1.version);
  api = await startPredictApi({ MLFLOW_TRACKING_URI: trackingUri, MODEL_NAME: NAME, ALIAS_TTL_SECONDS: '1' });
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

describe('predict API on real MLflow', () => {
  it('serves the Python-logged version the Production alias points at', async () => {
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

  it('answers with version 2 within TTL + 1 s of the alias moving', async () => {
    await setAlias(trackingUri, NAME, 'Production', v2.version);

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
    await setAlias(trackingUri, NAME, 'Challenger', v1.version);

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
    const fast = await startPredictApi({
      MLFLOW_TRACKING_URI: trackingUri,
      MODEL_NAME: NAME,
      ALIAS_TTL_SECONDS: '0.2',
    });
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
      await setAlias(trackingUri, NAME, 'Production', target);
      await within(5_000, async () => (await statusOf(fast.url)).alias?.loaded_version === target);
    }
    flipping = false;
    await Promise.all(clients);

    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(Object.fromEntries(statuses)).toEqual({ 200: total });
    expect(total).toBeGreaterThan(100);
    expect([...versionsSeen].sort()).toEqual([v1.version, v2.version].sort());
  });

  it('keeps the loaded version when the alias moves to a corrupt artifact, and says so in /status', async () => {
    await setAlias(trackingUri, NAME, 'Production', corrupt.version);

    await within(5_000, async () => {
      await postPredict(api.url, { instances: [SETOSA] });
      return (await statusOf(api.url)).alias?.last_error?.code === 'MODEL_CORRUPT';
    });

    const answer = await postPredict(api.url, { instances: [SETOSA] });
    expect(answer.status).toBe(200);
    expect(answer.body.model?.version).toBe(v2.version);
    const { overall, alias } = await statusOf(api.url);
    expect(overall).toBe('degraded');
    expect(alias).toMatchObject({
      state: 'degraded',
      resolved_version: corrupt.version,
      loaded_version: v2.version,
      last_error: { code: 'MODEL_CORRUPT', version: corrupt.version },
    });
  });

  it('keeps serving when the alias is deleted, and reports it', async () => {
    await deleteAlias(trackingUri, NAME, 'Production');

    await within(5_000, async () => (await statusOf(api.url)).alias?.last_error?.code === 'ALIAS_NOT_FOUND');

    const answer = await postPredict(api.url, { instances: [VIRGINICA] });
    expect(answer.status).toBe(200);
    expect(answer.body.model?.version).toBe(v2.version);
    expect((await statusOf(api.url)).alias).toMatchObject({
      state: 'degraded',
      loaded_version: v2.version,
      last_error: {
        code: 'ALIAS_NOT_FOUND',
        message: expect.stringContaining(`alias 'Production' of model '${NAME}'`),
      },
    });
  });

  it('keeps serving from `npm run serve` after its MLflow is stopped (model read from S3 directly)', async () => {
    const privateV1 = await privateReady;
    const mlflow = privateMlflow as PrivateMlflow;
    await setAlias(mlflow.url, NAME, 'Production', privateV1.version);
    const port = await freePort();
    const serve: ChildProcess = spawn(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      ['localstack/serve/serve.ts'],
      {
        cwd: ROOT,
        detached: true,
        stdio: 'ignore',
        env: {
          ...pythonEnv(),
          PORT: String(port),
          MLFLOW_TRACKING_URI: mlflow.url,
          MODEL_NAME: NAME,
          ALIAS_TTL_SECONDS: '0.5',
          POWERTOOLS_METRICS_DISABLED: 'true',
          POWERTOOLS_LOG_LEVEL: 'ERROR',
        },
      },
    );
    cleanups.push(() => killGroup(serve));
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(url, 120_000);
    const before = await postPredict(url, { instances: [SETOSA] });
    expect(before.body.model).toEqual({
      name: NAME,
      version: privateV1.version,
      alias: 'Production',
      run_id: privateV1.runId,
    });

    await mlflow.stop();
    privateMlflow = undefined;
    await sleep(700);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => postPredict(url, { instances: [VIRGINICA] })),
    );
    await within(5_000, async () => (await statusOf(url)).alias?.last_error?.code === 'REGISTRY_UNREACHABLE');

    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers.map((a) => a.body.predictions?.[0]?.label)).toEqual(Array(20).fill('virginica'));
    const { overall, alias } = await statusOf(url);
    expect(overall).toBe('degraded');
    expect(alias).toMatchObject({
      state: 'degraded',
      loaded_version: privateV1.version,
      run_id: privateV1.runId,
    });
  });
});

/**
 * `POST /invocations` against `mlflow models serve` for the same registered model: the same
 * requests (every JSON shape of MLflow's scoring protocol, and CSV) go to both, and the answers
 * must match — status, and the predictions (numbers to float32 precision: two onnxruntime builds)
 * or MLflow's error code. The model is the iris classifier a Python user logs with
 * `mlflow.onnx.log_model` (one float [N, 4] tensor, a tensor signature), which MLflow's pyfunc runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiCallerFromEnv, callApi } from '../../localstack/serve/api-client';
import {
  freePort,
  IRIS_COLUMNS,
  killGroup,
  moveAlias,
  type PredictApi,
  pythonEnv,
  registerIrisModels,
  SETOSA,
  sleep,
  startPredictApi,
  VENV_BIN,
  VIRGINICA,
} from '../support/predict-fixtures';

const NAME = `invocations-it-${Date.now().toString(36)}`;
const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [5.9, 2.8, 4.4, 1.3],
];

let api: PredictApi;
let mlflowServe: ChildProcess | undefined;
let mlflowUrl: string;

beforeAll(async () => {
  const trackingUri = process.env.MLFLOW_TRACKING_URI ?? '';
  const [versions] = await registerIrisModels([{ trackingUri, name: NAME, versions: [{}] }]);
  const version = versions?.[0]?.version ?? '';
  await moveAlias(trackingUri, NAME, 'Production', version);
  api = await startPredictApi({ MODEL_NAME: NAME });

  const port = await freePort();
  mlflowUrl = `http://127.0.0.1:${port}`;
  mlflowServe = spawn(
    join(VENV_BIN, 'mlflow'),
    [
      'models',
      'serve',
      '-m',
      `models:/${NAME}/${version}`,
      '--env-manager',
      'local',
      '-p',
      String(port),
      '-h',
      '127.0.0.1',
    ],
    {
      detached: true,
      stdio: 'ignore',
      cwd: mkdtempSync(join(tmpdir(), 'mlflow-serve-')),
      env: { ...pythonEnv(), MLFLOW_TRACKING_URI: trackingUri },
    },
  );
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      if ((await fetch(`${mlflowUrl}/ping`, { signal: AbortSignal.timeout(2000) })).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || mlflowServe.exitCode !== null)
      throw new Error('mlflow models serve did not start');
    await sleep(500);
  }
}, 300_000);

afterAll(async () => {
  if (mlflowServe) await killGroup(mlflowServe);
  await api?.close();
});

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

async function both(body: string, contentType: string): Promise<{ ours: Answer; theirs: Answer }> {
  const init = { method: 'POST', headers: { 'content-type': contentType }, body };
  const [ours, theirs] = await Promise.all([
    callApi(apiCallerFromEnv(), `${api.url}/invocations`, init),
    fetch(`${mlflowUrl}/invocations`, init),
  ]);
  const read = async (response: Response): Promise<Answer> => {
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // a text/plain answer (415)
    }
    return { status: response.status, body: parsed };
  };
  return { ours: await read(ours), theirs: await read(theirs) };
}

/** Deep equality with numbers compared to float32 precision. */
function expectSame(ours: unknown, theirs: unknown, path = 'predictions'): void {
  if (typeof theirs === 'number') {
    expect(typeof ours, path).toBe('number');
    expect(Math.abs((ours as number) - theirs), path).toBeLessThan(1e-6);
    return;
  }
  if (Array.isArray(theirs)) {
    expect(Array.isArray(ours), path).toBe(true);
    expect((ours as unknown[]).length, path).toBe(theirs.length);
    theirs.forEach((value, i) => {
      expectSame((ours as unknown[])[i], value, `${path}[${i}]`);
    });
    return;
  }
  if (theirs !== null && typeof theirs === 'object') {
    expect(Object.keys(ours as object).sort(), path).toEqual(Object.keys(theirs).sort());
    for (const [key, value] of Object.entries(theirs)) {
      expectSame((ours as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
    return;
  }
  expect(ours, path).toEqual(theirs);
}

const REQUESTS: [string, string, string][] = [
  [
    'dataframe_split',
    'application/json',
    JSON.stringify({ dataframe_split: { columns: IRIS_COLUMNS, data: ROWS } }),
  ],
  [
    'dataframe_records',
    'application/json',
    JSON.stringify({
      dataframe_records: ROWS.map((row) => Object.fromEntries(IRIS_COLUMNS.map((name, i) => [name, row[i]]))),
    }),
  ],
  ['instances (rows)', 'application/json', JSON.stringify({ instances: ROWS })],
  ['inputs (rows)', 'application/json', JSON.stringify({ inputs: ROWS })],
  ['inputs with params', 'application/json', JSON.stringify({ inputs: ROWS, params: {} })],
];

describe('POST /invocations answers as mlflow models serve does', () => {
  it.each(REQUESTS)('%s', async (_label, contentType, body) => {
    const { ours, theirs } = await both(body, contentType);

    expect(theirs.status).toBe(200);
    expect(ours.status).toBe(200);
    expect(Object.keys(ours.body as object)).toEqual(['predictions']);
    expectSame(
      (ours.body as { predictions: unknown }).predictions,
      (theirs.body as { predictions: unknown }).predictions,
    );
  });

  /**
   * MLflow's server cannot score these for a tensor-signature model (pandas reads the CSV without
   * dtypes; named rows do not become a tensor) and answers 400; this API maps the columns by name
   * and answers what the same rows get as dataframe_split.
   */
  it.each([
    ['CSV', 'text/csv', `${IRIS_COLUMNS.join(',')}\n${ROWS.map((row) => row.join(',')).join('\n')}\n`],
    [
      'CSV with charset',
      'text/csv; charset=utf-8',
      `${IRIS_COLUMNS.join(',')}\r\n${ROWS.map((row) => row.join(',')).join('\r\n')}\r\n`,
    ],
    [
      'instances of {column: value}',
      'application/json',
      JSON.stringify({
        instances: [
          SETOSA,
          VIRGINICA,
          { sepal_length: 5.9, sepal_width: 2.8, petal_length: 4.4, petal_width: 1.3 },
        ],
      }),
    ],
  ])(
    'answers %s, which MLflow refuses for this model, as the same rows in dataframe_split',
    async (_label, contentType, body) => {
      const { ours, theirs } = await both(body, contentType);
      const split = await both(REQUESTS[0]?.[2] ?? '', 'application/json');

      expect(theirs.status).toBe(400);
      expect(theirs.body).toMatchObject({
        error_code: expect.stringMatching(/^(BAD_REQUEST|INVALID_PARAMETER_VALUE)$/),
      });
      expect(ours.status).toBe(200);
      expectSame(
        (ours.body as { predictions: unknown }).predictions,
        (split.theirs.body as { predictions: unknown }).predictions,
      );
    },
  );

  it.each([
    ['no shape key', 'application/json', JSON.stringify({ rows: ROWS })],
    ['two shape keys', 'application/json', JSON.stringify({ inputs: ROWS, instances: ROWS })],
    ['not JSON', 'application/json', '{"inputs": ['],
  ])('refuses %s with 400 and the same error code', async (_label, contentType, body) => {
    const { ours, theirs } = await both(body, contentType);

    expect(theirs.status).toBe(400);
    expect(ours.status).toBe(400);
    expect(ours.body).toEqual({
      error_code: (theirs.body as { error_code: string }).error_code,
      message: expect.any(String),
    });
  });

  it('refuses another media type or charset with 415, as text', async () => {
    for (const contentType of ['application/xml', 'text/csv; charset=latin-1']) {
      const { ours, theirs } = await both('<rows/>', contentType);

      expect([ours.status, theirs.status]).toEqual([415, 415]);
      expect(typeof ours.body).toBe('string');
    }
  });

  it('answers /ping 200 on both once the model is loaded', async () => {
    const [ours, theirs] = await Promise.all([fetch(`${api.url}/ping`), fetch(`${mlflowUrl}/ping`)]);

    expect([ours.status, theirs.status]).toEqual([200, 200]);
  });
});

/**
 * The models a Python user logs, served by our predict API: scikit-learn ColumnTransformer
 * pipelines (OneHotEncoder on a string column, StandardScaler on the numbers) converted the usual
 * way, `skl2onnx.to_onnx(pipeline, X_dataframe)` (one [N, 1] input per column, a string tensor
 * for the category), logged with `mlflow.onnx.log_model(..., signature=infer_signature(X, y),
 * input_example=...)` to the real MLflow of the test services. Our API must answer exactly as
 * scikit-learn's predict / predict_proba do (to float32 precision), whatever the column order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  logSklearnModels,
  moveAlias,
  type PredictApi,
  postPredict,
  type SklearnModels,
  startPredictApi,
} from '../support/predict-fixtures';

const PREFIX = `sklearn-it-${Date.now().toString(36)}`;

let logged: SklearnModels;
const apis: Record<string, PredictApi> = {};

beforeAll(async () => {
  const trackingUri = process.env.MLFLOW_TRACKING_URI ?? '';
  logged = await logSklearnModels(trackingUri, PREFIX);
  for (const kind of ['zipmap', 'tensor', 'regressor'] as const) {
    const name = `${PREFIX}-${kind}`;
    await moveAlias(trackingUri, name, 'Production', logged.versions[kind]);
    apis[kind] = await startPredictApi({
      MODEL_NAME: name,
      MAX_ROWS: '100',
    });
  }
}, 240_000);

afterAll(async () => {
  for (const api of Object.values(apis)) await api.close().catch(() => {});
});

/** The held-out rows as records with the keys in another order than the DataFrame's. */
function shuffledRecords() {
  return logged.rows.map(({ city, size, rooms }) => ({ rooms, city, size }));
}

/** The held-out rows as dataframe_split with the columns in another order. */
function shuffledSplit() {
  return {
    dataframe_split: {
      columns: ['size', 'rooms', 'city'],
      data: logged.rows.map(({ city, size, rooms }) => [size, rooms, city]),
    },
  };
}

describe.each(['zipmap', 'tensor'] as const)('a skl2onnx classifier pipeline (%s probabilities)', (kind) => {
  it.each([
    ['instances', shuffledRecords],
    ['dataframe_split', shuffledSplit],
  ] as const)('answers as scikit-learn does via %s, columns in any order', async (shape, build) => {
    const body = shape === 'instances' ? { instances: build() } : build();

    const answer = await postPredict((apis[kind] as PredictApi).url, body);

    expect(answer.status).toBe(200);
    const predictions = answer.body.predictions ?? [];
    expect(predictions.map((p) => p.label)).toEqual(logged.labels);
    expect(new Set(logged.labels).size).toBeGreaterThan(1);
    predictions.forEach((prediction, i) => {
      expect(Object.keys(prediction.probabilities).sort()).toEqual([...logged.classes].sort());
      logged.classes.forEach((name, c) => {
        expect(
          Math.abs((prediction.probabilities[name] ?? Number.NaN) - (logged.probabilities[i]?.[c] ?? 0)),
        ).toBeLessThan(1e-5);
      });
    });
  });

  it('answers 400 naming a missing column, an unknown one, a string where a number is due and an unknown city', async () => {
    const url = (apis[kind] as PredictApi).url;
    const row = shuffledRecords()[0] as { city: string; size: number; rooms: number };

    const missing = await postPredict(url, {
      dataframe_split: { columns: ['city', 'size'], data: [['rome', 50]] },
    });
    const unknown = await postPredict(url, { instances: [{ ...row, floors: 2 }] });
    const text = await postPredict(url, { instances: [row, { ...row, size: 'big' }] });
    const city = await postPredict(url, { instances: [{ ...row, city: 'lyon' }] });

    expect(missing).toMatchObject({
      status: 400,
      body: { error: { code: 'MISSING_FIELD', field: 'rooms' } },
    });
    expect(unknown).toMatchObject({
      status: 400,
      body: { error: { code: 'UNKNOWN_FIELD', field: 'floors', row: 0 } },
    });
    expect(text.body.error).toEqual({
      code: 'INVALID_TYPE',
      message: 'size in row 1 must be a number, got the string "big"',
      field: 'size',
      row: 1,
    });
    expect(city.body.error).toMatchObject({ code: 'UNKNOWN_CATEGORY', field: 'city', row: 0 });
    expect(city.body.error?.message).toContain('known values: "oslo", "paris", "rome"');
  });
});

describe('a skl2onnx regressor pipeline', () => {
  it('answers as scikit-learn does via instances and dataframe_split, to float precision', async () => {
    const url = (apis.regressor as PredictApi).url;

    const records = await postPredict(url, { instances: shuffledRecords() });
    const split = await postPredict(url, shuffledSplit());

    for (const answer of [records, split]) {
      expect(answer.status).toBe(200);
      const values = (answer.body.predictions ?? []) as unknown as number[];
      expect(values).toHaveLength(logged.values.length);
      values.forEach((value, i) => {
        const want = logged.values[i] as number;
        expect(Math.abs(value - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
      });
    }
  });

  it('documents the real inputs in /openapi.json: the city as a string enum, rooms as an integer', async () => {
    const response = await fetch(`${(apis.regressor as PredictApi).url}/openapi.json`);
    const document = (await response.json()) as {
      components: { schemas: { Record: { properties: Record<string, unknown>; required: string[] } } };
    };

    expect(document.components.schemas.Record).toMatchObject({
      properties: {
        city: { type: 'string', enum: ['oslo', 'paris', 'rome'] },
        size: { type: 'number' },
        rooms: { type: 'integer' },
      },
      required: ['city', 'size', 'rooms'],
    });
  });
});

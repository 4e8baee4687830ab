/**
 * The models a Python user logs, served by our predict API: scikit-learn ColumnTransformer
 * pipelines (OneHotEncoder on a string column, StandardScaler on the numbers) converted the usual
 * way, `skl2onnx.to_onnx(pipeline, X_dataframe)` (one [N, 1] input per column, a string tensor
 * for the category), logged with `mlflow.onnx.log_model(..., signature=infer_signature(X, y),
 * input_example=...)` to the real MLflow of the test services. Our API must answer exactly as
 * scikit-learn's predict / predict_proba do (to float32 precision), whatever the column order.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PredictApi,
  postPredict,
  pythonEnv,
  run,
  setAlias,
  startPredictApi,
  VENV_BIN,
} from '../support/predict-fixtures';

const PREFIX = `sklearn-it-${Date.now().toString(36)}`;

/**
 * Fits a classifier (3 classes) and a regressor on a mixed DataFrame, converts each with
 * skl2onnx (the classifier twice: default ZipMap, and zipmap=False), logs and registers them,
 * and prints scikit-learn's own answers on a held-out frame.
 */
const SCRIPT = `
import json, sys
import numpy as np, pandas as pd
import mlflow, mlflow.onnx
from mlflow.models import infer_signature
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skl2onnx import to_onnx

prefix, tracking_uri = sys.argv[1], sys.argv[2]
mlflow.set_tracking_uri(tracking_uri)
rng = np.random.default_rng(7)

def frame(n):
    # object dtype: pandas 3's default string dtype does not reach onnxruntime (see the README).
    return pd.DataFrame({
        'city': pd.Series(rng.choice(['paris', 'rome', 'oslo'], n), dtype=object),
        'size': rng.normal(60, 15, n).round(1),
        'rooms': rng.integers(1, 6, n).astype(np.int64),
    })

X, X_test = frame(300), frame(12)
def score(df):
    return df['size'] / 10 + 2 * df['rooms'] + np.where(df['city'] == 'rome', 4, np.where(df['city'] == 'oslo', -3, 0))
y_class = np.array(['low', 'mid', 'high'], dtype=object)[np.digitize(score(X) + rng.normal(0, 1.5, len(X)), [13, 17])]
y_value = 3 * score(X) + rng.normal(0, 1, len(X))

def pipeline(estimator):
    pre = ColumnTransformer([
        ('cat', OneHotEncoder(handle_unknown='ignore'), ['city']),
        ('num', StandardScaler(), ['size', 'rooms']),
    ])
    return Pipeline([('pre', pre), ('model', estimator)])

classifier = pipeline(LogisticRegression(max_iter=1000)).fit(X, y_class)
regressor = pipeline(Ridge(alpha=0.5)).fit(X, y_value)

def log(onx, y, name):
    with mlflow.start_run():
        info = mlflow.onnx.log_model(onx, name='model', signature=infer_signature(X, y), input_example=X.head(3),
                                     pip_requirements=['onnx', 'onnxruntime'], registered_model_name=name)
    return str(info.registered_model_version)

# skl2onnx 1.20 converts a multiclass LogisticRegression over double inputs into a graph
# onnxruntime refuses (Softmax typed float over double scores), in Python as here; the usual
# float32 numbers avoid it, and give the classifier a float input beside int64 and string ones.
X32 = X.head(1).astype({'size': np.float32})
versions = {
    'zipmap': log(to_onnx(classifier, X32), y_class, prefix + '-zipmap'),
    'tensor': log(to_onnx(classifier, X32, options={'zipmap': False}), y_class, prefix + '-tensor'),
    'regressor': log(to_onnx(regressor, X.head(1)), y_value, prefix + '-regressor'),
}
rows = [{'city': c, 'size': float(s), 'rooms': int(r)} for c, s, r in X_test.itertuples(index=False)]
print('RESULT ' + json.dumps({
    'versions': versions,
    'rows': rows,
    'classes': [str(c) for c in classifier.classes_],
    'labels': [str(v) for v in classifier.predict(X_test)],
    'probabilities': classifier.predict_proba(X_test).tolist(),
    'values': regressor.predict(X_test).tolist(),
}))
`;

interface Logged {
  versions: { zipmap: string; tensor: string; regressor: string };
  rows: { city: string; size: number; rooms: number }[];
  classes: string[];
  labels: string[];
  probabilities: number[][];
  values: number[];
}

let logged: Logged;
const apis: Record<string, PredictApi> = {};

beforeAll(async () => {
  const trackingUri = process.env.MLFLOW_TRACKING_URI ?? '';
  const { stdout, stderr, code } = await run(
    join(VENV_BIN, 'python'),
    ['-c', SCRIPT, PREFIX, trackingUri],
    pythonEnv(),
  );
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line)
    throw new Error(`logging the scikit-learn models failed (exit ${code}):\n${stderr.slice(-3000)}`);
  logged = JSON.parse(line.slice('RESULT '.length)) as Logged;
  for (const kind of ['zipmap', 'tensor', 'regressor'] as const) {
    const name = `${PREFIX}-${kind}`;
    await setAlias(trackingUri, name, 'Production', logged.versions[kind]);
    apis[kind] = await startPredictApi({
      MLFLOW_TRACKING_URI: trackingUri,
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

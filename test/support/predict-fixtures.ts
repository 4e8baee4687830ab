/**
 * What the predict integration tests and the predict benchmark need around the real services:
 * iris classifiers built by hand with `onnx.helper` and scikit-learn pipelines converted with
 * skl2onnx, logged from Python with `mlflow.onnx.log_model` (a Python user's model, served as is), a private `mlflow server` that
 * can be stopped, alias moves over MLflow's REST API, and the predict API on a free port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { MlflowClient, mlflowClientOptionsFromEnv } from '../../lambdas/core/mlflow';
import type { ModelStore } from '../../lambdas/core/serving/model-store';
import {
  modelFilesPrefix,
  type PublishResult,
  publishAliasManifest,
} from '../../lambdas/core/serving-manifest';
import { createPredictApp } from '../../lambdas/predict/app';
import { loadPredictConfig } from '../../lambdas/predict/config';
import { createObservability } from '../../lambdas/predict/observability';
import { servingS3Client } from '../../lambdas/predict/registry';
import { apiCallerFromEnv, callApi } from '../../localstack/serve/api-client';
import { createApiGatewayServer } from '../../localstack/serve/api-gateway-adapter';
import { requestAuthFromEnv, requestAuthorizer } from '../../localstack/serve/request-auth';
import { ROOT } from '../../localstack/services/services';
import { runProcess } from './entry-point';

export const VENV_BIN = join(ROOT, 'localstack', '.venv', 'bin');
export const IRIS_COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
export const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
export const VIRGINICA = { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 };

export interface VersionSpec {
  /** Intercepts of the three classes (versions differ by them). @default [0.3, 1.0, -1.2] */
  readonly intercepts?: readonly number[];
  /** Register a version whose model.onnx is garbage. */
  readonly corrupt?: boolean;
}

export interface Registration {
  readonly trackingUri: string;
  readonly name: string;
  readonly versions: readonly VersionSpec[];
}

export interface RegisteredVersion {
  readonly version: string;
  readonly runId: string;
}

/**
 * Builds an ai.onnx.ml LinearClassifier (input `input` float[N,4], outputs `label` and
 * `probabilities`) and logs it the way a Python user would: a tensor signature and a DataFrame
 * input example. Waits for each target server to be healthy first, so it can run while one boots.
 */
const REGISTER_SCRIPT = `
import json, os, sys, tempfile, time, urllib.request
import numpy as np, pandas as pd, onnx
from onnx import helper, TensorProto
import mlflow, mlflow.onnx
from mlflow.models import ModelSignature
from mlflow.types.schema import Schema, TensorSpec

COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']
CLASSES = ['setosa', 'versicolor', 'virginica']

def classifier(intercepts):
    x = helper.make_tensor_value_info('input', TensorProto.FLOAT, [None, 4])
    label = helper.make_tensor_value_info('label', TensorProto.STRING, [None])
    probabilities = helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, [None, 3])
    node = helper.make_node(
        'LinearClassifier', ['input'], ['label', 'probabilities'], domain='ai.onnx.ml',
        coefficients=[0.4, 1.4, -2.2, -1.0, 0.5, -1.6, 0.5, -1.3, -1.6, -1.4, 2.4, 2.3],
        intercepts=[float(v) for v in intercepts], classlabels_strings=CLASSES,
        multi_class=0, post_transform='SOFTMAX')
    graph = helper.make_graph([node], 'iris', [x], [label, probabilities])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17), helper.make_opsetid('ai.onnx.ml', 3)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model

def wait_healthy(uri):
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(uri + '/health', timeout=2).status == 200:
                return
        except Exception:
            time.sleep(0.3)
    raise SystemExit('mlflow at ' + uri + ' did not become healthy')

signature = ModelSignature(inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, 4))]))
example = pd.DataFrame([[5.1, 3.5, 1.4, 0.2]], columns=COLUMNS).astype(np.float32)
# Declared rather than inferred: inference loads the model in a subprocess, seconds per version.
requirements = ['onnx', 'onnxruntime']
results = []
for target in json.loads(sys.argv[1]):
    wait_healthy(target['trackingUri'])
    mlflow.set_tracking_uri(target['trackingUri'])
    versions = []
    for spec in target['versions']:
        model = classifier(spec.get('intercepts', [0.3, 1.0, -1.2]))
        with mlflow.start_run() as run:
            if spec.get('corrupt'):
                with tempfile.TemporaryDirectory() as tmp:
                    path = os.path.join(tmp, 'model')
                    mlflow.onnx.save_model(model, path, signature=signature, input_example=example, pip_requirements=requirements)
                    with open(os.path.join(path, 'model.onnx'), 'wb') as f:
                        f.write(b'this is not an onnx model')
                    mlflow.log_artifacts(path, 'model')
                version = mlflow.register_model('runs:/' + run.info.run_id + '/model', target['name']).version
            else:
                info = mlflow.onnx.log_model(model, name='model', signature=signature, input_example=example,
                                             pip_requirements=requirements, registered_model_name=target['name'])
                version = info.registered_model_version
        versions.append({'version': str(version), 'runId': run.info.run_id})
    results.append(versions)
print('RESULT ' + json.dumps(results))
`;

/** Logs and registers the versions, one Python process for all targets; answers per target. */
export async function registerIrisModels(targets: readonly Registration[]): Promise<RegisteredVersion[][]> {
  const { stdout, stderr, code } = await run(
    join(VENV_BIN, 'python'),
    ['-c', REGISTER_SCRIPT, JSON.stringify(targets)],
    {
      ...pythonEnv(),
    },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line)
    throw new Error(`registering models failed (exit ${code}):\n${stderr.slice(-3000)}`);
  return JSON.parse(line.slice('RESULT '.length)) as RegisteredVersion[][];
}

/**
 * scikit-learn ColumnTransformer pipelines as a Python user logs them: fits a classifier
 * (3 classes) and a regressor on a mixed DataFrame (string, float, int64 columns), converts each with
 * skl2onnx (the classifier twice: default ZipMap, and zipmap=False), logs and registers them,
 * and prints scikit-learn's own answers on a held-out frame.
 */
const SKLEARN_SCRIPT = `
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

export interface SklearnModels {
  /** Registered as `<prefix>-zipmap`, `<prefix>-tensor` and `<prefix>-regressor`, version each. */
  versions: { zipmap: string; tensor: string; regressor: string };
  rows: { city: string; size: number; rooms: number }[];
  classes: string[];
  labels: string[];
  probabilities: number[][];
  values: number[];
}

/** Logs and registers the three scikit-learn models (one Python process); answers scikit-learn's own predictions. */
export async function logSklearnModels(trackingUri: string, prefix: string): Promise<SklearnModels> {
  const { stdout, stderr, code } = await run(
    join(VENV_BIN, 'python'),
    ['-c', SKLEARN_SCRIPT, prefix, trackingUri],
    pythonEnv(),
  );
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line)
    throw new Error(`logging the scikit-learn models failed (exit ${code}):\n${stderr.slice(-3000)}`);
  return JSON.parse(line.slice('RESULT '.length)) as SklearnModels;
}

export function pythonEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // `mlflow models serve` starts uvicorn by name.
    PATH: `${VENV_BIN}:${process.env.PATH ?? ''}`,
    MLFLOW_S3_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    AWS_DEFAULT_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    MLFLOW_DISABLE_TELEMETRY: 'true',
    DO_NOT_TRACK: 'true',
    GIT_PYTHON_REFRESH: 'quiet',
  };
}

export interface PrivateMlflow {
  readonly url: string;
  /** Kills the server's process group and removes its store. */
  stop(): Promise<void>;
}

/**
 * A second `mlflow server` of our own (SQLite store), which a test may stop without touching
 * the shared one. It does not proxy artifacts: model versions live at s3:// locations, which
 * the predict function then reads from S3 directly.
 */
export async function startPrivateMlflow(): Promise<PrivateMlflow> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'predict-mlflow-'));
  const child = spawn(
    join(VENV_BIN, 'mlflow'),
    [
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      '1',
      '--backend-store-uri',
      `sqlite:///${join(dir, 'mlflow.db')}`,
      '--no-serve-artifacts',
      '--default-artifact-root',
      `s3://mlflow-artifacts/predict-it-${port}-${Date.now()}`,
    ],
    { detached: true, stdio: 'ignore', env: pythonEnv(), cwd: dir },
  );
  const stop = async () => {
    await killGroup(child);
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `http://127.0.0.1:${port}`, stop };
}

export async function waitHealthy(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error(`${url} was not healthy after ${timeoutMs} ms`);
}

export async function setAlias(
  trackingUri: string,
  name: string,
  alias: string,
  version: string,
): Promise<void> {
  await mlflowCall(trackingUri, 'POST', '/api/2.0/mlflow/registered-models/alias', { name, alias, version });
}

export async function deleteAlias(trackingUri: string, name: string, alias: string): Promise<void> {
  await mlflowCall(trackingUri, 'DELETE', '/api/2.0/mlflow/registered-models/alias', { name, alias });
}

/** The serving bucket of the local stack (global-setup puts SERVING_BUCKET in the environment). */
export function servingBucket(): string {
  const bucket = process.env.SERVING_BUCKET;
  if (!bucket) throw new Error('SERVING_BUCKET is not set: run the integration tests through global-setup');
  return bucket;
}

/** Makes the serving manifest of an alias equal to MLflow's, as every writer does (publishAliasManifest). */
export async function publishAlias(trackingUri: string, name: string, alias: string): Promise<PublishResult> {
  const mlflow = new MlflowClient(
    mlflowClientOptionsFromEnv({ ...process.env, MLFLOW_TRACKING_URI: trackingUri }),
  );
  return publishAliasManifest(
    { mlflow, s3: servingS3Client(process.env), bucket: servingBucket() },
    { model: name, alias, via: 'cli', movedBy: 'predict-tests' },
  );
}

/** Moves an alias in MLflow and publishes its manifest, as `mlops promote` does. */
export async function moveAlias(
  trackingUri: string,
  name: string,
  alias: string,
  version: string,
): Promise<void> {
  await setAlias(trackingUri, name, alias, version);
  await publishAlias(trackingUri, name, alias);
}

/** Deletes an alias in MLflow and its manifest. */
export async function removeAlias(trackingUri: string, name: string, alias: string): Promise<void> {
  await deleteAlias(trackingUri, name, alias);
  await publishAlias(trackingUri, name, alias);
}

/** Reads the serving bucket's copy of a version's file. */
export async function servedFile(name: string, version: string, path: string): Promise<Uint8Array> {
  const answer = await servingS3Client(process.env).send(
    new GetObjectCommand({ Bucket: servingBucket(), Key: `${modelFilesPrefix(name, version)}${path}` }),
  );
  return (await answer.Body?.transformToByteArray()) ?? new Uint8Array();
}

/**
 * Replaces the bytes of a version's copied file but keeps the sha256 recorded on the object, as a
 * bad copy or tampering would: the publisher then sees nothing to redo, and only the reader's
 * check against the manifest catches it.
 */
export async function tamperServedFile(
  name: string,
  version: string,
  path: string,
  bytes: Uint8Array,
): Promise<void> {
  const s3 = servingS3Client(process.env);
  const key = `${modelFilesPrefix(name, version)}${path}`;
  const head = await s3.send(new GetObjectCommand({ Bucket: servingBucket(), Key: key }));
  await head.Body?.transformToByteArray();
  await s3.send(
    new PutObjectCommand({ Bucket: servingBucket(), Key: key, Body: bytes, Metadata: head.Metadata ?? {} }),
  );
}

async function mlflowCall(trackingUri: string, method: string, path: string, body: object): Promise<void> {
  // The local MLflow asks for basic auth: the user global-setup put in the environment.
  const { MLFLOW_TRACKING_USERNAME: username, MLFLOW_TRACKING_PASSWORD: password } = process.env;
  const auth: Record<string, string> =
    username && password
      ? { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` }
      : {};
  const response = await fetch(`${trackingUri}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
}

export interface PredictApi {
  readonly url: string;
  readonly store: ModelStore;
  close(): Promise<void>;
}

/** The predict handler as the Lambda builds it, behind the API Gateway adapter on a free port. */
export async function startPredictApi(env: Record<string, string>): Promise<PredictApi> {
  const config = loadPredictConfig({ ...process.env, ...env });
  // The tests read answers, not the EMF lines every request would print.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const { handler, store } = createPredictApp(config, {
    observability: createObservability({ logLevel: 'ERROR' }),
  });
  // Checks callers as `npm run serve` does (SigV4 with the local credentials by default).
  const server: Server = createApiGatewayServer(handler, {
    authorize: requestAuthorizer(requestAuthFromEnv({ ...process.env, ...env })),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.close();
    },
  };
}

export interface PredictAnswer {
  readonly status: number;
  readonly body: {
    predictions?: { label: string; probabilities: Record<string, number> }[];
    model?: { name: string; version: string; alias: string; run_id: string };
    error?: { code: string; message: string; field: string | null; row: number | null };
  };
}

/** POST /predict as a client does: signed with the local credentials (API_AUTH=iam) or keyed. */
export async function postPredict(url: string, body: unknown, alias?: string): Promise<PredictAnswer> {
  const response = await callApi(apiCallerFromEnv(), `${url}/predict${alias ? `?alias=${alias}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as PredictAnswer['body'] };
}

/** GET, authenticated like `postPredict` (harmless on the public routes). */
export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await callApi(apiCallerFromEnv(), url);
  return { status: response.status, body: (await response.json()) as T };
}

/** `npm run serve` as a command line (tsx and its arguments from package.json's script). */
export function serveCommand(): { command: string; args: string[] } {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: { serve: string };
  };
  const [tool, ...args] = scripts.serve.split(/\s+/);
  return { command: join(ROOT, 'node_modules', '.bin', tool ?? 'tsx'), args };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Stops a process started detached (its own group) and waits for it to exit. */
export async function killGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
  await exited;
}

export async function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const { status, stdout, stderr } = await runProcess(command, args, { env });
  return { stdout, stderr, code: status };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

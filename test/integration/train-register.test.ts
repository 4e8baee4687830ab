/**
 * The training lifecycle against the real local MLflow (Postgres store, artifacts proxied to the
 * local S3): runs, artifacts, the registered version, Python's view of it, the promotion gate,
 * and a dataset with a broken row.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDataset } from '../../lambdas/core/data';
import {
  DatasetRejectedError,
  loadSplit,
  memoryBlobStore,
  type PreparedDataset,
  predictWithOnnx,
  TAGS,
  type TrainResult,
  trainAndRegister,
} from '../../lambdas/core/lifecycle';
import { MlflowClient } from '../../lambdas/core/mlflow';
import { readModelDirectory } from '../../lambdas/core/model-format';
import type { ClassificationData } from '../../lambdas/core/training';

const PYTHON = resolve('localstack/.venv/bin/python');
const SUFFIX = `${Date.now().toString(36)}-${process.pid}`;
const MODEL = `train-register-${SUFFIX}`;
const EXPERIMENT = `train-register-${SUFFIX}`;
/** One tree of depth one: separates setosa from the rest, no more (macro F1 about 0.55). */
const WEAK = [
  { name: 'stump', family: 'random_forest', params: { n_estimators: 1, max_depth: 1, bootstrap: false } },
];

const mlflow = MlflowClient.fromEnv();
const store = memoryBlobStore();
let prepared: PreparedDataset;
let first: TrainResult;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'train-register-'));
  first = await trainAndRegister(
    { dataset: 'iris', experiment: EXPERIMENT, modelName: MODEL },
    {
      mlflow,
      store,
      onProgress: (event) => {
        if (event.type === 'prepared') prepared = event.dataset;
      },
    },
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('training iris against MLflow', () => {
  it('logs every candidate as a finished run with metrics, params, tags, the dataset input and a model artifact', async () => {
    expect(first.candidates.map((c) => c.family)).toEqual([
      'logistic_regression',
      'random_forest',
      'gradient_boosting',
    ]);
    for (const candidate of first.candidates) {
      expect(candidate.status).toBe('succeeded');
      const run = await mlflow.getRun(candidate.run_id ?? '');
      expect(run.info.status).toBe('FINISHED');
      const metrics = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
      expect(metrics).toMatchObject({
        accuracy: candidate.metrics.accuracy,
        f1_macro: candidate.metrics.f1_macro,
        log_loss: candidate.metrics.log_loss,
        test_rows: 30,
        train_rows: 120,
      });
      const params = Object.fromEntries(run.data.params.map((p) => [p.key, p.value]));
      expect(params.seed).toBe('42');
      const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
      expect(tags).toMatchObject({
        [TAGS.candidate]: candidate.name,
        [TAGS.family]: candidate.family,
        [TAGS.task]: 'classification',
        [TAGS.datasetVersion]: first.dataset.version,
        [TAGS.datasetDigest]: first.dataset.digest,
      });
      const [input] = run.inputs.dataset_inputs;
      expect(input?.dataset).toMatchObject({ name: 'iris', digest: first.dataset.version });
      expect(input?.tags).toEqual([{ key: 'mlflow.data.context', value: 'training' }]);
      // As MLflow 3's UI shows a Python-logged run: its source and user, its LoggedModel.
      expect(tags['mlflow.source.type']).toBe('LOCAL');
      expect(tags['mlflow.source.name']).toBe('mlops train');
      expect(tags['mlflow.user']).toBeTruthy();
      const [output] = run.outputs.model_outputs;
      const logged = await mlflow.getLoggedModel(output?.model_id ?? '');
      expect(logged.info).toMatchObject({
        source_run_id: run.info.run_id,
        status: 'LOGGED_MODEL_READY',
        name: 'model',
      });
      const files = (await mlflow.listArtifactFiles(logged.info.artifact_uri)).map((f) => f.path).sort();
      expect(files).toEqual(
        expect.arrayContaining(['MLmodel', 'model.onnx', 'data_contract/input_schema.json']),
      );
    }
    const params = await mlflow.getRun(first.candidates[1]?.run_id ?? '');
    expect(params.data.params).toContainEqual({ key: 'n_estimators', value: '100' });
  });

  it('reaches at least 0.93 holdout accuracy with every family', () => {
    for (const candidate of first.candidates) {
      expect(candidate.metrics.accuracy, candidate.name).toBeGreaterThanOrEqual(0.93);
    }
  });

  it('registers the best candidate as version 1, tagged with the dataset and the selection', async () => {
    const best = first.candidates.find((c) => c.name === first.best);
    expect(first).toMatchObject({ model: MODEL, version: '1', run_id: best?.run_id });
    expect(first.metric.name).toBe('f1_macro');
    expect(first.metric.value).toBe(Math.max(...first.candidates.map((c) => c.metrics.f1_macro ?? 0)));
    const version = await mlflow.getModelVersion(MODEL, '1');
    const run = await mlflow.getRun(first.run_id);
    expect(version.status).toBe('READY');
    expect(version.run_id).toBe(first.run_id);
    const modelId = run.outputs.model_outputs[0]?.model_id;
    // MLflow links a version to its LoggedModel through the `models:/<id>` source (and tags the model).
    expect(version.source).toBe(`models:/${modelId}`);
    const logged = await mlflow.getLoggedModel(modelId ?? '');
    expect(await mlflow.getModelVersionDownloadUri(MODEL, '1')).toBe(logged.info.artifact_uri);
    expect(logged.info.tags).toContainEqual({
      key: 'mlflow.modelVersions',
      value: JSON.stringify([{ name: MODEL, version: 1 }])
        .replace(/,/g, ', ')
        .replace(/:/g, ': '),
    });
    const experiment = await mlflow.getExperiment(run.info.experiment_id);
    expect(experiment.tags).toContainEqual({
      key: 'mlflow.experimentKind',
      value: 'custom_model_development',
    });
    expect(Object.fromEntries(version.tags.map((t) => [t.key, t.value]))).toMatchObject({
      [TAGS.datasetDigest]: first.dataset.digest,
      [TAGS.datasetVersion]: first.dataset.version,
      [TAGS.selectionMetric]: 'f1_macro',
      [TAGS.selectionValue]: String(first.metric.value),
      [TAGS.candidate]: first.best,
    });
  });

  it('loads in Python with mlflow.pyfunc from models:/ and predicts what onnxruntime-node predicts', async () => {
    const test = (await loadSplit(prepared, 'test', store)) as ClassificationData;
    const store1 = await mlflow.artifactStore(await mlflow.getModelVersionDownloadUri(MODEL, '1'));
    const files = new Map<string, Uint8Array>();
    for (const file of await store1.listFiles('')) files.set(file.path, await store1.get(file.path));
    const ours = await predictWithOnnx(readModelDirectory(files), test);
    if (ours.task !== 'classification') throw new Error('expected a classifier');

    const rows = Array.from({ length: test.rows }, (_, i) =>
      Array.from(test.x.subarray(i * test.cols, (i + 1) * test.cols)),
    );
    const job = join(dir, 'job.json');
    await writeFile(job, JSON.stringify({ uri: `models:/${MODEL}/1`, columns: test.features, rows }));
    const script = [
      'import json, logging, sys',
      'logging.disable(logging.WARNING)',
      'import mlflow.pyfunc, pandas as pd',
      'job = json.load(open(sys.argv[1]))',
      'model = mlflow.pyfunc.load_model(job["uri"])',
      'out = model.predict(pd.DataFrame(job["rows"], columns=job["columns"], dtype="float64"))',
      'print(json.dumps([str(label) for label in out["label"]]))',
    ].join('\n');
    const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, job], {
      env: { ...process.env, MLFLOW_S3_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL },
      timeout: 120_000,
    });
    const python: string[] = JSON.parse(stdout.trim().split('\n').pop() ?? '[]');

    expect(python).toHaveLength(30);
    expect(python).toEqual(ours.labels);
    const accuracy = python.filter((label, i) => label === test.classes[test.y[i] as number]).length / 30;
    expect(accuracy).toBeCloseTo(
      first.candidates.find((c) => c.name === first.best)?.metrics.accuracy ?? 0,
      10,
    );
  });
});

describe('promotion gate against MLflow', () => {
  const gated = `${MODEL}-gate`;
  const request = {
    dataset: 'iris',
    experiment: EXPERIMENT,
    modelName: gated,
    promote: 'production',
  } as const;

  it('promotes the first version, replaces it with a better one, and keeps it against a worse one', async () => {
    const weak = await trainAndRegister({ ...request, candidates: WEAK }, { mlflow });
    expect(weak.promotion).toMatchObject({
      alias: 'Production',
      promotedToProduction: true,
      productionVersion: null,
    });

    const strong = await trainAndRegister(request, { mlflow });
    expect(strong.version).toBe('2');
    expect(strong.promotion).toMatchObject({
      alias: 'Production',
      promotedToProduction: true,
      productionVersion: '1',
    });
    // Both scored from their registered ONNX artifacts on the same holdout as training's.
    expect(strong.promotion?.productionScore).toBeCloseTo(weak.metric.value, 6);
    expect(strong.promotion?.candidateScore).toBeCloseTo(strong.metric.value, 6);
    expect((await mlflow.getModelVersionByAlias(gated, 'Production')).version).toBe('2');

    const weakAgain = await trainAndRegister({ ...request, candidates: WEAK }, { mlflow });
    expect(weakAgain.promotion).toMatchObject({
      alias: 'Challenger',
      promotedToProduction: false,
      productionVersion: '2',
    });
    expect(weakAgain.promotion?.reason).toMatch(
      /^does not beat Production: f1_macro 0\.\d+ vs 0\.\d+ for Production v2$/,
    );
    expect((await mlflow.getModelVersionByAlias(gated, 'Production')).version).toBe('2');
    expect((await mlflow.getModelVersionByAlias(gated, 'Challenger')).version).toBe('3');
    const tags = (await mlflow.getModelVersion(gated, '3')).tags;
    expect(tags).toContainEqual({ key: TAGS.promotion, value: weakAgain.promotion?.reason });
  });
});

describe('a dataset with a broken row', () => {
  let path: string;

  beforeAll(async () => {
    const iris = await resolveDataset('iris');
    const source = typeof iris.input === 'object' && 'path' in iris.input ? iris.input.path : '';
    const lines = (await readFile(source, 'utf8')).trimEnd().split('\n');
    lines[7] = (lines[7] ?? '').replace(/^[^,]*/, 'abc'); // data row 7: sepal_length is not a number
    path = join(dir, 'flowers.csv');
    await writeFile(path, `${lines.join('\n')}\n`);
    await writeFile(join(dir, 'input_schema.json'), JSON.stringify(iris.contract));
  });

  it('quarantines the row, names it, and trains and registers on the rest', async () => {
    const result = await trainAndRegister(
      {
        dataset: path,
        experiment: EXPERIMENT,
        modelName: `${MODEL}-flowers`,
        candidates: [{ name: 'logreg', family: 'logistic_regression' }],
      },
      { mlflow },
    );

    expect(result.dataset).toMatchObject({ name: 'flowers', rows: 149, quarantined: 1 });
    expect(result.dataset.rejections).toEqual([
      { row: 7, column: 'sepal_length', reason: 'column "sepal_length" value "abc" is not a number' },
    ]);
    const run = await mlflow.getRun(result.run_id);
    expect(run.data.tags).toContainEqual({ key: TAGS.quarantinedRows, value: '1' });
    expect((await mlflow.getModelVersion(`${MODEL}-flowers`, '1')).tags).toContainEqual({
      key: TAGS.quarantinedRows,
      value: '1',
    });
  });

  it('refuses to train when the broken rows are over the allowed share, naming row and column', async () => {
    const act = trainAndRegister(
      { dataset: path, experiment: EXPERIMENT, modelName: `${MODEL}-strict`, maxQuarantinedShare: 0 },
      { mlflow },
    );

    await expect(act).rejects.toBeInstanceOf(DatasetRejectedError);
    await expect(act).rejects.toMatchObject({ code: 'TOO_MANY_REJECTED', row: 7, column: 'sepal_length' });
    await expect(act).rejects.toThrow(
      'dataset flowers rejected: 1 of 150 rows (0.7%) break the data contract, over the 0% allowed ' +
        '(first: row 7: column "sepal_length" value "abc" is not a number)',
    );
  });
});

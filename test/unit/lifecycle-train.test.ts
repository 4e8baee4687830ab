/**
 * The training lifecycle end to end against the TrackingClient seam (an in-memory fake), with the
 * real data, training, ONNX and model-format code underneath.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDataset } from '../../lambdas/core/data';
import {
  DatasetRejectedError,
  memoryBlobStore,
  NoCandidateSucceededError,
  TAGS,
  TrainingRequestError,
  trainAndRegister,
} from '../../lambdas/core/lifecycle';
import { buildModelDirectory, parseMlModel } from '../../lambdas/core/model-format';
import type { LinearModel } from '../../lambdas/core/training';
import { FakeTracking } from '../support/lifecycle-fake-tracking';

/** Small hyper-parameters: the behaviour under test is the lifecycle, not the trainers. */
const SMALL_CANDIDATES = [
  { name: 'logreg', family: 'logistic_regression' },
  { name: 'forest', family: 'random_forest', params: { n_estimators: 10, max_depth: 4 } },
  { name: 'boosting', family: 'gradient_boosting', params: { max_iter: 20, max_leaf_nodes: 8 } },
];
const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const IRIS_CLASSES = ['setosa', 'versicolor', 'virginica'];

let dir: string;
let irisCsv: string[];
let irisContract: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifecycle-train-'));
  const iris = await resolveDataset('iris');
  const path = typeof iris.input === 'object' && 'path' in iris.input ? iris.input.path : '';
  irisCsv = (await readFile(path, 'utf8')).trimEnd().split('\n');
  irisContract = JSON.stringify(iris.contract);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An iris CSV (with the iris contract beside it) whose listed data rows (1-based) get `sepal_length` = value. */
async function irisWith(name: string, broken: readonly number[], value = 'abc'): Promise<string> {
  const folder = await mkdtemp(join(dir, `${name}-`));
  const lines = irisCsv.map((line, i) => (broken.includes(i) ? line.replace(/^[^,]*/, value) : line));
  await writeFile(join(folder, `${name}.csv`), `${lines.join('\n')}\n`);
  await writeFile(join(folder, 'input_schema.json'), irisContract);
  return join(folder, `${name}.csv`);
}

function linearClassifier(features: string[], intercepts: number[]): LinearModel {
  return {
    kind: 'linear',
    task: 'classification',
    features,
    classes: IRIS_CLASSES,
    coefficients: IRIS_CLASSES.map(() => features.map(() => 0)),
    intercepts,
    link: 'softmax',
  };
}

describe('trainAndRegister', () => {
  it('logs every candidate as a finished run with params, metrics, tags, the dataset and the model', async () => {
    const mlflow = new FakeTracking();

    const result = await trainAndRegister(
      { dataset: 'iris', experiment: 'iris-exp', modelName: 'iris-model', candidates: SMALL_CANDIDATES },
      { mlflow },
    );

    expect(result.candidates.map((c) => [c.name, c.status])).toEqual([
      ['logreg', 'succeeded'],
      ['forest', 'succeeded'],
      ['boosting', 'succeeded'],
    ]);
    expect(result.dataset).toMatchObject({
      name: 'iris',
      rows: 150,
      quarantined: 0,
      train_rows: 120,
      test_rows: 30,
    });
    expect(result.dataset.version).toMatch(/^sha256-[0-9a-f]{16}$/);
    for (const candidate of result.candidates) {
      const run = mlflow.runs.get(candidate.run_id ?? '');
      expect(run?.info.status).toBe('FINISHED');
      expect(run?.info.run_name).toBe(candidate.name);
      expect(run?.metrics.get('accuracy')).toBe(candidate.metrics.accuracy);
      expect(run?.metrics.get('f1_macro')).toBeGreaterThan(0.8);
      expect(run?.metrics.get('test_rows')).toBe(30);
      expect(run?.params.get('seed')).toBe('42');
      expect(run?.tags.get(TAGS.candidate)).toBe(candidate.name);
      expect(run?.tags.get(TAGS.family)).toBe(candidate.family);
      expect(run?.tags.get(TAGS.task)).toBe('classification');
      expect(run?.tags.get(TAGS.datasetVersion)).toBe(result.dataset.version);
      expect(run?.tags.get(TAGS.datasetDigest)).toBe(result.dataset.digest);
      expect(run?.inputs[0]?.dataset).toMatchObject({ name: 'iris', digest: result.dataset.version });
      expect(run?.inputs[0]?.tags).toEqual([{ key: 'mlflow.data.context', value: 'training' }]);
      expect(run?.tags.get('mlflow.source.type')).toBe('LOCAL');
      expect(run?.tags.get('mlflow.source.name')).toBe('mlops train');
      expect(run?.tags.get('mlflow.user')).toBeTruthy();
      expect(run?.outputs).toHaveLength(1);
      const logged = mlflow.loggedModels.get(run?.outputs[0] ?? '');
      expect(logged?.info).toMatchObject({
        source_run_id: candidate.run_id,
        status: 'LOGGED_MODEL_READY',
        name: 'model',
        model_type: 'onnx',
      });
      const root = logged?.info.artifact_uri ?? '';
      for (const file of ['MLmodel', 'model.onnx', 'input_example.json', 'data_contract/input_schema.json']) {
        expect(mlflow.artifacts.has(`${root}/${file}`), file).toBe(true);
      }
      const mlmodel = parseMlModel(new TextDecoder().decode(mlflow.artifacts.get(`${root}/MLmodel`)));
      expect(mlmodel.runId).toBe(candidate.run_id);
      expect(mlmodel.artifactPath).toBe('model');
    }
    expect(mlflow.runs.get(result.candidates[1]?.run_id ?? '')?.params.get('n_estimators')).toBe('10');
    const [experiment] = mlflow.experiments.values();
    expect(experiment?.tags).toContainEqual({
      key: 'mlflow.experimentKind',
      value: 'custom_model_development',
    });
    const bestModel = mlflow.runs.get(result.run_id)?.outputs[0] ?? '';
    const example = JSON.parse(
      new TextDecoder().decode(
        mlflow.artifacts.get(`mlflow-artifacts:/1/models/${bestModel}/artifacts/input_example.json`),
      ),
    );
    expect(example.columns).toEqual(IRIS_FEATURES);
    expect(example.data).toHaveLength(5);
  });

  it('registers the best candidate as version 1 with the dataset and selection tags', async () => {
    const mlflow = new FakeTracking();

    const result = await trainAndRegister(
      { dataset: 'iris', modelName: 'iris-model', candidates: SMALL_CANDIDATES },
      { mlflow },
    );

    const best = result.candidates.find((c) => c.name === result.best);
    const bestF1 = Math.max(...result.candidates.map((c) => c.metrics.f1_macro ?? 0));
    expect(best?.metrics.f1_macro).toBe(bestF1);
    expect(result).toMatchObject({ model: 'iris-model', version: '1', run_id: best?.run_id });
    expect(result.metric).toEqual({ name: 'f1_macro', value: bestF1 });
    const version = await mlflow.getModelVersion('iris-model', '1');
    expect(version.run_id).toBe(best?.run_id);
    const modelId = mlflow.runs.get(best?.run_id ?? '')?.outputs[0];
    expect(version.model_id).toBe(modelId);
    expect(version.source).toBe(`models:/${modelId}`);
    expect(await mlflow.getModelVersionDownloadUri('iris-model', '1')).toBe(
      `mlflow-artifacts:/1/models/${modelId}/artifacts`,
    );
    expect(mlflow.tagsOf(version)).toMatchObject({
      [TAGS.datasetDigest]: result.dataset.digest,
      [TAGS.datasetVersion]: result.dataset.version,
      [TAGS.selectionMetric]: 'f1_macro',
      [TAGS.selectionValue]: String(bestF1),
      [TAGS.candidate]: result.best,
    });
    expect(result.promotion).toBeNull();
    expect(mlflow.aliases.size).toBe(0);
  });

  it('names its model after the dataset and its experiment after the model by default', async () => {
    const mlflow = new FakeTracking();

    const result = await trainAndRegister(
      { dataset: 'iris', candidates: SMALL_CANDIDATES.slice(0, 1) },
      { mlflow },
    );

    expect(result.model).toBe('iris-classifier');
    expect([...mlflow.experiments.values()].map((e) => e.name)).toEqual(['iris-classifier']);
  });

  it('selects by the metric asked for, in its direction', async () => {
    const mlflow = new FakeTracking();

    const result = await trainAndRegister(
      { dataset: 'iris', candidates: SMALL_CANDIDATES, metric: 'log_loss' },
      { mlflow },
    );

    const lowest = Math.min(...result.candidates.map((c) => c.metrics.log_loss ?? Number.POSITIVE_INFINITY));
    expect(result.metric).toEqual({ name: 'log_loss', value: lowest });
  });

  it('keeps going when one candidate fails, and leaves its run FAILED with the reason', async () => {
    const mlflow = new FakeTracking();
    mlflow.failUploadsOfRuns.add('forest');
    const events: string[] = [];

    const result = await trainAndRegister(
      { dataset: 'iris', candidates: SMALL_CANDIDATES },
      { mlflow, onProgress: (event) => events.push(event.type) },
    );

    const forest = result.candidates.find((c) => c.name === 'forest');
    expect(forest?.status).toBe('failed');
    expect(forest?.error).toBe('Error: artifact upload refused');
    const run = mlflow.runs.get(forest?.run_id ?? '');
    expect(run?.info.status).toBe('FAILED');
    expect(run?.tags.get(TAGS.error)).toBe('candidate forest failed to log: Error: artifact upload refused');
    expect(result.best).not.toBe('forest');
    expect(events).toEqual([
      'prepared',
      ...SMALL_CANDIDATES.flatMap(() => ['candidate-started', 'candidate-finished']),
      'registered',
    ]);
  });

  it('fails with every reason when all candidates fail, registering nothing', async () => {
    const mlflow = new FakeTracking();
    for (const candidate of SMALL_CANDIDATES) mlflow.failUploadsOfRuns.add(candidate.name);

    const act = trainAndRegister(
      { dataset: 'iris', modelName: 'never', candidates: SMALL_CANDIDATES },
      { mlflow },
    );

    await expect(act).rejects.toThrow(NoCandidateSucceededError);
    await expect(act).rejects.toThrow(
      'all 3 candidates failed: logreg: Error: artifact upload refused; forest:',
    );
    expect(mlflow.versions.get('never')).toBeUndefined();
  });
});

describe('rejected rows', () => {
  it('quarantines a broken row, counts it, names its row and column, and trains on the rest', async () => {
    const mlflow = new FakeTracking();
    const store = memoryBlobStore();
    const path = await irisWith('flowers', [7]);

    const result = await trainAndRegister(
      { dataset: path, candidates: SMALL_CANDIDATES.slice(0, 1) },
      { mlflow, store },
    );

    expect(result.dataset).toMatchObject({ name: 'flowers', rows: 149, quarantined: 1 });
    expect(result.dataset.rejections).toEqual([
      { row: 7, column: 'sepal_length', reason: 'column "sepal_length" value "abc" is not a number' },
    ]);
    const quarantine = new TextDecoder().decode(await store.get(result.dataset.quarantine ?? ''));
    expect(JSON.parse(quarantine.trim())).toMatchObject({ row: 7, record: { sepal_length: 'abc' } });
    expect(mlflow.runs.get(result.run_id)?.tags.get(TAGS.quarantinedRows)).toBe('1');
  });

  it('fails before any run when more rows break the contract than allowed, naming the first row and column', async () => {
    const mlflow = new FakeTracking();
    const path = await irisWith('flowers', [7, 9]);

    const act = trainAndRegister({ dataset: path, maxQuarantinedShare: 0.01 }, { mlflow });

    const error = await act.then(
      () => expect.unreachable('the dataset should be rejected'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatasetRejectedError);
    if (!(error instanceof DatasetRejectedError)) return;
    expect(error).toMatchObject({ code: 'TOO_MANY_REJECTED', column: 'sepal_length', row: 7 });
    expect(error.message).toBe(
      'dataset flowers rejected: 2 of 150 rows (1.3%) break the data contract, over the 1% allowed ' +
        '(first: row 7: column "sepal_length" value "abc" is not a number)',
    );
    expect(mlflow.runs.size).toBe(0);
  });

  it('fails when no valid row is left, even when any share is allowed', async () => {
    const path = await irisWith(
      'empty',
      Array.from({ length: 150 }, (_, i) => i + 1),
      '-1',
    );

    const act = trainAndRegister({ dataset: path, maxQuarantinedShare: 1 }, { mlflow: new FakeTracking() });

    await expect(act).rejects.toMatchObject({ code: 'NO_VALID_ROWS', column: 'sepal_length', row: 1 });
  });
});

describe('request checks', () => {
  it.each([
    [{ metric: 'rmse' }, "metric: 'rmse' is not a classification metric"],
    [
      { candidates: [{ name: 'r', family: 'ridge' }] },
      'candidates[0].family: ridge does not do classification',
    ],
    [{ candidates: [{ name: 'x', family: 'svm' }] }, 'candidates[0].family: unknown family "svm"'],
    [
      { candidates: [{ name: 'rf', family: 'random_forest', params: { max_dept: 3 } }] },
      'candidates[0].params',
    ],
    [
      { candidates: [SMALL_CANDIDATES[0], SMALL_CANDIDATES[0]] },
      "candidates[1].name: 'logreg' is used twice",
    ],
    [{ seed: -1 }, 'seed: must be an integer in 0..4294967295, got -1'],
    [{ split: 'time' as const }, 'split: a time split needs a time_column in the data contract of iris'],
  ])('rejects %j before creating any run', async (overrides, message) => {
    const mlflow = new FakeTracking();

    const act = trainAndRegister({ dataset: 'iris', ...overrides }, { mlflow });

    await expect(act).rejects.toThrow(TrainingRequestError);
    await expect(act).rejects.toThrow(message);
    expect(mlflow.runs.size).toBe(0);
  });
});

describe('promotion gate', () => {
  const request = { dataset: 'iris', modelName: 'gated', candidates: SMALL_CANDIDATES.slice(0, 1) } as const;

  it('sets Challenger when asked', async () => {
    const mlflow = new FakeTracking();

    const result = await trainAndRegister({ ...request, promote: 'challenger' }, { mlflow });

    expect(mlflow.aliases.get('gated')?.get('Challenger')).toBe('1');
    expect(result.promotion?.alias).toBe('Challenger');
  });

  it('promotes to Production when there is none, then keeps it against an equal newcomer', async () => {
    const mlflow = new FakeTracking();

    const first = await trainAndRegister({ ...request, promote: 'production' }, { mlflow });
    const second = await trainAndRegister({ ...request, promote: 'production' }, { mlflow });

    expect(first.promotion).toMatchObject({
      alias: 'Production',
      promotedToProduction: true,
      productionVersion: null,
    });
    expect(second.promotion).toMatchObject({
      alias: 'Challenger',
      promotedToProduction: false,
      productionVersion: '1',
      productionScore: first.promotion?.candidateScore,
      candidateScore: first.promotion?.candidateScore,
    });
    expect(mlflow.aliases.get('gated')?.get('Production')).toBe('1');
    expect(mlflow.aliases.get('gated')?.get('Challenger')).toBe('2');
    expect(mlflow.tagsOf(await mlflow.getModelVersion('gated', '2'))[TAGS.promotion]).toMatch(
      /^does not beat Production/,
    );
  });

  it('moves Production to the new version when it scores better on the same holdout', async () => {
    const mlflow = new FakeTracking();
    // Always answers setosa: macro F1 about 0.17 on a balanced holdout.
    const weak = buildModelDirectory({ model: linearClassifier(IRIS_FEATURES, [1, 0, 0]), dataContract: {} });
    const weakVersion = await mlflow.registerFiles('gated', weak);
    await mlflow.setRegisteredModelAlias('gated', 'Production', weakVersion);

    const result = await trainAndRegister({ ...request, promote: 'production' }, { mlflow });

    expect(result.version).toBe('2');
    expect(result.promotion).toMatchObject({
      alias: 'Production',
      promotedToProduction: true,
      productionVersion: '1',
    });
    expect(result.promotion?.productionScore).toBeCloseTo(1 / 6, 6);
    expect(result.promotion?.candidateScore).toBeGreaterThan(0.9);
    expect(mlflow.aliases.get('gated')?.get('Production')).toBe('2');
  });

  it('keeps a Production version that cannot be scored on the new holdout', async () => {
    const mlflow = new FakeTracking();
    const other = buildModelDirectory({
      model: linearClassifier(['petal_area'], [0, 0, 1]),
      dataContract: {},
    });
    await mlflow.setRegisteredModelAlias('gated', 'Production', await mlflow.registerFiles('gated', other));

    const result = await trainAndRegister({ ...request, promote: 'production' }, { mlflow });

    expect(result.promotion).toMatchObject({
      alias: 'Challenger',
      promotedToProduction: false,
      productionScore: null,
    });
    expect(result.promotion?.reason).toBe(
      "Production v1 could not be scored on this holdout (the model takes a column 'petal_area' the data does not have); kept it",
    );
    expect(mlflow.aliases.get('gated')?.get('Production')).toBe('1');
  });
});

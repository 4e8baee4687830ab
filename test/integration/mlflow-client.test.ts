import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  datasetInput,
  type Experiment,
  MlflowApiError,
  MlflowClient,
  type Run,
} from '../../lambdas/core/mlflow';

// The client against the real local MLflow 3 server (Postgres backend store, artifacts proxied to
// s3://mlflow-artifacts on the local AWS endpoint), over real connections.
const env = inject('localEnv');
const client = MlflowClient.fromEnv({ ...env });
const s3 = new S3Client({
  endpoint: env.AWS_ENDPOINT_URL,
  region: env.AWS_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
});
const suffix = randomUUID().slice(0, 8);
const experimentName = `mlflow-client-it-${suffix}`;
const modelName = `iris-client-it-${suffix}`;

let workDir: string;
let experiment: Experiment;
let run: Run;

/** The files of a small model directory, relative path → content. */
const modelFiles = new Map<string, Buffer>([
  ['MLmodel', Buffer.from('flavors:\n  onnx:\n    onnx_version: 1.17.0\n')],
  ['model.onnx', randomBytes(300_000)],
  ['data_contract/input_schema.json', Buffer.from('{"columns":["sepal_length"]}')],
  ['nested/deeper/empty.txt', Buffer.alloc(0)],
]);

async function writeTree(root: string, files: Map<string, Buffer>): Promise<void> {
  for (const [path, content] of files) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** Relative path → SHA-256 of the content (deep-equal on 300 kB buffers is slow in expect). */
async function digestTree(root: string, paths: string[]): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const path of paths)
    files.set(relative(root, path).split('\\').join('/'), sha256(await readFile(path)));
  return files;
}

function sha256(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

const modelDigests = new Map([...modelFiles].map(([path, content]) => [path, sha256(content)]));

async function rejection(pending: Promise<unknown>): Promise<MlflowApiError> {
  const error = await pending.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MlflowApiError);
  return error as MlflowApiError;
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'mlflow-client-it-'));
  experiment = await client.getOrCreateExperiment(experimentName, {
    tags: [{ key: 'suite', value: 'client' }],
  });
  run = await client.createRun({
    experiment_id: experiment.experiment_id,
    run_name: 'logistic-regression',
    tags: [{ key: 'mlflow.source.name', value: 'mlflow-client.test.ts' }],
  });
});

afterAll(async () => {
  await client.deleteRegisteredModel(modelName).catch(() => undefined);
  await client.deleteExperiment(experiment.experiment_id).catch(() => undefined);
  await rm(workDir, { recursive: true, force: true });
  s3.destroy();
});

describe('experiments and runs', () => {
  it('creates the experiment once and finds the same one by name afterwards', async () => {
    const again = await client.getOrCreateExperiment(experimentName);

    expect(again.experiment_id).toBe(experiment.experiment_id);
    expect(again.artifact_location).toBe(`mlflow-artifacts:/${experiment.experiment_id}`);
    expect(again.tags).toContainEqual({ key: 'suite', value: 'client' });
  });

  it('logs 2100 metrics, 150 params and 120 tags in batches and reads them back', async () => {
    // Prepare: 1100 distinct metric keys plus a 1000-step loss curve.
    const metrics = [
      ...Array.from({ length: 1100 }, (_, i) => ({ key: `feature_importance_${i}`, value: i / 1000 })),
      ...Array.from({ length: 1000 }, (_, step) => ({ key: 'loss', value: 1 / (step + 1), step })),
    ];
    const params = Array.from({ length: 150 }, (_, i) => ({ key: `param_${i}`, value: `value-${i}` }));
    const tags = Array.from({ length: 120 }, (_, i) => ({ key: `tag_${i}`, value: `t${i}` }));

    // Act
    const calls = await client.logBatch({ run_id: run.info.run_id, metrics, params, tags });
    const logged = await client.getRun(run.info.run_id);

    // Assess: getRun holds the latest value per metric key.
    expect(calls).toBe(3);
    expect(logged.data.metrics).toHaveLength(1101);
    expect(logged.data.metrics.find((metric) => metric.key === 'loss')).toMatchObject({
      step: 999,
      value: 1 / 1000,
    });
    expect(logged.data.metrics.find((metric) => metric.key === 'feature_importance_1099')?.value).toBe(1.099);
    expect(logged.data.params).toHaveLength(150);
    expect(logged.data.params).toContainEqual({ key: 'param_149', value: 'value-149' });
    expect(logged.data.tags.filter((tag) => tag.key.startsWith('tag_'))).toHaveLength(120);
    expect(logged.data.tags).toContainEqual({ key: 'mlflow.runName', value: 'logistic-regression' });
  });

  it('logs training and evaluation datasets with their digests and contexts', async () => {
    const dataset = (split: string, digest: string) => ({
      name: `iris-${split}`,
      digest,
      source_type: 's3',
      source: JSON.stringify({ uri: `s3://curated/iris/v3/${split}.parquet` }),
      schema: JSON.stringify({ mlflow_colspec: [{ type: 'double', name: 'sepal_length' }] }),
      profile: JSON.stringify({ num_rows: split === 'train' ? 120 : 30 }),
    });

    await client.logInputs({
      run_id: run.info.run_id,
      datasets: [
        datasetInput(dataset('train', 'a1b2c3d4'), 'training'),
        datasetInput(dataset('test', 'e5f6a7b8'), 'eval'),
      ],
    });
    const inputs = (await client.getRun(run.info.run_id)).inputs.dataset_inputs;

    expect(inputs).toHaveLength(2);
    const training = inputs.find((input) => input.dataset.name === 'iris-train');
    expect(training?.dataset).toMatchObject({
      digest: 'a1b2c3d4',
      source_type: 's3',
      profile: '{"num_rows":120}',
    });
    expect(training?.tags).toEqual([{ key: 'mlflow.data.context', value: 'training' }]);
    expect(inputs.find((input) => input.dataset.name === 'iris-test')?.tags).toEqual([
      { key: 'mlflow.data.context', value: 'eval' },
    ]);
  });

  it('finds the run by a metric filter', async () => {
    const found = await client.searchRuns({
      experiment_ids: [experiment.experiment_id],
      filter: 'metrics.feature_importance_1099 > 1 and params.param_0 = "value-0"',
      max_results: 10,
    });

    expect(found.runs.map((candidate) => candidate.info.run_id)).toEqual([run.info.run_id]);
  });

  it('searches experiments by name page by page, leaving deleted ones out unless asked', async () => {
    // Prepare: three active experiments and a deleted one under a prefix of this run's own.
    const prefix = `search-it-${suffix}-`;
    const ids = new Map<string, string>();
    for (const letter of ['a', 'b', 'c', 'd']) {
      ids.set(letter, await client.createExperiment({ name: `${prefix}${letter}` }));
    }
    await client.deleteExperiment(ids.get('d') ?? '');
    const search = { filter: `name LIKE '${prefix}%'`, order_by: ['name ASC'] };

    // Act
    const first = await client.searchExperiments({ ...search, max_results: 2 });
    const second = await client.searchExperiments({
      ...search,
      max_results: 2,
      page_token: first.next_page_token ?? '',
    });
    const all = await client.searchExperiments({ ...search, view_type: 'ALL' });

    // Assess
    expect(first.experiments.map((e) => e.name)).toEqual([`${prefix}a`, `${prefix}b`]);
    expect(first.next_page_token).toEqual(expect.any(String));
    expect(second.experiments.map((e) => e.name)).toEqual([`${prefix}c`]);
    expect(second.next_page_token).toBeUndefined();
    expect(all.experiments.map((e) => [e.name, e.lifecycle_stage])).toEqual([
      [`${prefix}a`, 'active'],
      [`${prefix}b`, 'active'],
      [`${prefix}c`, 'active'],
      [`${prefix}d`, 'deleted'],
    ]);
    expect(all.experiments[0]?.experiment_id).toBe(ids.get('a'));
    for (const letter of ['a', 'b', 'c']) await client.deleteExperiment(ids.get(letter) ?? '');
  });

  it('maps errors from the real server to MLflow error codes', async () => {
    const missing = await rejection(client.getExperimentByName(`no-such-experiment-${suffix}`));
    const duplicate = await rejection(client.createExperiment({ name: experimentName }));
    const changedParam = await rejection(
      client.logBatch({ run_id: run.info.run_id, params: [{ key: 'param_0', value: 'another value' }] }),
    );

    expect(missing).toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST', status: 404, isNotFound: true });
    expect(duplicate).toMatchObject({ errorCode: 'RESOURCE_ALREADY_EXISTS', status: 400 });
    expect(changedParam).toMatchObject({ errorCode: 'INVALID_PARAMETER_VALUE', status: 400 });
  });
});

describe('artifacts', () => {
  it('uploads a file and a directory through the proxy and downloads them back identical', async () => {
    // Prepare
    const modelDir = join(workDir, 'model');
    await writeTree(modelDir, modelFiles);
    const report = join(workDir, 'report.json');
    await writeFile(report, JSON.stringify({ accuracy: 0.97 }));
    const root = run.info.artifact_uri;
    expect(root).toBe(`mlflow-artifacts:/${experiment.experiment_id}/${run.info.run_id}/artifacts`);

    // Act
    await client.uploadFile(root, report);
    const uploaded = await client.uploadDirectory(root, modelDir, 'model');
    const listed = await client.listArtifacts({ run_id: run.info.run_id });
    const listedModel = await client.listArtifacts({ run_id: run.info.run_id, path: 'model' });
    const downloaded = await client.downloadDirectory(root, join(workDir, 'download'), 'model');
    const reportBack = await client.readArtifact(root, 'report.json');

    // Assess
    expect(uploaded.sort()).toEqual([...modelFiles.keys()].map((path) => `model/${path}`).sort());
    expect(listed.files).toEqual(
      expect.arrayContaining([
        { path: 'model', is_dir: true },
        { path: 'report.json', is_dir: false, file_size: 17 },
      ]),
    );
    expect(listedModel.files).toContainEqual({ path: 'model/model.onnx', is_dir: false, file_size: 300_000 });
    expect(await digestTree(join(workDir, 'download'), downloaded)).toEqual(modelDigests);
    expect(Buffer.from(reportBack).toString()).toBe('{"accuracy":0.97}');
  });

  it('stores what went through the proxy in the mlflow-artifacts bucket on the local S3', async () => {
    const prefix = `${experiment.experiment_id}/${run.info.run_id}/artifacts/`;

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'mlflow-artifacts', Prefix: prefix }));

    const keys = (listed.Contents ?? []).map((object) => object.Key?.slice(prefix.length));
    expect(keys).toEqual(expect.arrayContaining(['report.json', 'model/model.onnx', 'model/MLmodel']));
    expect(listed.Contents?.find((object) => object.Key === `${prefix}model/model.onnx`)?.Size).toBe(300_000);
  });

  it('reads and writes an s3:// location directly, seeing the same objects as the proxy', async () => {
    const s3Root = `s3://mlflow-artifacts/${experiment.experiment_id}/${run.info.run_id}/artifacts`;

    await client.writeArtifact(s3Root, 'direct/notes.txt', 'written straight to S3');
    const throughProxy = await client.readArtifact(run.info.artifact_uri, 'direct/notes.txt');
    const files = await client.listArtifactFiles(s3Root, 'model');
    const downloaded = await client.downloadDirectory(`${s3Root}/model`, join(workDir, 'from-s3'));

    expect(Buffer.from(throughProxy).toString()).toBe('written straight to S3');
    expect(files.map((file) => file.path).sort()).toEqual(
      [...modelFiles.keys()].map((path) => `model/${path}`).sort(),
    );
    expect(await digestTree(join(workDir, 'from-s3'), downloaded)).toEqual(modelDigests);
  });
});

describe('model registry', () => {
  it('registers two versions and moves the Production alias from v1 to v2', async () => {
    // Prepare
    const created = await client.getOrCreateRegisteredModel(modelName, { description: 'iris classifier' });
    const again = await client.getOrCreateRegisteredModel(modelName);
    const source = `${run.info.artifact_uri}/model`;
    const register = () =>
      client.createModelVersion({
        name: modelName,
        source,
        run_id: run.info.run_id,
        tags: [{ key: 'dataset_digest', value: 'a1b2c3d4' }],
      });

    // Act
    const v1 = await register();
    const v2 = await register();
    await client.setRegisteredModelAlias(modelName, 'Production', v1.version);
    const first = await client.getModelVersionByAlias(modelName, 'Production');
    await client.setRegisteredModelAlias(modelName, 'Production', v2.version);
    const moved = await client.getModelVersionByAlias(modelName, 'Production');
    const model = await client.getRegisteredModel(modelName);

    // Assess
    expect(created.name).toBe(modelName);
    expect(again.creation_timestamp).toBe(created.creation_timestamp);
    expect([v1.version, v2.version]).toEqual(['1', '2']);
    expect(v1).toMatchObject({ source, run_id: run.info.run_id, status: 'READY' });
    expect(v1.tags).toEqual([{ key: 'dataset_digest', value: 'a1b2c3d4' }]);
    expect(first).toMatchObject({ version: '1', aliases: ['Production'] });
    expect(moved).toMatchObject({ version: '2', aliases: ['Production'] });
    expect(model.aliases).toEqual([{ alias: 'Production', version: '2' }]);
    expect((await client.getModelVersion(modelName, 1)).aliases).toEqual([]);
  });

  it('deletes the alias, after which resolving it is a not-found error', async () => {
    await client.deleteRegisteredModelAlias(modelName, 'Production');

    const error = await rejection(client.getModelVersionByAlias(modelName, 'Production'));

    // MLflow 3.17 answers a missing alias with INVALID_PARAMETER_VALUE (HTTP 400), not
    // RESOURCE_DOES_NOT_EXIST; `isNotFound` covers both.
    expect(error).toMatchObject({ errorCode: 'INVALID_PARAMETER_VALUE', status: 400, isNotFound: true });
    expect(error.mlflowMessage).toBe('Registered model alias Production not found.');
  });

  it("gives the version's download URI, and the model downloads from it", async () => {
    const uri = await client.getModelVersionDownloadUri(modelName, 2);
    const files = await client.downloadDirectory(uri, join(workDir, 'v2'));

    expect(uri).toBe(`${run.info.artifact_uri}/model`);
    expect(await digestTree(join(workDir, 'v2'), files)).toEqual(modelDigests);
  });

  it('updates, tags, searches and deletes versions', async () => {
    await client.updateModelVersion({ name: modelName, version: 2, description: 'beats v1 on the holdout' });
    await client.setModelVersionTag({ name: modelName, version: 2, key: 'validation', value: 'passed' });
    const v2 = await client.getModelVersion(modelName, 2);
    const versions = await client.searchModelVersions({ filter: `name = '${modelName}'`, max_results: 10 });
    const models = await client.searchRegisteredModels({ filter: `name = '${modelName}'` });
    await client.deleteModelVersion(modelName, 1);
    const deletedVersion = await rejection(client.getModelVersion(modelName, 1));
    await client.deleteRegisteredModel(modelName);
    const deletedModel = await rejection(client.getRegisteredModel(modelName));

    expect(v2.description).toBe('beats v1 on the holdout');
    expect(v2.tags).toContainEqual({ key: 'validation', value: 'passed' });
    expect(versions.model_versions.map((version) => version.version).sort()).toEqual(['1', '2']);
    expect(models.registered_models.map((registered) => registered.name)).toEqual([modelName]);
    expect(deletedVersion).toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST', status: 404 });
    expect(deletedModel).toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST', status: 404 });
  });

  it('ends the run as FINISHED with an end time', async () => {
    const info = await client.endRun(run.info.run_id);

    expect(info.status).toBe('FINISHED');
    expect(info.end_time).toBeGreaterThanOrEqual(info.start_time ?? 0);
  });
});

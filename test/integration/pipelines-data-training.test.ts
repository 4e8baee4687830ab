/**
 * The data and training pipelines end to end: the ASL files run by the local runner, every Task
 * bound to the real step code, against the local S3 endpoint and MLflow. Assertions read S3 and
 * MLflow themselves, not the pipelines' outputs.
 */
import { readFile } from 'node:fs/promises';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetVersion, loadFrame, resolveDataset } from '../../lambdas/core/data';
import { MlflowClient } from '../../lambdas/core/mlflow';
import type { DatasetRef, PublishDatasetOutput, RegisteredModel } from '../../lambdas/steps/step-io';
import { ensureLocalBuckets, LOCAL_DEFAULTS, runPipeline } from '../../localstack/runner/pipelines';

const SUFFIX = `${Date.now().toString(36)}-${process.pid}`;
const DATASET = `iris-pipe-${SUFFIX}`;
const MODEL = `pipelines-${SUFFIX}`;
const EXPERIMENT = `pipelines-${SUFFIX}`;
const PREFIX = `landing/${DATASET}/2025-06-01/`;
const env = { MODEL_NAME: MODEL, DATASET_NAME: DATASET, MLFLOW_EXPERIMENT_NAME: EXPERIMENT };
/** Appended to the 150 iris rows, so they are rows 151-153 of the file. */
const BAD_ROWS = ['abc,3.0,1.4,0.2,setosa', '5.0,3.0,1.4,99,setosa', '5.0,3.0,1.4,0.2,tulip'];

const s3 = new S3Client({
  endpoint: process.env.AWS_ENDPOINT_URL,
  region: process.env.AWS_REGION,
  forcePathStyle: true,
});
const mlflow = MlflowClient.fromEnv();

async function objectText(bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToString()) ?? '';
}
async function objectBytes(bucket: string, key: string): Promise<Uint8Array> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
}

let published: PublishDatasetOutput;
let expectedVersion: string;

beforeAll(async () => {
  const iris = await resolveDataset('iris');
  expectedVersion = datasetVersion((await iris.load()).frame);
  const csv = await readFile('lambdas/core/datasets/iris/iris.csv', 'utf8');
  const schema = await readFile('lambdas/core/datasets/iris/input_schema.json', 'utf8');
  await ensureLocalBuckets(s3, [LOCAL_DEFAULTS.LANDING_BUCKET]);
  const put = (key: string, body: string) =>
    s3.send(new PutObjectCommand({ Bucket: LOCAL_DEFAULTS.LANDING_BUCKET, Key: key, Body: body }));
  await put(`${PREFIX}part-0.csv`, `${csv.trimEnd()}\n${BAD_ROWS.join('\n')}\n`);
  await put(`${PREFIX}input_schema.json`, schema);
  published = (await runPipeline(
    'data',
    { dataset: DATASET, source: { type: 's3', prefix: PREFIX } },
    { env },
  )) as unknown as PublishDatasetOutput;
}, 120_000);

afterAll(() => s3.destroy());

describe('data pipeline on a landing CSV with 3 broken rows', () => {
  it('quarantines exactly the 3 broken rows with their reasons', async () => {
    const [quarantined] = await s3Keys(LOCAL_DEFAULTS.QUARANTINE_BUCKET, `quarantine/${DATASET}/`);
    expect(quarantined).toMatch(/rows\.jsonl$/);
    const lines = (await objectText(LOCAL_DEFAULTS.QUARANTINE_BUCKET, quarantined as string))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { row: number; reasons: { column: string; rule: string }[] });
    expect(lines.map((line) => line.row)).toEqual([151, 152, 153]);
    expect(lines.map((line) => [line.reasons[0]?.column, line.reasons[0]?.rule])).toEqual([
      ['sepal_length', 'not_a_number'],
      ['petal_width', 'above_max'],
      ['species', expect.stringMatching(/^not_a_category|not_allowed_value$/)],
    ]);
  });

  it('publishes train, test and reference splits and a manifest under the content-digest version', async () => {
    expect(published).toMatchObject({ created: true, dataset: { version: expectedVersion, rowCount: 150 } });
    const prefix = `datasets/${DATASET}/${expectedVersion}/`;
    expect((await s3Keys(LOCAL_DEFAULTS.CURATED_BUCKET, prefix)).sort()).toEqual(
      ['manifest.json', 'reference.parquet', 'test.parquet', 'train.parquet'].map((f) => `${prefix}${f}`),
    );
    const manifest = JSON.parse(await objectText(LOCAL_DEFAULTS.CURATED_BUCKET, `${prefix}manifest.json`));
    expect(manifest).toMatchObject({
      name: DATASET,
      version: expectedVersion,
      source: `s3://${LOCAL_DEFAULTS.LANDING_BUCKET}/${PREFIX}`,
      rows: { input: 153, valid: 150, quarantined: 3, train: 120, test: 30, reference: 120 },
    });
    const test = await loadFrame({
      bytes: await objectBytes(LOCAL_DEFAULTS.CURATED_BUCKET, `${prefix}test.parquet`),
      format: 'parquet',
    });
    expect(test.rowCount).toBe(30);
  });
});

describe('training pipeline on the published version', () => {
  let output: { runId: string; dataset: DatasetRef; registered: RegisteredModel };

  beforeAll(async () => {
    output = (await runPipeline(
      'training',
      {
        dataset: { name: DATASET, version: expectedVersion },
        candidates: [
          { name: 'logreg', family: 'logistic_regression' },
          { name: 'forest', family: 'random_forest', params: { n_estimators: 10, max_depth: 4 } },
        ],
        reason: 'manual',
      },
      { env, promotion: 'challenger' },
    )) as unknown as typeof output;
  }, 180_000);

  it('logs one finished MLflow run per candidate with holdout metrics and a model artifact', async () => {
    const experiment = await mlflow.getExperimentByName(EXPERIMENT);
    const { runs = [] } = await mlflow.searchRuns({
      experiment_ids: [experiment.experiment_id],
      filter: `tags."mlops.pipeline_run" = '${output.runId}'`,
    });
    const byCandidate = new Map(
      runs.map((run) => [run.data.tags.find((t) => t.key === 'mlops.candidate')?.value, run]),
    );
    expect([...byCandidate.keys()].sort()).toEqual(['forest', 'logreg']);
    for (const run of runs) {
      expect(run.info.status).toBe('FINISHED');
      const metrics = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
      expect(metrics.f1_macro).toBeGreaterThan(0.8);
      expect(metrics).toMatchObject({ train_rows: 120, test_rows: 30 });
      const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
      expect(tags['mlops.dataset.version']).toBe(expectedVersion);
      const tagged = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
      expect(tagged).toMatchObject({ 'mlflow.source.type': 'JOB', 'mlflow.user': 'training-pipeline' });
      const logged = await mlflow.getLoggedModel(run.outputs.model_outputs[0]?.model_id ?? '');
      expect(logged.info).toMatchObject({ source_run_id: run.info.run_id, status: 'LOGGED_MODEL_READY' });
      const files = await mlflow.listArtifactFiles(logged.info.artifact_uri);
      expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['MLmodel', 'model.onnx']));
    }
  });

  it('registers a new version tagged with the dataset version and sets Challenger on it', async () => {
    const version = await mlflow.getModelVersion(MODEL, output.registered.version);
    expect(version.version).toBe('1');
    const tags = Object.fromEntries(version.tags.map((t) => [t.key, t.value]));
    expect(tags['mlops.dataset.version']).toBe(expectedVersion);
    expect(tags['mlops.dataset.name']).toBe(DATASET);
    const challenger = await mlflow.getModelVersionByAlias(MODEL, 'Challenger');
    expect(challenger.version).toBe(output.registered.version);
  });
});

async function s3Keys(bucket: string, prefix: string): Promise<string[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key as string);
}

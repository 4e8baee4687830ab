/**
 * Re-running the pipelines on the same input gives the same result once: the data pipeline and
 * then the training pipeline run twice on one landing batch make one dataset version and one
 * model version (read back from S3 and the real MLflow), and publishing an older batch after a
 * newer one does not move `latest.json` back. The ASL files run by the local runner with the real
 * step code, against the local S3 endpoint and MLflow.
 */
import { readFile } from 'node:fs/promises';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient } from '../../lambdas/core/mlflow';
import type { PublishDatasetOutput, RegisterModelOutput } from '../../lambdas/steps/step-io';
import { FINGERPRINT_TAG } from '../../lambdas/steps/support/training-fingerprint';
import { ensureLocalBuckets, LOCAL_DEFAULTS, runPipeline } from '../../localstack/runner/pipelines';

const SUFFIX = `${Date.now().toString(36)}-${process.pid}`;
const DATASET = `iris-rerun-${SUFFIX}`;
const MODEL = `rerun-${SUFFIX}`;
const EXPERIMENT = `rerun-${SUFFIX}`;
const OLDER = `landing/${DATASET}/2025-06-01/`;
const NEWER = `landing/${DATASET}/2025-06-02/`;
const env = { MODEL_NAME: MODEL, DATASET_NAME: DATASET, MLFLOW_EXPERIMENT_NAME: EXPERIMENT };
const TRAINING_INPUT = {
  candidates: [
    { name: 'logreg', family: 'logistic_regression', params: { c: 1 } },
    { name: 'forest', family: 'random_forest', params: { n_estimators: 5, max_depth: 3 } },
  ],
  reason: 'manual',
};

const s3 = new S3Client({
  endpoint: process.env.AWS_ENDPOINT_URL,
  region: process.env.AWS_REGION,
  forcePathStyle: true,
});
const mlflow = MlflowClient.fromEnv();

interface TrainingOutput {
  readonly registered: RegisterModelOutput;
  readonly reused: boolean;
  readonly fingerprint: string;
  readonly dataset: { readonly version: string };
}

const runData = async (prefix: string) =>
  (await runPipeline(
    'data',
    { dataset: DATASET, source: { type: 's3', prefix } },
    { env },
  )) as unknown as PublishDatasetOutput;
const runTraining = async () =>
  (await runPipeline('training', TRAINING_INPUT as never, {
    env,
    promotion: 'challenger',
  })) as unknown as TrainingOutput;

async function latest(): Promise<{ version: string; batch: { prefix: string } | null }> {
  const object = await s3.send(
    new GetObjectCommand({ Bucket: LOCAL_DEFAULTS.CURATED_BUCKET, Key: `datasets/${DATASET}/latest.json` }),
  );
  return JSON.parse((await object.Body?.transformToString()) ?? '{}');
}

/** The published versions of the dataset: the `datasets/<name>/<version>/` folders with a manifest. */
async function publishedVersions(): Promise<string[]> {
  const page = await s3.send(
    new ListObjectsV2Command({ Bucket: LOCAL_DEFAULTS.CURATED_BUCKET, Prefix: `datasets/${DATASET}/` }),
  );
  return (page.Contents ?? [])
    .map((o) => o.Key as string)
    .filter((key) => key.endsWith('/manifest.json'))
    .map((key) => key.split('/')[2] as string)
    .sort();
}

let firstData: PublishDatasetOutput;
let secondData: PublishDatasetOutput;
let firstTraining: TrainingOutput;
let secondTraining: TrainingOutput;

beforeAll(async () => {
  const csv = (await readFile('lambdas/core/datasets/iris/iris.csv', 'utf8')).trimEnd().split('\n');
  const schema = await readFile('lambdas/core/datasets/iris/input_schema.json', 'utf8');
  await ensureLocalBuckets(s3, [LOCAL_DEFAULTS.LANDING_BUCKET]);
  const put = (key: string, body: string) =>
    s3.send(new PutObjectCommand({ Bucket: LOCAL_DEFAULTS.LANDING_BUCKET, Key: key, Body: body }));
  // The older batch lacks the last 10 rows: other content, so another version.
  await put(`${OLDER}part-0.csv`, `${csv.slice(0, -10).join('\n')}\n`);
  await put(`${OLDER}input_schema.json`, schema);
  await put(`${NEWER}part-0.csv`, `${csv.join('\n')}\n`);
  await put(`${NEWER}input_schema.json`, schema);

  firstData = await runData(NEWER);
  secondData = await runData(NEWER);
  firstTraining = await runTraining();
  secondTraining = await runTraining();
}, 420_000);

afterAll(() => s3.destroy());

describe('the data pipeline run twice on one batch', () => {
  it('publishes one dataset version and reuses it the second time', async () => {
    expect(firstData).toMatchObject({ created: true, reused: false, latest: 'moved' });
    expect(secondData).toMatchObject({ created: false, reused: true, latest: 'unchanged' });
    expect(secondData.dataset).toEqual(firstData.dataset);
    expect(await publishedVersions()).toEqual([firstData.dataset.version]);
    expect(await latest()).toMatchObject({
      version: firstData.dataset.version,
      batch: { prefix: `s3://${LOCAL_DEFAULTS.LANDING_BUCKET}/${NEWER}` },
    });
  });
});

describe('the training pipeline run twice on that version', () => {
  it('registers one model version in MLflow and reuses it the second time', async () => {
    expect(firstTraining.dataset.version).toBe(firstData.dataset.version);
    expect(firstTraining).toMatchObject({ reused: false, registered: { reused: false } });
    expect(secondTraining).toMatchObject({
      reused: true,
      fingerprint: firstTraining.fingerprint,
      registered: { version: firstTraining.registered.version, reused: true },
    });
    const { model_versions: versions } = await mlflow.searchModelVersions({ filter: `name = '${MODEL}'` });
    expect(versions.map((v) => v.version)).toEqual([firstTraining.registered.version]);
    expect(versions[0]?.tags).toContainEqual({ key: FINGERPRINT_TAG, value: firstTraining.fingerprint });
    // Promotion ran again on the reused version: Challenger still names it.
    const challenger = await mlflow.getModelVersionByAlias(MODEL, 'Challenger');
    expect(challenger.version).toBe(firstTraining.registered.version);
  });
});

describe('publishing an older batch after a newer one', () => {
  let older: PublishDatasetOutput;

  beforeAll(async () => {
    older = await runData(OLDER);
  }, 120_000);

  it('publishes its version but leaves latest.json on the newer batch', async () => {
    expect(older).toMatchObject({ created: true, latest: 'kept' });
    expect(older.dataset.version).not.toBe(firstData.dataset.version);
    expect((await publishedVersions()).sort()).toEqual(
      [firstData.dataset.version, older.dataset.version].sort(),
    );
    expect(await latest()).toMatchObject({
      version: firstData.dataset.version,
      batch: { prefix: `s3://${LOCAL_DEFAULTS.LANDING_BUCKET}/${NEWER}` },
    });
  });

  it('so training without a version still reuses the model of the newer batch', async () => {
    const again = await runTraining();
    expect(again).toMatchObject({ reused: true, registered: { version: firstTraining.registered.version } });
    const { model_versions: versions } = await mlflow.searchModelVersions({ filter: `name = '${MODEL}'` });
    expect(versions).toHaveLength(1);
  }, 120_000);
});

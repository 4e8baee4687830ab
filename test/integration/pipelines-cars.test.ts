/**
 * The four pipelines on real tabular data: the bundled cars dataset (vega-datasets' cars.json) has
 * a string category (`Origin`), missing values in a feature (`Horsepower`) and in the target
 * (`Miles_per_Gallon`). The ASL files run on the local runner against the local S3 endpoint,
 * MLflow and SES; the model the training pipeline registers then answers a scoring batch the same
 * through batch inference and through the predict API fed category strings in another column order.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Frame, loadFrame } from '../../lambdas/core/data';
import { bundledDatasets, defaultDatasetsDir } from '../../lambdas/core/datasets';
import { MlflowClient } from '../../lambdas/core/mlflow';
import type {
  ComputeDriftOutput,
  PlanInferenceOutput,
  PublishDatasetOutput,
  RegisteredModel,
} from '../../lambdas/steps/step-io';
import { ensureLocalBuckets, LOCAL_DEFAULTS, runPipeline } from '../../localstack/runner/pipelines';
import { type PredictApi, postPredict, publishAlias, startPredictApi } from '../support/predict-fixtures';

const SUFFIX = `${Date.now().toString(36)}-${process.pid}`;
const DATASET = `cars-${SUFFIX}`;
const MODEL = `cars-mpg-${SUFFIX}`;
const SENDER = `drift-cars-${SUFFIX}@example.com`;
const env = {
  MODEL_NAME: MODEL,
  DATASET_NAME: DATASET,
  MLFLOW_EXPERIMENT_NAME: `train-${SUFFIX}`,
  ALERT_SENDER: SENDER,
  ALERT_RECIPIENTS: 'data-science@example.com',
};
const LANDING = LOCAL_DEFAULTS.LANDING_BUCKET;
const TARGET = 'Miles_per_Gallon';

type Car = Record<string, string | number | null>;

const aws = {
  endpoint: process.env.AWS_ENDPOINT_URL,
  region: process.env.AWS_REGION,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  },
};
const s3 = new S3Client({ ...aws, forcePathStyle: true });
const ses = new SESv2Client(aws);
const mlflow = MlflowClient.fromEnv();

async function objectBytes(bucket: string, key: string): Promise<Uint8Array> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
}
const putLanding = (key: string, body: string) =>
  s3.send(new PutObjectCommand({ Bucket: LANDING, Key: key, Body: body }));
const jsonLines = (rows: readonly Car[]) => `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;

function numbers(frame: Frame, name: string): number[] {
  const column = frame.columns.get(name);
  if (column?.kind !== 'numeric') throw new Error(`no numeric column ${name}`);
  return Array.from(column.values);
}

/** The car without its target and its Name (not a feature), keys in reverse order. */
function scoringRecord(car: Car): Car {
  const entries = Object.entries(car).filter(([key]) => key !== TARGET && key !== 'Name');
  return Object.fromEntries(entries.reverse());
}

let cars: Car[];
let contractText: string;
let published: PublishDatasetOutput;
let production: RegisteredModel;

beforeAll(async () => {
  const dataset = bundledDatasets.get('cars');
  if (!dataset) throw new Error('cars is not a bundled dataset');
  const dir = defaultDatasetsDir();
  const text = await readFile(join(dir, dataset.dataFile), 'utf8');
  cars = JSON.parse(text) as Car[];
  contractText = await readFile(join(dir, dataset.contractFile), 'utf8');
  await ensureLocalBuckets(s3, [LANDING]);
  await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: SENDER }));
  const training = `landing/${DATASET}/2025-06-01/`;
  await putLanding(`${training}cars.json`, text);
  await putLanding(`${training}input_schema.json`, contractText);
  published = (await runPipeline(
    'data',
    { dataset: DATASET, source: { type: 's3', prefix: training } },
    { env },
  )) as unknown as PublishDatasetOutput;
  const trained = (await runPipeline(
    'training',
    {
      dataset: { name: DATASET, version: published.dataset.version },
      candidates: [
        { name: 'ridge', family: 'ridge' },
        { name: 'forest', family: 'random_forest', params: { n_estimators: 20, max_depth: 6 } },
        { name: 'boosting', family: 'gradient_boosting', params: { max_iter: 60, max_depth: 3 } },
      ],
    },
    { env, promotion: 'production' },
  )) as unknown as { registered: RegisteredModel };
  production = trained.registered;
}, 240_000);

afterAll(() => {
  s3.destroy();
  ses.destroy();
});

describe('data and training pipelines on cars', () => {
  it('quarantines the 8 rows without a target and keeps the rows with a missing Horsepower', () => {
    const missingTarget = cars.filter((car) => car[TARGET] === null).length;
    expect(missingTarget).toBe(8);
    expect(published.dataset.rowCount).toBe(cars.length - missingTarget);
    const missingFeature = cars.filter((car) => car.Horsepower === null && car[TARGET] !== null).length;
    expect(missingFeature).toBeGreaterThan(0);
  });

  it('trains every regression family on the one-hot Origin and imputed Horsepower, each with R² over 0.7', async () => {
    const experiment = await mlflow.getExperimentByName(env.MLFLOW_EXPERIMENT_NAME);
    const { runs = [] } = await mlflow.searchRuns({ experiment_ids: [experiment.experiment_id] });
    const r2 = Object.fromEntries(
      runs.map((run) => [
        run.data.tags.find((t) => t.key === 'mlops.candidate')?.value,
        run.data.metrics.find((m) => m.key === 'r2')?.value,
      ]),
    );
    expect(Object.keys(r2).sort()).toEqual(['boosting', 'forest', 'ridge']);
    for (const value of Object.values(r2)) expect(value).toBeGreaterThan(0.7);
    expect((await mlflow.getModelVersionByAlias(MODEL, 'Production')).version).toBe(production.version);
  });
});

describe('inference on a batch with missing values and an unknown category', () => {
  const OBJECT = `landing/${DATASET}/2025-06-02/batch.jsonl`;
  let batch: Car[];
  let output: { output: PlanInferenceOutput['output'] };
  let predictions: Frame;

  beforeAll(async () => {
    // Every car with a target, Horsepower missing in some, plus one car from an unknown region.
    batch = cars.filter((car) => car[TARGET] !== null).map(scoringRecord);
    batch.push({ ...(batch[0] as Car), Origin: 'Atlantis' });
    await putLanding(OBJECT, jsonLines(batch));
    output = (await runPipeline('inference', {}, { env })) as unknown as typeof output;
    const { bucket, prefix } = output.output;
    predictions = await loadFrame({
      bytes: await objectBytes(bucket, `${prefix}production/${OBJECT}.parquet`),
      format: 'parquet',
    });
  }, 120_000);

  it('predicts every valid row, missing Horsepower included, and quarantines the unknown Origin with its reason', async () => {
    expect(predictions.rowCount).toBe(batch.length - 1);
    const values = numbers(predictions, 'prediction');
    expect(values.every((value) => Number.isFinite(value) && value > 5 && value < 60)).toBe(true);
    const { bucket, prefix } = output.output;
    const lines = new TextDecoder()
      .decode(await objectBytes(bucket, `${prefix}quarantine/${OBJECT}.jsonl`))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { row: number; reasons: { column: string }[]; record: Car });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ row: batch.length, reasons: [{ column: 'Origin' }] });
    expect(lines[0]?.record.Origin).toBe('Atlantis');
  });

  it('answers the same through the predict API, fed category strings and nulls in another column order', async () => {
    let api: PredictApi | undefined;
    try {
      // The API serves the manifest; publishing again is a no-op when the promotion already did.
      await publishAlias(process.env.MLFLOW_TRACKING_URI ?? '', MODEL, 'Production');
      api = await startPredictApi({ MODEL_NAME: MODEL });
      const rows = batch.slice(0, -1);
      const answer = await postPredict(api.url, { instances: rows });
      expect(answer.body.error?.message).toBeUndefined();
      expect(answer.status).toBe(200);
      const served = answer.body.predictions as unknown as number[];
      const batchValues = numbers(predictions, 'prediction');
      expect(served).toHaveLength(rows.length);
      served.forEach((value, i) => {
        expect(value).toBeCloseTo(batchValues[i] as number, 4);
      });
      const withMissing = rows.findIndex((row) => row.Horsepower === null);
      expect(withMissing).toBeGreaterThanOrEqual(0);

      const unknown = await postPredict(api.url, { instances: [batch[batch.length - 1]] });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error?.field).toBe('Origin');
      expect(unknown.body.error?.message).toContain('Atlantis');
    } finally {
      await api?.close();
    }
  }, 60_000);
});

describe('monitoring a batch of only Japanese cars', () => {
  let drift: ComputeDriftOutput;

  beforeAll(async () => {
    const japanese = cars.filter((car) => car.Origin === 'Japan' && car[TARGET] !== null).map(scoringRecord);
    await putLanding(`landing/${DATASET}/2025-06-03/batch.jsonl`, jsonLines(japanese));
    const scored = (await runPipeline('inference', {}, { env })) as unknown as {
      output: PlanInferenceOutput['output'];
    };
    ({ drift } = (await runPipeline(
      'monitoring',
      { predictions: { bucket: scored.output.bucket, prefix: scored.output.prefix } },
      { env },
    )) as unknown as { drift: ComputeDriftOutput });
  }, 120_000);

  it('finds Origin drifted, compared by its category strings, and the drift metrics in MLflow', async () => {
    expect(drift.driftedColumns).toContain('Origin');
    const run = await mlflow.getRun(drift.mlflowRunId);
    const metrics = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
    expect(metrics['drift.Origin.drifted']).toBe(1);
    expect(metrics).toHaveProperty('drift.Horsepower.reference_missing_share');
  });
});

/**
 * The inference and monitoring pipelines end to end: the ASL files run by the local runner with
 * every Task bound to the real step code, against the local S3 endpoint, MLflow and SES. A model
 * is trained and promoted first (data + training pipelines on iris), a second version set as
 * Challenger; then a landing batch is scored, and a drifted one monitored. Assertions read S3,
 * MLflow and the SES mailbox themselves.
 */
import { readFile } from 'node:fs/promises';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categoryAt, type Frame, loadFrame } from '../../lambdas/core/data';
import { MlflowClient } from '../../lambdas/core/mlflow';
import type {
  ComputeDriftOutput,
  PlanInferenceOutput,
  PublishDatasetOutput,
  RegisteredModel,
  SendDriftAlertOutput,
} from '../../lambdas/steps/step-io';
import { ensureLocalBuckets, LOCAL_DEFAULTS, runPipeline } from '../../localstack/runner/pipelines';

const SUFFIX = `${Date.now().toString(36)}-${process.pid}`;
const DATASET = `iris-infer-${SUFFIX}`;
const MODEL = `inference-${SUFFIX}`;
const SENDER = `drift-${SUFFIX}@example.com`;
const env = {
  MODEL_NAME: MODEL,
  DATASET_NAME: DATASET,
  MLFLOW_EXPERIMENT_NAME: `train-${SUFFIX}`,
  ALERT_SENDER: SENDER,
  ALERT_RECIPIENTS: 'data-science@example.com,ml-oncall@example.com',
};
const LANDING = LOCAL_DEFAULTS.LANDING_BUCKET;

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

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key as string).sort();
}
async function objectBytes(bucket: string, key: string): Promise<Uint8Array> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
}
const putLanding = (key: string, body: string) =>
  s3.send(new PutObjectCommand({ Bucket: LANDING, Key: key, Body: body }));

/** The iris CSV without its species column, optionally with `shift` cm added to every petal length. */
function scoringBatch(csv: string, shift = 0): string {
  const [header, ...rows] = csv.trimEnd().split('\n');
  const drop = (line: string) => line.split(',').slice(0, 4);
  return [
    drop(header as string).join(','),
    ...rows.map((row) => {
      const cells = drop(row);
      cells[2] = String(Number(cells[2]) + shift);
      return cells.join(',');
    }),
  ].join('\n');
}

function labels(frame: Frame): (string | null)[] {
  const column = frame.columns.get('label');
  if (column?.kind !== 'categorical') throw new Error('no categorical label column');
  return Array.from({ length: frame.rowCount }, (_, row) => categoryAt(column, row));
}
function numbers(frame: Frame, name: string): number[] {
  const column = frame.columns.get(name);
  if (column?.kind !== 'numeric') throw new Error(`no numeric column ${name}`);
  return Array.from(column.values);
}

let irisCsv: string;
let production: RegisteredModel;
let challenger: RegisteredModel;

beforeAll(async () => {
  irisCsv = await readFile('lambdas/core/datasets/iris/iris.csv', 'utf8');
  const schema = await readFile('lambdas/core/datasets/iris/input_schema.json', 'utf8');
  await ensureLocalBuckets(s3, [LANDING]);
  await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: SENDER }));
  const training = `landing/${DATASET}/2025-06-01/`;
  await putLanding(`${training}part-0.csv`, irisCsv);
  await putLanding(`${training}input_schema.json`, schema);
  const published = (await runPipeline(
    'data',
    { dataset: DATASET, source: { type: 's3', prefix: training } },
    { env },
  )) as unknown as PublishDatasetOutput;
  const train = async (
    candidate: { name: string; family: string; params?: Record<string, number> },
    promotion: 'production' | 'challenger',
  ) =>
    (
      (await runPipeline(
        'training',
        { dataset: { name: DATASET, version: published.dataset.version }, candidates: [candidate] },
        { env, promotion },
      )) as unknown as { registered: RegisteredModel }
    ).registered;
  // With no Production yet, the production gate promotes the first version.
  production = await train({ name: 'logreg', family: 'logistic_regression' }, 'production');
  challenger = await train(
    { name: 'forest', family: 'random_forest', params: { n_estimators: 5, max_depth: 2 } },
    'challenger',
  );
}, 120_000);

afterAll(() => {
  s3.destroy();
  ses.destroy();
});

describe('inference pipeline on a landing batch', () => {
  let output: { runId: string; output: PlanInferenceOutput['output']; models: PlanInferenceOutput['models'] };

  beforeAll(async () => {
    await putLanding(`landing/${DATASET}/2025-06-02/batch.csv`, scoringBatch(irisCsv));
    output = (await runPipeline('inference', {}, { env })) as unknown as typeof output;
  }, 60_000);

  it('pins Production and Challenger to the versions the aliases pointed at', async () => {
    expect(production.version).toBe('1');
    expect(challenger.version).toBe('2');
    expect((await mlflow.getModelVersionByAlias(MODEL, 'Production')).version).toBe('1');
    expect(output.models.production).toMatchObject({ name: MODEL, version: '1', alias: 'Production' });
    expect(output.models.challenger).toMatchObject({ name: MODEL, version: '2', alias: 'Challenger' });
  });

  it('writes Production and Challenger predictions with row ids, labels, probabilities and versions', async () => {
    const { bucket, prefix } = output.output;
    const object = `landing/${DATASET}/2025-06-02/batch.csv`;
    expect(bucket).toBe(LOCAL_DEFAULTS.PREDICTIONS_BUCKET);
    expect(await keysUnder(bucket, prefix)).toEqual(
      expect.arrayContaining([
        `${prefix}production/${object}.parquet`,
        `${prefix}challenger/${object}.parquet`,
        `${prefix}summaries/${object}.json`,
      ]),
    );
    for (const [kind, version] of [
      ['production', '1'],
      ['challenger', '2'],
    ] as const) {
      const frame = await loadFrame({
        bytes: await objectBytes(bucket, `${prefix}${kind}/${object}.parquet`),
        format: 'parquet',
      });
      expect(frame.rowCount).toBe(150);
      expect([...frame.columns.keys()]).toEqual([
        'row_id',
        'label',
        'probability_setosa',
        'probability_versicolor',
        'probability_virginica',
        'model_version',
        'alias',
      ]);
      expect(numbers(frame, 'row_id').slice(0, 3)).toEqual([1, 2, 3]);
      const versionColumn = frame.columns.get('model_version');
      expect(versionColumn?.kind === 'categorical' && versionColumn.levels).toEqual([version]);
      const p = ['setosa', 'versicolor', 'virginica'].map((c) => numbers(frame, `probability_${c}`));
      expect((p[0]?.[0] ?? 0) + (p[1]?.[0] ?? 0) + (p[2]?.[0] ?? 0)).toBeCloseTo(1, 5);
      expect(labels(frame)[0]).toBe('setosa');
    }
  });

  it('logs the agreement rate of the two versions to an inference-<model> MLflow run', async () => {
    const { bucket, prefix } = output.output;
    const object = `landing/${DATASET}/2025-06-02/batch.csv`;
    const read = async (kind: string) =>
      labels(
        await loadFrame({
          bytes: await objectBytes(bucket, `${prefix}${kind}/${object}.parquet`),
          format: 'parquet',
        }),
      );
    const [a, b] = await Promise.all([read('production'), read('challenger')]);
    const expected = a.filter((label, i) => label === b[i]).length / a.length;

    const experiment = await mlflow.getExperimentByName(`inference-${MODEL}`);
    const { runs = [] } = await mlflow.searchRuns({
      experiment_ids: [experiment.experiment_id],
      filter: `tags."mlops.pipeline_run" = '${output.runId}'`,
    });
    expect(runs).toHaveLength(1);
    const run = runs[0] as (typeof runs)[number];
    expect(run.info.status).toBe('FINISHED');
    const metrics = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
    expect(metrics.agreement_rate).toBeCloseTo(expected, 10);
    expect(metrics.rows).toBe(150);
    expect(metrics.mean_probability_gap).toBeGreaterThan(0);
    expect(metrics['production_label_share.setosa']).toBeCloseTo(
      a.filter((label) => label === 'setosa').length / 150,
      10,
    );
    const artifacts = await mlflow.listArtifacts({ run_id: run.info.run_id });
    expect(artifacts.files.map((f) => f.path)).toContain('comparison.json');
  });
});

interface MailboxMessage {
  Subject: string;
  Body: { html_part?: string; text_part?: string };
  Destination: { ToAddresses: string[] };
}
async function mailbox(): Promise<MailboxMessage[]> {
  const res = await fetch(`${process.env.AWS_ENDPOINT_URL}/_aws/ses?email=${encodeURIComponent(SENDER)}`);
  return ((await res.json()) as { messages: MailboxMessage[] }).messages;
}

describe('monitoring pipeline on a batch with petal lengths shifted by 3 cm', () => {
  let drift: ComputeDriftOutput;
  let alert: SendDriftAlertOutput;
  let scored: { output: PlanInferenceOutput['output']; comparison: { objects: number; rows: number } };

  beforeAll(async () => {
    // Two objects and the batch's schema file: the window is both objects, the schema is skipped.
    const [header, ...rows] = scoringBatch(irisCsv, 3).split('\n');
    const batch = `landing/${DATASET}/2025-06-03/`;
    await putLanding(`${batch}part-0.csv`, [header, ...rows.slice(0, 75)].join('\n'));
    await putLanding(`${batch}part-1.csv`, [header, ...rows.slice(75)].join('\n'));
    await putLanding(
      `${batch}input_schema.json`,
      await readFile('lambdas/core/datasets/iris/input_schema.json', 'utf8'),
    );
    scored = (await runPipeline('inference', {}, { env })) as unknown as typeof scored;
    ({ drift, alert } = (await runPipeline(
      'monitoring',
      { predictions: { bucket: scored.output.bucket, prefix: scored.output.prefix } },
      { env },
    )) as unknown as { drift: ComputeDriftOutput; alert: SendDriftAlertOutput });
  }, 60_000);

  it('scores both data objects of the batch and skips its schema file', async () => {
    expect(scored.comparison).toMatchObject({ objects: 2, rows: 150 });
    const { bucket, prefix } = scored.output;
    const production = await keysUnder(bucket, `${prefix}production/`);
    expect(production.map((key) => key.slice(key.lastIndexOf('/') + 1))).toEqual([
      'part-0.csv.parquet',
      'part-1.csv.parquet',
    ]);
  });

  it('finds petal_length (and the predictions) drifted, over the threshold, in the S3 history', async () => {
    expect(drift).toMatchObject({
      modelName: MODEL,
      modelVersion: '1',
      metric: 'share_drifted',
      drifted: true,
    });
    expect(drift.driftedColumns).toContain('petal_length');
    expect(drift.driftedColumns).not.toContain('sepal_width');
    expect(drift.metrics.bucket).toBe(LOCAL_DEFAULTS.MONITORING_BUCKET);
    expect(drift.metrics.key).toMatch(/^drift\/metrics\/dt=\d{4}-\d{2}-\d{2}\/run-\d{8}T\d{9}Z\.jsonl$/);
    const lines = new TextDecoder()
      .decode(await objectBytes(drift.metrics.bucket, drift.metrics.key))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const byColumn = new Map(lines.filter((l) => l.record === 'column').map((l) => [l.column, l]));
    expect(byColumn.get('petal_length')).toMatchObject({ drifted: true, role: 'feature' });
    expect(byColumn.get('sepal_length')).toMatchObject({ drifted: false });
    expect(byColumn.get('prediction')).toMatchObject({ role: 'prediction', kind: 'categorical' });
    const summary = lines.find((l) => l.record === 'summary');
    // One of the four features drifted.
    expect(summary).toMatchObject({ share_drifted: 0.25, value: 0.25, threshold: 0.2, drifted: true });
  });

  it('e-mails the breach once through SES, and not again while it lasts', async () => {
    expect(alert.decision).toBe('breach');
    const messages = await mailbox();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.Subject).toBe(`[drift] ${MODEL} v1: share_drifted 0.2500 is over 0.2000`);
    expect(messages[0]?.Destination.ToAddresses).toEqual([
      'data-science@example.com',
      'ml-oncall@example.com',
    ]);
    expect(messages[0]?.Body.html_part).toContain('petal_length');
    expect(drift.reportUrl).toMatch(/\/runs\/[0-9a-f]{32}\/artifacts\/drift_report\.html$/);
    expect(messages[0]?.Body.html_part).toContain(drift.reportUrl);

    const again = (await runPipeline('monitoring', {}, { env })) as unknown as {
      alert: SendDriftAlertOutput;
    };
    expect(again.alert).toMatchObject({
      decision: 'none',
      messageId: null,
      episodeSince: alert.episodeSince,
    });
    expect(await mailbox()).toHaveLength(1);
  });

  it('logs a monitoring run with the drift metrics and the HTML report to MLflow', async () => {
    const run = await mlflow.getRun(drift.mlflowRunId);
    expect(run.info.status).toBe('FINISHED');
    const experiment = await mlflow.getExperiment(run.info.experiment_id);
    expect(experiment.name).toBe(`monitoring-${MODEL}`);
    const metrics = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
    expect(metrics).toMatchObject({
      share_drifted: 0.25,
      drifted: 1,
      'drift.petal_length.drifted': 1,
      'drift.sepal_width.drifted': 0,
    });
    const artifacts = await mlflow.listArtifacts({ run_id: drift.mlflowRunId });
    expect(artifacts.files.map((f) => f.path).sort()).toEqual(['drift_report.html', 'drift_result.json']);
    const html = new TextDecoder().decode(
      await mlflow.readArtifact(run.info.artifact_uri, 'drift_report.html'),
    );
    expect(html).toContain('petal_length');
    expect(html).toContain(`${MODEL} v1`);
  });
});

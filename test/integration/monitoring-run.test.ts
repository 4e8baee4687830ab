/**
 * The monitoring step against the real local services: inputs read from S3, the run logged to
 * MLflow (report artifact downloaded back), the history object in S3 and the drift e-mail read
 * back from the SES endpoint's mailbox.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDatasetsDir, readContractFile } from '../../lambdas/core/data';
import { MlflowClient } from '../../lambdas/core/mlflow';
import {
  findLatestMonitoringRun,
  type MonitoringDeps,
  PowertoolsDriftMetrics,
  runMonitoring,
  S3DriftHistoryStore,
  S3EpisodeStore,
  SesAlertSender,
  s3ClientFromEnv,
} from '../../lambdas/core/monitoring';
import { SeededRandom } from '../../lambdas/core/seeded-random';

const suffix = randomUUID().slice(0, 8);
const bucket = `monitoring-run-${suffix}`;
const sender = `drift-${suffix}@example.com`;
const datasets = defaultDatasetsDir();

const s3 = s3ClientFromEnv();
const ses = new SESv2Client({ endpoint: process.env.AWS_ENDPOINT_URL, region: process.env.AWS_REGION });
const mlflow = MlflowClient.fromEnv();

interface MailboxMessage {
  Subject: string;
  Body: { html_part?: string; text_part?: string };
}

async function mailbox(): Promise<MailboxMessage[]> {
  const res = await fetch(`${process.env.AWS_ENDPOINT_URL}/_aws/ses?email=${encodeURIComponent(sender)}`);
  return ((await res.json()) as { messages: MailboxMessage[] }).messages;
}

async function putText(key: string, text: string) {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text }));
  return { bucket, key };
}

/** Services wired as the monitoring Lambda wires them; the clock is given per run. */
function deps(at: string, emf: string[]): MonitoringDeps {
  return {
    clock: () => new Date(at),
    s3,
    tracking: mlflow,
    history: new S3DriftHistoryStore(s3, bucket),
    metrics: new PowertoolsDriftMetrics({ write: (line) => emf.push(line), warn: () => {} }),
    alerts: {
      store: new S3EpisodeStore(s3, bucket),
      sender: new SesAlertSender(ses, sender, ['ml-team@example.com']),
    },
  };
}

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: sender }));
});

afterAll(() => {
  s3.destroy();
  ses.destroy();
});

describe('runMonitoring against MLflow, S3 and SES', () => {
  it('finds no drift between two random halves of iris and sends nothing', async () => {
    const modelName = `iris-halves-${suffix}`;
    const [header, ...rows] = (await readFile(join(datasets, 'iris', 'iris.csv'), 'utf8')).trim().split('\n');
    const order = rows.map((_, i) => i);
    new SeededRandom(7).shuffle(order);
    const half = (from: number, to: number) =>
      [header, ...order.slice(from, to).map((i) => rows[i])].join('\n');
    const reference = await putText('data/iris-a.csv', half(0, 75));
    const current = await putText('data/iris-b.csv', half(75, 150));
    const emf: string[] = [];

    const outcome = await runMonitoring(
      {
        modelName,
        modelVersion: '1',
        reference,
        current,
        contract: await readContractFile(join(datasets, 'iris', 'input_schema.json')),
      },
      deps('2026-11-20T06:00:00.000Z', emf),
    );

    expect(outcome.drifted).toBe(false);
    expect(outcome.result.share_drifted).toBe(0);
    expect(outcome.result.features_compared).toBe(4);
    expect(outcome.drifted_columns).toEqual([]);
    expect(outcome.alert.decision).toBe('none');
    expect(outcome.alert.messageId).toBeUndefined();
    const run = await mlflow.getRun(outcome.run_id ?? '');
    expect(run.data.tags.find((tag) => tag.key === 'mlops.drift.verdict')?.value).toBe('stable');
    expect(run.data.tags).toContainEqual({ key: 'mlflow.source.type', value: 'LOCAL' });
    const experiment = await mlflow.getExperiment(run.info.experiment_id);
    expect(experiment.tags).toContainEqual({
      key: 'mlflow.experimentKind',
      value: 'custom_model_development',
    });
    expect(JSON.parse(emf[0] ?? '{}')).toMatchObject({
      model: modelName,
      ShareDrifted: 0,
      DriftedColumns: 0,
    });
  });

  it('detects +5 °C on Seattle temperatures, records the run everywhere and e-mails once per episode', async () => {
    const modelName = `seattle-${suffix}`;
    const contract = await readContractFile(join(datasets, 'seattle-weather', 'input_schema.json'));
    const [header, ...rows] = (
      await readFile(join(datasets, 'seattle-weather', 'seattle-weather.csv'), 'utf8')
    )
      .trim()
      .split('\n');
    // Reference: 2012–2013. Current: 2014–2015 with a synthetic +5 °C on temp_max and temp_min
    // (a broken sensor calibration), so exactly the temperature features drift.
    const referenceText = [header, ...rows.filter((row) => row < '2014')].join('\n');
    const shiftedText = [
      header,
      ...rows
        .filter((row) => row >= '2014')
        .map((row) => {
          const cells = row.split(',');
          cells[2] = (Number(cells[2]) + 5).toFixed(1);
          cells[3] = (Number(cells[3]) + 5).toFixed(1);
          return cells.join(',');
        }),
    ].join('\n');
    const reference = await putText('data/seattle-2012-2013.csv', referenceText);
    const shifted = await putText('data/seattle-2014-2015-plus5.csv', shiftedText);
    const request = { modelName, modelVersion: '4', reference, current: shifted, contract };
    const emf: string[] = [];

    const first = await runMonitoring(request, deps('2026-11-21T06:00:00.000Z', emf));

    expect(first.drifted).toBe(true);
    expect(first.drifted_columns.toSorted()).toEqual(['temp_max', 'temp_min']);
    expect(first.result.share_drifted).toBe(0.5);
    expect(first.result.columns.precipitation).toMatchObject({ drifted: false });
    expect(first.result.columns.wind).toMatchObject({ drifted: false });
    expect(first.result.reference_rows).toBe(731);
    expect(first.result.current_rows).toBe(730);

    // The history object, under the run's date partition.
    const key = `monitoring/drift-metrics/dt=2026-11-21/run-20261121T060000000Z.jsonl`;
    expect(first.metrics_uri).toBe(`s3://${bucket}/${key}`);
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const lines = ((await object.Body?.transformToString()) ?? '')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((line) => line.column ?? line.record)).toEqual([
      'precipitation',
      'temp_max',
      'temp_min',
      'wind',
      'summary',
    ]);
    expect(lines[4]).toMatchObject({ drifted: true, value: 0.5, run_id: first.run_id });

    // The MLflow run: statistics, params, tags, and the report with its histograms.
    const run = await mlflow.getRun(first.run_id ?? '');
    const metrics = new Map(run.data.metrics.map((metric) => [metric.key, metric.value]));
    const tempMax = first.result.columns.temp_max as { psi: number; ks_statistic: number };
    expect(metrics.get('drift.temp_max.psi')).toBeCloseTo(tempMax.psi, 12);
    expect(metrics.get('drift.temp_max.ks_statistic')).toBeCloseTo(tempMax.ks_statistic, 12);
    expect(metrics.get('share_drifted')).toBe(0.5);
    expect(metrics.get('drift.wind.drifted')).toBe(0);
    const params = new Map(run.data.params.map((param) => [param.key, param.value]));
    expect(params.get('threshold')).toBe('0.2');
    expect(params.get('current_source')).toBe(`s3://${bucket}/data/seattle-2014-2015-plus5.csv`);
    expect(run.data.tags.find((tag) => tag.key === 'mlops.drift.verdict')?.value).toBe('drifted');
    expect(run.info.status).toBe('FINISHED');
    const html = new TextDecoder().decode(
      await mlflow.readArtifact(run.info.artifact_uri, 'drift_report.html'),
    );
    expect(html).toContain('<svg');
    expect(html).toContain('temp_max');
    expect(first.report_uri).toBe(
      `${mlflow.trackingUri}/#/experiments/${run.info.experiment_id}/runs/${run.info.run_id}/artifacts/drift_report.html`,
    );

    // The breach e-mail: value, timestamp and the report link.
    expect(first.alert.decision).toBe('breach');
    let messages = await mailbox();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.Subject).toBe(`[drift] ${modelName} v4: share_drifted 0.5000 is over 0.2000`);
    // The local endpoint keeps the HTML part of a message that has both.
    const body = messages[0]?.Body.html_part ?? '';
    expect(body).toContain('<th align="left">Time</th><td>2026-11-21T06:00:00.000Z</td>');
    expect(body).toContain('<th align="left">Value</th><td>0.5000</td>');
    expect(body).toContain(`<a href="${first.report_uri}">`);

    // Still drifted a day later: no second e-mail.
    const second = await runMonitoring(request, deps('2026-11-22T06:00:00.000Z', emf));
    expect(second.drifted).toBe(true);
    expect(second.alert.decision).toBe('none');
    expect(await mailbox()).toHaveLength(1);

    // The calibration is fixed: the window looks like the reference again, one recovery e-mail.
    const recovered = await runMonitoring(
      { ...request, current: reference },
      deps('2026-11-23T06:00:00.000Z', emf),
    );
    expect(recovered.drifted).toBe(false);
    expect(recovered.alert.decision).toBe('recovery');
    messages = await mailbox();
    expect(messages).toHaveLength(2);
    expect(messages[1]?.Subject).toBe(
      `[recovered] ${modelName} v4: share_drifted 0.0000 is back under 0.2000`,
    );

    // What `mlops drift report` shows: the newest run of the model's monitoring experiment.
    const latest = await findLatestMonitoringRun(mlflow, { modelName });
    expect(latest).toMatchObject({
      runId: recovered.run_id,
      startedAt: '2026-11-23T06:00:00.000Z',
      modelName,
      modelVersion: '4',
      verdict: 'stable',
      reportUrl: recovered.report_uri,
    });
    expect(latest?.result?.share_drifted).toBe(0);
    expect(Object.keys(latest?.result?.columns ?? {})).toEqual([
      'precipitation',
      'temp_max',
      'temp_min',
      'wind',
    ]);
  });
});

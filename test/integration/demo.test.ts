/**
 * `npm run demo` as a user runs it (a child process, `--json --store postgres`), then every field
 * of its summary line checked against the services themselves: S3, the MLflow registry and runs,
 * and the SES mailbox. A second run right after checks it needs no clean-up in between.
 */
import { spawn } from 'node:child_process';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { MlflowClient } from '../../lambdas/core/mlflow';
import { historyTagKey, parseAliasHistory } from '../../lambdas/core/registry';
import { LOCAL_DEFAULTS } from '../../localstack/runner/pipelines';
import { ROOT } from '../../localstack/services/services';

interface DemoJson {
  dataset: { rows: number; quarantined: number; version: string };
  training: { model: string; version: string; candidates: number };
  predict: { ok: boolean; version_before: string; version_after: string; followed_alias: boolean };
  inference: { rows: number };
  monitoring: { drift_metric: string; value: number; threshold: number; alert_sent: boolean };
}

interface DemoRun {
  readonly code: number | null;
  readonly stderr: string;
  readonly summary: DemoJson;
}

function runDemo(): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    // process.execPath: the Node 22 vitest runs on, never the system node.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'localstack/demo/demo.ts', '--json', '--store', 'postgres'],
      { cwd: ROOT, env: { ...process.env, ...inject('localEnv') } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trimEnd().split('\n').at(-1) ?? '';
      try {
        resolve({ code, stderr, summary: JSON.parse(last) as DemoJson });
      } catch {
        reject(new Error(`the demo printed no JSON line (exit ${code}):\n${stderr.slice(-2000)}`));
      }
    });
  });
}

const env = inject('localEnv');
const s3 = new S3Client({
  endpoint: env.AWS_ENDPOINT_URL,
  region: env.AWS_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
});
const mlflow = MlflowClient.fromEnv(env as unknown as NodeJS.ProcessEnv);

async function objectText(bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToString()) ?? '';
}
async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key as string);
}
const metricsOf = (run: { data: { metrics: { key: string; value: number }[] } }) =>
  Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
const tagsOf = (tags: { key: string; value: string }[]) =>
  Object.fromEntries(tags.map((t) => [t.key, t.value]));

let first: DemoRun;
let second: DemoRun;
let summary: DemoJson;

beforeAll(async () => {
  first = await runDemo();
  second = await runDemo();
  summary = first.summary;
}, 150_000);

describe('npm run demo --json --store postgres', () => {
  it('exits 0 twice in a row, each run under its own model name', () => {
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(second.summary.training.model).not.toBe(summary.training.model);
    expect(second.summary.predict).toMatchObject({ version_before: '1', version_after: '2' });
    expect(first.stderr).toContain('3 deliberately broken rows');
    expect(first.stderr).toContain('npm run local:down');
  });

  it('published the valid rows and quarantined the 3 broken ones', async () => {
    const dataset = summary.training.model; // model and dataset share the demo's run name
    expect(summary.dataset).toMatchObject({ rows: 150, quarantined: 3 });
    const manifest = JSON.parse(
      await objectText(
        LOCAL_DEFAULTS.CURATED_BUCKET,
        `datasets/${dataset}/${summary.dataset.version}/manifest.json`,
      ),
    ) as { rows: { valid: number; quarantined: number } };
    expect(manifest.rows).toMatchObject({
      valid: summary.dataset.rows,
      quarantined: summary.dataset.quarantined,
    });
    const [quarantine] = await keysUnder(LOCAL_DEFAULTS.QUARANTINE_BUCKET, `quarantine/${dataset}/`);
    const lines = (await objectText(LOCAL_DEFAULTS.QUARANTINE_BUCKET, quarantine as string))
      .trim()
      .split('\n');
    expect(lines).toHaveLength(summary.dataset.quarantined);
  });

  it('logged every candidate to MLflow and registered the best as the version Production points at', async () => {
    const { model, version, candidates } = summary.training;
    expect(version).toBe('2');
    expect((await mlflow.getModelVersionByAlias(model, 'Production')).version).toBe(version);
    const registered = await mlflow.getModelVersion(model, version);
    // The second training ran on the shifted data set, a different dataset version.
    expect(tagsOf(registered.tags)['mlops.dataset.version']).not.toBe(summary.dataset.version);
    expect(registered.run_id).toBeTruthy();
    const run = await mlflow.getRun(registered.run_id as string);
    const pipelineRun = tagsOf(run.data.tags)['mlops.pipeline_run'];
    const { runs = [] } = await mlflow.searchRuns({
      experiment_ids: [run.info.experiment_id],
      filter: `tags."mlops.pipeline_run" = '${pipelineRun}'`,
    });
    expect(runs).toHaveLength(candidates);
    expect(candidates).toBe(3);
  });

  it('moved Production from the version the API served first to the one it served after', async () => {
    const { model } = summary.training;
    expect(summary.predict).toMatchObject({
      ok: true,
      version_before: '1',
      version_after: summary.training.version,
      followed_alias: true,
    });
    const registeredModel = await mlflow.getRegisteredModel(model);
    const tag = registeredModel.tags?.find((t) => t.key === historyTagKey('Production'))?.value;
    const history = parseAliasHistory(model, 'Production', tag);
    expect(history.map((entry) => entry.version)).toEqual([
      summary.predict.version_before,
      summary.predict.version_after,
    ]);
    expect((await mlflow.getModelVersionByAlias(model, 'Challenger')).version).toBe(
      summary.predict.version_before,
    );
  });

  it('stopped the predict API it started', async () => {
    const url = /predict API on (http:\/\/[0-9.:]+)/.exec(first.stderr)?.[1];
    expect(url).toBeDefined();
    await expect(fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });

  it('scored the batch with Production and shadowed it with Challenger, logged to MLflow', async () => {
    const experiment = await mlflow.getExperimentByName(`inference-${summary.training.model}`);
    const { runs = [] } = await mlflow.searchRuns({ experiment_ids: [experiment.experiment_id] });
    // Two inference runs: the batch of step 6 and the drifted batch monitoring reads.
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(metricsOf(run).rows).toBe(summary.inference.rows);
      expect(metricsOf(run).agreement_rate).toBeGreaterThan(0);
    }
    expect(summary.inference.rows).toBe(150);
  });

  it('found drift over the threshold, logged the HTML report and e-mailed the alert', async () => {
    const { model } = summary.training;
    expect(summary.monitoring).toMatchObject({
      drift_metric: 'share_drifted',
      value: 0.25,
      threshold: 0.2,
      alert_sent: true,
    });
    const experiment = await mlflow.getExperimentByName(`monitoring-${model}`);
    const { runs = [] } = await mlflow.searchRuns({ experiment_ids: [experiment.experiment_id] });
    expect(runs).toHaveLength(1);
    const run = runs[0] as (typeof runs)[number];
    expect(metricsOf(run)[summary.monitoring.drift_metric]).toBe(summary.monitoring.value);
    const artifacts = await mlflow.listArtifacts({ run_id: run.info.run_id });
    expect(artifacts.files.map((f) => f.path)).toContain('drift_report.html');

    const sender = `drift-demo-${model.replace(/^iris-demo-/, '')}@example.com`;
    const res = await fetch(`${env.AWS_ENDPOINT_URL}/_aws/ses?email=${encodeURIComponent(sender)}`);
    const { messages } = (await res.json()) as { messages: { Subject: string }[] };
    expect(messages).toHaveLength(1);
    expect(messages[0]?.Subject).toBe(`[drift] ${model} v2: share_drifted 0.2500 is over 0.2000`);
  });
});

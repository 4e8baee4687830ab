/**
 * The demo's flow on the local services: data → training → Production → predict API → retrain on
 * shifted data with the API following the alias → batch + shadow inference → drift monitoring
 * with an e-mail. Everything runs under names with a per-run suffix, so runs never collide.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { MlflowClient } from '../../lambdas/core/mlflow';
import { promote } from '../../lambdas/core/registry';
import { publishAliasManifest } from '../../lambdas/core/serving-manifest';
import { CHALLENGER_ALIAS, DRIFT_THRESHOLD, PRODUCTION_ALIAS } from '../../lambdas/core/settings';
import type {
  ComparePredictionsOutput,
  ComputeDriftOutput,
  PlanInferenceOutput,
  PublishDatasetOutput,
  RegisteredModel,
  SendDriftAlertOutput,
} from '../../lambdas/steps/step-io';
import { ensureLocalBuckets, LOCAL_DEFAULTS, runPipeline } from '../runner/pipelines';
import {
  BROKEN_ROWS,
  CANDIDATES,
  PETAL_LENGTH_DRIFT_CM,
  readIris,
  SAMPLE,
  SEPAL_WIDTH_SHIFT_CM,
  shiftColumn,
  withBrokenRows,
  withoutTarget,
} from './datasets';
import { postPredict, startPredictApi, waitForVersionChange } from './predict-api';
import type { Progress } from './progress';
import type { DemoSummary } from './summary';

const FOLLOW_TIMEOUT_MS = 20_000;

export interface DemoNames {
  readonly suffix: string;
  readonly dataset: string;
  readonly model: string;
  readonly sender: string;
}

export function demoNames(suffix: string): DemoNames {
  return {
    suffix,
    dataset: `iris-demo-${suffix}`,
    model: `iris-demo-${suffix}`,
    sender: `drift-demo-${suffix}@example.com`,
  };
}

type Json = Parameters<typeof runPipeline>[1];

export async function runDemo(names: DemoNames, progress: Progress): Promise<DemoSummary> {
  const aws = {
    endpoint: process.env.AWS_ENDPOINT_URL,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    },
  };
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const ses = new SESv2Client(aws);
  const mlflow = MlflowClient.fromEnv();
  const env = {
    MODEL_NAME: names.model,
    DATASET_NAME: names.dataset,
    MLFLOW_EXPERIMENT_NAME: `demo-${names.suffix}`,
    ALERT_SENDER: names.sender,
    ALERT_RECIPIENTS: 'data-science@example.com',
  };
  const run = <T>(pipeline: Parameters<typeof runPipeline>[0], input: Json, settings = {}) =>
    runPipeline(pipeline, input, {
      env,
      onEvent: progress.onEvent,
      driftThreshold: DRIFT_THRESHOLD.default,
      promotion: 'none',
      ...settings,
    }) as Promise<unknown> as Promise<T>;
  // After each alias move, its serving manifest (what the predict API reads), as `mlops promote` writes it.
  const servingBucket = process.env.SERVING_BUCKET;
  const publishServing = async (alias: string) => {
    if (!servingBucket) {
      progress.note('SERVING_BUCKET is not set: no serving manifest written');
      return;
    }
    const result = await publishAliasManifest(
      { mlflow, s3, bucket: servingBucket },
      { model: names.model, alias, via: 'cli', movedBy: 'demo' },
    );
    const version = 'manifest' in result ? ` (version ${result.manifest.version})` : '';
    progress.note(
      `serving manifest s3://${servingBucket}/serving/${names.model}/${alias}.json: ${result.action}${version}`,
    );
  };
  const landing = (day: string) => `landing/${names.dataset}/${day}/`;
  const put = (key: string, body: string) =>
    s3.send(new PutObjectCommand({ Bucket: LOCAL_DEFAULTS.LANDING_BUCKET, Key: key, Body: body }));

  try {
    const iris = await readIris();
    await ensureLocalBuckets(s3, [LOCAL_DEFAULTS.LANDING_BUCKET]);

    const data = await progress.step('data pipeline: iris with 3 deliberately broken rows', async () => {
      for (const broken of BROKEN_ROWS) progress.note(`broken row "${broken.row}": ${broken.why}`);
      await put(`${landing('2025-06-01')}part-0.csv`, withBrokenRows(iris.csv));
      await put(`${landing('2025-06-01')}input_schema.json`, iris.schema);
      const published = await run<PublishDatasetOutput>('data', {
        dataset: names.dataset,
        source: { type: 's3', prefix: landing('2025-06-01') },
      });
      const manifest = JSON.parse(await objectText(s3, published.dataset.manifest)) as {
        rows: { valid: number; quarantined: number };
      };
      progress.note(
        `${manifest.rows.valid} valid rows published as ${published.dataset.version}; ${manifest.rows.quarantined} quarantined in s3://${LOCAL_DEFAULTS.QUARANTINE_BUCKET}/quarantine/${names.dataset}/`,
      );
      return { dataset: published.dataset, quarantined: manifest.rows.quarantined };
    });

    const train = async (version: string) => {
      const output = await run<{ runId: string; registered: RegisteredModel }>('training', {
        dataset: { name: names.dataset, version },
        candidates: CANDIDATES as unknown as Json,
        reason: 'manual',
      });
      const logged = await candidateRuns(mlflow, env.MLFLOW_EXPERIMENT_NAME, output.runId);
      for (const c of logged)
        progress.note(`candidate ${c.name}: f1_macro ${c.f1.toFixed(3)} (MLflow run ${c.runId})`);
      progress.note(`best registered as ${names.model} version ${output.registered.version}`);
      return { ...output.registered, candidates: logged.length };
    };
    const first = await progress.step(`training pipeline: ${CANDIDATES.length} candidates`, () =>
      train(data.dataset.version),
    );

    await progress.step(`promote ${names.model} v${first.version} to Production`, async () => {
      const change = await promote(mlflow, {
        model: names.model,
        version: first.version,
        alias: PRODUCTION_ALIAS,
        reason: 'demo: first model',
        actor: 'demo',
      });
      progress.note(change.message);
      await publishServing(PRODUCTION_ALIAS);
    });

    const api = await startPredictApi(names.model);
    try {
      const before = await progress.step(`predict API on ${api.url} (alias TTL 1s)`, async () => {
        const answer = await postPredict(api.url, SAMPLE);
        progress.note(`POST /predict → ${answer.labels.join(', ')} from version ${answer.version}`);
        return answer;
      });

      const second = await progress.step(
        `retrain on iris with every sepal width +${SEPAL_WIDTH_SHIFT_CM} cm; move Production; the API follows`,
        async () => {
          const shifted = shiftColumn(iris.csv, 'sepal_width', SEPAL_WIDTH_SHIFT_CM);
          await put(`${landing('2025-06-02')}part-0.csv`, shifted);
          await put(`${landing('2025-06-02')}input_schema.json`, iris.schema);
          const published = await run<PublishDatasetOutput>('data', {
            dataset: names.dataset,
            source: { type: 's3', prefix: landing('2025-06-02') },
          });
          const registered = await train(published.dataset.version);
          progress.note(
            (
              await promote(mlflow, {
                model: names.model,
                version: registered.version,
                reason: 'demo: retrained on shifted data',
                actor: 'demo',
              })
            ).message,
          );
          await publishServing(PRODUCTION_ALIAS);
          const after = await waitForVersionChange(api.url, SAMPLE, before.version, FOLLOW_TIMEOUT_MS);
          progress.note(
            `the running API now answers from version ${after.version} (after ${after.waitedMs} ms)`,
          );
          return { registered, after, shifted };
        },
      );
      await api.close();
      progress.note(`predict API on ${api.url} stopped`);

      const inference = await progress.step(
        'batch inference with Production, shadow scoring with Challenger',
        async () => {
          progress.note(
            (
              await promote(mlflow, {
                model: names.model,
                version: first.version,
                alias: CHALLENGER_ALIAS,
                reason: 'demo: shadow the previous version',
                actor: 'demo',
              })
            ).message,
          );
          await publishServing(CHALLENGER_ALIAS);
          await put(`${landing('2025-06-03')}batch.csv`, withoutTarget(second.shifted));
          const output = await run<{
            output: PlanInferenceOutput['output'];
            comparison: ComparePredictionsOutput;
          }>('inference', {
            input: { bucket: LOCAL_DEFAULTS.LANDING_BUCKET, prefix: landing('2025-06-03') },
          });
          progress.note(
            `${output.comparison.rows} rows scored into s3://${output.output.bucket}/${output.output.prefix}; agreement with Challenger ${output.comparison.agreementRate}`,
          );
          return output;
        },
      );

      const monitoring = await progress.step(
        `monitoring a batch with petal lengths +${PETAL_LENGTH_DRIFT_CM} cm`,
        async () => {
          await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: names.sender }));
          const drifted = shiftColumn(withoutTarget(second.shifted), 'petal_length', PETAL_LENGTH_DRIFT_CM);
          await put(`${landing('2025-06-04')}batch.csv`, drifted);
          const current = { bucket: LOCAL_DEFAULTS.LANDING_BUCKET, prefix: landing('2025-06-04') };
          const scored = await run<{ output: PlanInferenceOutput['output'] }>('inference', {
            input: current,
          });
          const output = await run<{ drift: ComputeDriftOutput; alert: SendDriftAlertOutput }>('monitoring', {
            current,
            predictions: { bucket: scored.output.bucket, prefix: scored.output.prefix },
          });
          const { drift, alert } = output;
          progress.note(
            `${drift.metric} ${drift.value} vs threshold ${drift.threshold}: drifted ${drift.driftedColumns.join(', ')}`,
          );
          progress.note(
            alert.messageId
              ? `alert e-mail sent from ${names.sender} (${alert.messageId})`
              : `no alert (${alert.decision})`,
          );
          return output;
        },
      );

      return {
        names,
        dataset: {
          rows: data.dataset.rowCount,
          quarantined: data.quarantined,
          version: data.dataset.version,
        },
        training: {
          model: names.model,
          version: second.registered.version,
          candidates: second.registered.candidates,
        },
        predict: {
          ok: true,
          version_before: before.version,
          version_after: second.after.version,
          followed_alias: second.after.version === second.registered.version,
        },
        inference: { rows: inference.comparison.rows },
        monitoring: {
          drift_metric: monitoring.drift.metric,
          value: monitoring.drift.value,
          threshold: monitoring.drift.threshold,
          alert_sent: monitoring.alert.decision === 'breach' && monitoring.alert.messageId !== null,
        },
        urls: {
          mlflow: `${process.env.MLFLOW_TRACKING_URI}/#/models/${names.model}`,
          report: monitoring.drift.reportUrl,
          api: api.url,
          predictionsPrefix: `s3://${inference.output.bucket}/${inference.output.prefix}`,
        },
      };
    } finally {
      // A no-op when already closed; stops the API when a step after its start failed.
      await api.close();
    }
  } finally {
    s3.destroy();
    ses.destroy();
  }
}

async function objectText(s3: S3Client, pointer: { bucket: string; key: string }): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
  return (await object.Body?.transformToString()) ?? '';
}

interface LoggedCandidate {
  readonly name: string;
  readonly f1: number;
  readonly runId: string;
}

/** The MLflow runs a training run logged, one per candidate, read back from MLflow itself. */
async function candidateRuns(
  mlflow: MlflowClient,
  experiment: string,
  pipelineRun: string,
): Promise<LoggedCandidate[]> {
  const { experiment_id } = await mlflow.getExperimentByName(experiment);
  const { runs = [] } = await mlflow.searchRuns({
    experiment_ids: [experiment_id],
    filter: `tags."mlops.pipeline_run" = '${pipelineRun}'`,
  });
  return runs
    .map((run) => ({
      name: run.data.tags.find((t) => t.key === 'mlops.candidate')?.value ?? '?',
      f1: run.data.metrics.find((m) => m.key === 'f1_macro')?.value ?? Number.NaN,
      runId: run.info.run_id,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

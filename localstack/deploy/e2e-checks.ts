/**
 * The checks of `npm run local:e2e` against the stack `npm run local:deploy` put on LocalStack:
 * the deployed state machines started through the Step Functions API (their Lambdas run in
 * LocalStack's containers), MLflow of the compose file, and the deployed predict API.
 *
 *   services → data (iris + 3 broken rows) → training → Production → batch inference →
 *   monitoring of a drifted batch (+ the alert e-mail) → POST /predict with the API key
 *
 * A check that fails stops the ones that need it; each result says what it saw.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { MlflowClient } from '../../lambdas/core/mlflow';
import { promote } from '../../lambdas/core/registry';
import type {
  ComparePredictionsOutput,
  ComputeDriftOutput,
  PlanInferenceOutput,
  PublishDatasetOutput,
  RegisteredModel,
  SendDriftAlertOutput,
} from '../../lambdas/steps/step-io';
import {
  CANDIDATES,
  PETAL_LENGTH_DRIFT_CM,
  readIris,
  SAMPLE,
  shiftColumn,
  withBrokenRows,
  withoutTarget,
} from '../demo/datasets';
import { predictApiKey } from './api-key';
import { ExecutionFailedError, runExecution } from './execution-follower';
import {
  deploymentConfig,
  type LocalStackEndpoints,
  localInvokeUrl,
  regionOf,
  type StackOutputs,
} from './localstack-deployment';

export type CheckStatus = 'passed' | 'failed' | 'not run';

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  /** What the check saw (passed), or why it failed. */
  readonly detail: string;
  readonly seconds: number;
}

const MINUTES = 60_000;
const TIMEOUTS = {
  data: 10 * MINUTES,
  training: 30 * MINUTES,
  inference: 15 * MINUTES,
  monitoring: 15 * MINUTES,
};

export async function runE2eChecks(
  outputs: StackOutputs,
  endpoints: LocalStackEndpoints,
  log: (line: string) => void,
): Promise<CheckResult[]> {
  const region = regionOf(outputs.DataPipelineArn);
  const config = deploymentConfig(region);
  const aws = {
    endpoint: endpoints.awsUrl,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const sfn = new SFNClient(aws);
  const mlflow = MlflowClient.fromEnv({ MLFLOW_TRACKING_URI: endpoints.mlflowUrl });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase();
  const landing = (what: string) => `landing/${config.datasetName}/e2e-${stamp}-${what}/`;
  const put = (key: string, body: string) =>
    s3.send(new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: key, Body: body }));
  const pipeline = async <T>(name: keyof typeof TIMEOUTS, arn: string, input: unknown): Promise<T> => {
    const finished = await runExecution(sfn, {
      stateMachineArn: arn,
      input,
      timeoutMs: TIMEOUTS[name],
      onState: (line) => log(`     ${line}`),
    });
    log(`     (${finished.seconds.toFixed(1)}s, ${finished.executionArn})`);
    return finished.output as T;
  };

  const results: CheckResult[] = [];
  let stopped = false;
  const check = async <T>(name: string, work: () => Promise<{ value: T; detail: string }>) => {
    if (stopped) {
      results.push({ name, status: 'not run', detail: 'an earlier check failed', seconds: 0 });
      return undefined;
    }
    log(`${results.length + 1}. ${name}`);
    const started = performance.now();
    try {
      const { value, detail } = await work();
      const seconds = (performance.now() - started) / 1000;
      log(`   ✓ ${detail}`);
      results.push({ name, status: 'passed', detail, seconds });
      return value;
    } catch (error) {
      const detail = explain(error);
      log(`   ✗ ${detail}`);
      results.push({ name, status: 'failed', detail, seconds: (performance.now() - started) / 1000 });
      stopped = true;
      return undefined;
    }
  };

  try {
    const iris = await readIris();

    await check('LocalStack and MLflow answer', async () => {
      const [localstack, tracking] = await Promise.all([
        fetch(`${endpoints.awsUrl}/_localstack/health`, { signal: AbortSignal.timeout(5000) }),
        fetch(`${endpoints.mlflowUrl}/health`, { signal: AbortSignal.timeout(5000) }),
      ]);
      expect(localstack.ok, `LocalStack health answered HTTP ${localstack.status}`);
      expect(tracking.ok, `MLflow health answered HTTP ${tracking.status}`);
      return { value: null, detail: `${endpoints.awsUrl} and ${endpoints.mlflowUrl} are up` };
    });

    const dataset = await check('data pipeline: iris with 3 broken rows', async () => {
      const prefix = landing('data');
      await put(`${prefix}part-0.csv`, withBrokenRows(iris.csv));
      await put(`${prefix}input_schema.json`, iris.schema);
      const published = await pipeline<PublishDatasetOutput>('data', outputs.DataPipelineArn, {
        dataset: config.datasetName,
        source: { type: 's3', prefix },
      });
      const manifest = JSON.parse(await objectText(s3, published.dataset.manifest)) as {
        rows: { valid: number; quarantined: number };
      };
      expect(
        manifest.rows.valid === 150,
        `expected 150 valid rows, the manifest says ${manifest.rows.valid}`,
      );
      expect(
        manifest.rows.quarantined === 3,
        `expected 3 quarantined rows, the manifest says ${manifest.rows.quarantined}`,
      );
      return {
        value: published.dataset,
        detail: `${manifest.rows.valid} rows published as ${published.dataset.version}, ${manifest.rows.quarantined} quarantined`,
      };
    });

    const registered = await check(`training pipeline: ${CANDIDATES.length} candidates`, async () => {
      if (!dataset) throw new Error('no dataset');
      const output = await pipeline<{ registered: RegisteredModel; ranking: { candidateId: string }[] }>(
        'training',
        outputs.TrainingPipelineArn,
        {
          dataset: { name: dataset.name, version: dataset.version },
          candidates: CANDIDATES,
          reason: 'manual',
        },
      );
      const version = await mlflow.getModelVersion(output.registered.name, output.registered.version);
      return {
        value: output.registered,
        detail: `${output.registered.name} v${output.registered.version} registered in MLflow (run ${version.run_id}), best of ${output.ranking.length}`,
      };
    });

    await check('promote the new version to Production (MLflow)', async () => {
      if (!registered) throw new Error('no registered version');
      const change = await promote(mlflow, {
        model: registered.name,
        version: registered.version,
        alias: 'Production',
        reason: 'npm run local:e2e',
        actor: 'local:e2e',
      });
      return { value: change, detail: change.message };
    });

    await check('inference pipeline: score a batch with Production', async () => {
      const prefix = landing('batch');
      await put(`${prefix}batch.csv`, withoutTarget(iris.csv));
      const output = await pipeline<{
        comparison: ComparePredictionsOutput;
        output: PlanInferenceOutput['output'];
      }>('inference', outputs.InferencePipelineArn, { input: { bucket: outputs.LandingBucket, prefix } });
      expect(output.comparison.rows === 150, `expected 150 rows scored, got ${output.comparison.rows}`);
      return {
        value: output,
        detail: `${output.comparison.rows} rows scored into s3://${output.output.bucket}/${output.output.prefix}`,
      };
    });

    const alert = await check(
      `monitoring pipeline: a batch with petal lengths +${PETAL_LENGTH_DRIFT_CM} cm`,
      async () => {
        const prefix = landing('drifted');
        await put(
          `${prefix}batch.csv`,
          shiftColumn(withoutTarget(iris.csv), 'petal_length', PETAL_LENGTH_DRIFT_CM),
        );
        const current = { bucket: outputs.LandingBucket, prefix };
        const scored = await pipeline<{ output: PlanInferenceOutput['output'] }>(
          'inference',
          outputs.InferencePipelineArn,
          { input: current },
        );
        const { drift, alert } = await pipeline<{ drift: ComputeDriftOutput; alert: SendDriftAlertOutput }>(
          'monitoring',
          outputs.MonitoringPipelineArn,
          { current, predictions: scored.output },
        );
        expect(drift.drifted, `expected drift over ${drift.threshold}, got ${drift.metric} ${drift.value}`);
        // A breach still open from an earlier e2e run sends no second e-mail (once per episode).
        expect(
          alert.decision === 'breach' || (alert.decision === 'none' && alert.episodeSince !== null),
          `expected a drift alert, the decision was ${alert.decision}`,
        );
        return {
          value: alert,
          detail: `${drift.metric} ${drift.value} > ${drift.threshold} (${drift.driftedColumns.join(', ')}); alert ${alert.decision === 'breach' ? `sent (${alert.messageId})` : `already sent for the breach open since ${alert.episodeSince}`}`,
        };
      },
    );

    await check('the alert e-mail is in LocalStack’s mailbox', async () => {
      const sender = config.alerts.senderEmail;
      const response = await fetch(`${endpoints.awsUrl}/_aws/ses?email=${encodeURIComponent(sender)}`);
      const { messages = [] } = (await response.json()) as { messages?: { Subject?: string }[] };
      const subjects = messages.map((m) => m.Subject ?? '').filter((s) => s.startsWith('[drift]'));
      expect(subjects.length > 0, `no drift e-mail from ${sender} at ${endpoints.awsUrl}/_aws/ses`);
      return {
        value: null,
        detail: `${subjects.length} drift e-mail(s) from ${sender}, last: ${subjects.at(-1)}${alert?.decision === 'none' ? ' (from the earlier breach)' : ''}`,
      };
    });

    await check('predict API: POST /predict with the API key', async () => {
      if (!registered) throw new Error('no registered version');
      const base = localInvokeUrl(outputs.PredictApiUrl, endpoints.awsUrl);
      const health = await withRetries(() => fetch(`${base}/health`));
      expect(health.ok, `GET ${base}/health answered HTTP ${health.status}: ${await health.text()}`);
      const key = await predictApiKey(outputs.PredictApiKeyId, aws);
      const response = await withRetries(() =>
        fetch(`${base}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': key },
          body: JSON.stringify({ instances: SAMPLE }),
        }),
      );
      const text = await response.text();
      expect(response.ok, `POST ${base}/predict answered HTTP ${response.status}: ${text.slice(0, 300)}`);
      const body = JSON.parse(text) as { predictions: { label?: string }[]; model: { version: string } };
      expect(body.predictions.length === SAMPLE.length, `expected ${SAMPLE.length} predictions, got ${text}`);
      expect(
        body.model.version === registered.version,
        `expected version ${registered.version} (Production), the API served ${body.model.version}`,
      );
      return {
        value: null,
        detail: `${body.predictions.map((p) => p.label).join(', ')} from ${registered.name} v${body.model.version} at ${base}`,
      };
    });
  } finally {
    s3.destroy();
    sfn.destroy();
  }
  return results;
}

/** A failed expectation, with the message a user reads. */
function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** The first call to a cold function may outlast API Gateway's limit while LocalStack starts its container. */
async function withRetries(call: () => Promise<Response>, attempts = 4): Promise<Response> {
  let response = await call();
  for (let attempt = 1; attempt < attempts && response.status >= 500; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    response = await call();
  }
  return response;
}

async function objectText(s3: S3Client, pointer: { bucket: string; key: string }): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
  return (await object.Body?.transformToString()) ?? '';
}

/** One line for the summary, with what to do where the cause is known. */
export function explain(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ExecutionFailedError && /onnxruntime-node/.test(error.failureCause)) {
    return `${message}\n     onnxruntime-node did not load in the Lambda container: run npm run local:deploy again (it mounts the layer's content)`;
  }
  if (/ECONNREFUSED|fetch failed/.test(message)) {
    return `${message}\n     is the compose stack up? npm run local:deploy starts it`;
  }
  return message;
}

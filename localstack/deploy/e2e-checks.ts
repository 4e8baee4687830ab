/**
 * The checks of `npm run local:e2e` against the stack `npm run local:deploy` put on the local
 * emulator (LocalStack in Docker, or ministack as a plain process): the deployed state machines
 * started through the Step Functions API (their Lambdas run in LocalStack's containers or as
 * ministack's local node workers), MLflow, and the deployed predict API.
 *
 *   services → data (iris + 3 broken rows) → training → Production → batch inference →
 *   monitoring of a drifted batch (+ the alert e-mail from the emulator's mailbox) →
 *   POST /predict with the API key → a second training run, Production moved to it, the API
 *   follows → a one-off copy of a deployed schedule fires its target
 *
 * A check that fails stops the ones that need it; each result says what it saw. The report
 * also lists every execution of the four state machines, the drift e-mails and the predict answers.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { MlflowClient } from '../../lambdas/core/mlflow';
import { promote } from '../../lambdas/core/registry';
import { publishAliasManifest } from '../../lambdas/core/serving-manifest';
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
import { type ApiCaller, callApi } from '../serve/api-client';
import { localTrackingCredentials } from '../services/mlflow-auth';
import { predictApiKey } from './api-key';
import { createSchedule, deleteSchedule, getSchedule, listSchedules } from './emulator-api';
import {
  ExecutionFailedError,
  followExecution,
  runExecution,
  sdkStepFunctionsApi,
} from './execution-follower';
import {
  deploymentConfig,
  type Emulator,
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

/** One execution of a deployed state machine, for the report. */
export interface ExecutionRow {
  readonly stateMachine: string;
  readonly name: string;
  readonly status: string;
  /** null while it runs. */
  readonly seconds: number | null;
}

/** A sent e-mail as the emulator's mailbox shows it. */
export interface MailMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly body: string;
}

/** One answer of the deployed predict API. */
export interface PredictAnswer {
  readonly version: string;
  readonly labels: readonly string[];
}

export interface E2eReport {
  readonly results: CheckResult[];
  readonly executions: ExecutionRow[];
  readonly mail: MailMessage[];
  readonly predictions: PredictAnswer[];
}

/** Where an emulator shows the e-mails SES sent. */
export function mailboxUrl(emulator: Emulator, awsUrl: string, sender: string): string {
  return emulator === 'ministack'
    ? `${awsUrl}/_ministack/ses/messages`
    : `${awsUrl}/_aws/ses?email=${encodeURIComponent(sender)}`;
}

/**
 * The messages from `sender` in a mailbox answer: LocalStack's `/_aws/ses` lists them
 * (`{ messages: [{ Source, Destination, Subject, Body }] }`), ministack's `/_ministack/ses/messages`
 * groups them by account (`{ messages: { <account>: [{ Source, To, Subject, BodyText }] } }`).
 */
export function parseMailbox(emulator: Emulator, body: unknown, sender: string): MailMessage[] {
  const messages = (body as { messages?: unknown } | null)?.messages;
  type Raw = {
    Source?: string;
    To?: string[];
    Destination?: { ToAddresses?: string[] };
    Subject?: string;
    BodyText?: string;
    Body?: { text_part?: string; html_part?: string };
  };
  const raw: Raw[] =
    emulator === 'ministack'
      ? Object.values((messages ?? {}) as Record<string, Raw[]>).flat()
      : Array.isArray(messages)
        ? (messages as Raw[])
        : [];
  return raw
    .filter((m) => m.Source === sender)
    .map((m) => ({
      from: m.Source ?? '',
      to: m.To ?? m.Destination?.ToAddresses ?? [],
      subject: m.Subject ?? '',
      body: m.BodyText ?? m.Body?.text_part ?? m.Body?.html_part ?? '',
    }));
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
  emulator: Emulator = 'localstack',
): Promise<E2eReport> {
  const emulatorName = emulator === 'ministack' ? 'ministack' : 'LocalStack';
  const mail: MailMessage[] = [];
  const predictions: PredictAnswer[] = [];
  const region = regionOf(outputs.DataPipelineArn);
  const config = deploymentConfig(region);
  const aws = {
    endpoint: endpoints.awsUrl,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const sfn = new SFNClient(aws);
  /** After each alias move, its serving manifest in the stack's bucket (as `mlops promote --bucket` writes it). */
  const publishServing = async (model: string, alias: string): Promise<string> => {
    if (!outputs.ServingBucket) return 'no ServingBucket output: serving manifest not written';
    const result = await publishAliasManifest(
      { mlflow, s3, bucket: outputs.ServingBucket },
      { model, alias, via: 'cli', movedBy: 'local:e2e' },
    );
    const version = 'manifest' in result ? ` (version ${result.manifest.version})` : '';
    return `serving manifest s3://${outputs.ServingBucket}/serving/${model}/${alias}.json ${result.action}${version}`;
  };
  // The local MLflow (ministack's) asks for the pipelines' user; the compose file's asks for none.
  const mlflow = MlflowClient.fromEnv({
    MLFLOW_TRACKING_URI: endpoints.mlflowUrl,
    MLFLOW_TRACKING_USERNAME: process.env.MLFLOW_TRACKING_USERNAME,
    MLFLOW_TRACKING_PASSWORD: process.env.MLFLOW_TRACKING_PASSWORD,
    ...localTrackingCredentials({ ...process.env, MLFLOW_TRACKING_URI: endpoints.mlflowUrl }),
  });
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

    await check(`${emulatorName} and MLflow answer`, async () => {
      const healthPath = emulator === 'ministack' ? '/_ministack/health' : '/_localstack/health';
      const [localstack, tracking] = await Promise.all([
        fetch(`${endpoints.awsUrl}${healthPath}`, { signal: AbortSignal.timeout(5000) }),
        fetch(`${endpoints.mlflowUrl}/health`, { signal: AbortSignal.timeout(5000) }),
      ]);
      expect(localstack.ok, `${emulatorName} health (${healthPath}) answered HTTP ${localstack.status}`);
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
      return {
        value: change,
        detail: `${change.message}; ${await publishServing(change.model, change.alias)}`,
      };
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

    await check(`the alert e-mail is in ${emulatorName}’s mailbox`, async () => {
      const sender = config.alerts.senderEmail;
      const url = mailboxUrl(emulator, endpoints.awsUrl, sender);
      const response = await fetch(url);
      expect(response.ok, `the mailbox ${url} answered HTTP ${response.status}`);
      const drift = parseMailbox(emulator, await response.json(), sender).filter((m) =>
        m.subject.startsWith('[drift]'),
      );
      mail.push(...drift);
      const subjects = drift.map((m) => m.subject);
      expect(subjects.length > 0, `no drift e-mail from ${sender} at ${url}`);
      const recipients = new Set(drift.flatMap((m) => m.to));
      for (const recipient of config.alerts.recipients) {
        expect(
          recipients.has(recipient),
          `the drift e-mail did not go to ${recipient} (it went to ${[...recipients].join(', ')})`,
        );
      }
      return {
        value: null,
        detail: `${subjects.length} drift e-mail(s) from ${sender}, last: ${subjects.at(-1)}${alert?.decision === 'none' ? ' (from the earlier breach)' : ''}`,
      };
    });

    await check('predict API: POST /predict, keyed or signed as the deployment says', async () => {
      if (!registered) throw new Error('no registered version');
      const base = localInvokeUrl(outputs.PredictApiUrl, endpoints.awsUrl);
      const health = await withRetries(() => fetch(`${base}/health`));
      expect(health.ok, `GET ${base}/health answered HTTP ${health.status}: ${await health.text()}`);
      const caller = await predictCaller(outputs, aws);
      const anonymous = await fetch(`${base}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances: SAMPLE }),
      });
      // The emulators check API keys but not AWS_IAM authorization (npm run serve checks SigV4).
      if (caller.mode === 'api-key') {
        expect(
          anonymous.status === 403,
          `POST ${base}/predict without the API key answered HTTP ${anonymous.status}, not 403`,
        );
      }
      const refused =
        caller.mode === 'api-key'
          ? '403 without the key'
          : `unsigned: HTTP ${anonymous.status}${anonymous.status === 403 ? '' : ', the emulator does not enforce AWS_IAM'}`;
      const { body, text } = await predictAs(base, caller);
      expect(body.predictions.length === SAMPLE.length, `expected ${SAMPLE.length} predictions, got ${text}`);
      predictions.push({ version: body.model.version, labels: body.predictions.map((p) => String(p.label)) });
      expect(
        body.model.version === registered.version,
        `expected version ${registered.version} (Production), the API served ${body.model.version}`,
      );
      return {
        value: null,
        detail: `${body.predictions.map((p) => p.label).join(', ')} from ${registered.name} v${body.model.version} at ${base} (${refused})`,
      };
    });

    await check('alias move: a second training run, Production moved to it, the API follows', async () => {
      if (!dataset || !registered) throw new Error('no dataset or first version');
      const second = await pipeline<{ registered: RegisteredModel }>(
        'training',
        outputs.TrainingPipelineArn,
        {
          dataset: { name: dataset.name, version: dataset.version },
          // Other candidates: the same input would (rightly) reuse the first run's version.
          candidates: CANDIDATES.slice(0, -1),
          reason: 'manual',
        },
      );
      expect(
        second.registered.version !== registered.version,
        `the second training run registered version ${second.registered.version} again`,
      );
      const change = await promote(mlflow, {
        model: second.registered.name,
        version: second.registered.version,
        alias: 'Production',
        reason: 'npm run local:e2e (alias move)',
        actor: 'local:e2e',
      });
      const published = await publishServing(change.model, change.alias);
      const base = localInvokeUrl(outputs.PredictApiUrl, endpoints.awsUrl);
      const caller = await predictCaller(outputs, aws);
      // The function re-reads the alias at most aliasTtlSeconds after the move.
      const limitMs = (config.predict.aliasTtlSeconds + 30) * 1000;
      const moved = performance.now();
      let served = '';
      while (performance.now() - moved < limitMs) {
        const { body } = await predictAs(base, caller);
        served = body.model.version;
        if (served === second.registered.version) {
          predictions.push({ version: served, labels: body.predictions.map((p) => String(p.label)) });
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
      const followed = (performance.now() - moved) / 1000;
      expect(
        served === second.registered.version,
        `Production moved to v${second.registered.version}, the API still served v${served} after ${followed.toFixed(0)}s (alias TTL ${config.predict.aliasTtlSeconds}s)`,
      );
      return {
        value: null,
        detail: `${change.message}; ${published}; the API served v${served} ${followed.toFixed(0)}s later (alias TTL ${config.predict.aliasTtlSeconds}s)`,
      };
    });

    await check('schedule: a one-off copy of the deployed Inference schedule fires its target', async () => {
      const summaries = await listSchedules(aws);
      const schedules = await Promise.all(summaries.map((s) => getSchedule(aws, s.Name, s.GroupName)));
      const deployed = schedules.find((s) => s.Target.Arn === outputs.InferencePipelineArn);
      expect(
        deployed !== undefined,
        `no deployed schedule targets ${outputs.InferencePipelineArn} (schedules: ${summaries.map((s) => s.Name).join(', ') || 'none'})`,
      );
      const seen = new Set(await executionArns(sfn, outputs.InferencePipelineArn));
      const at = new Date(Date.now() + 3000).toISOString().replace(/\.\d+Z$/, '');
      const copy = `e2e-${stamp}-inference-once`;
      await createSchedule(aws, copy, {
        ScheduleExpression: `at(${at})`,
        Target: deployed.Target,
        ActionAfterCompletion: 'DELETE',
      });
      try {
        const deadline = Date.now() + 90_000;
        let fired: string | undefined;
        while (!fired && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          fired = (await executionArns(sfn, outputs.InferencePipelineArn)).find((arn) => !seen.has(arn));
        }
        expect(
          fired !== undefined,
          `${copy} (at(${at})) started no execution of ${outputs.InferencePipelineArn} within 90s`,
        );
        const end = await followExecution(sdkStepFunctionsApi(sfn), fired, {
          signal: AbortSignal.timeout(TIMEOUTS.inference),
        });
        if (end.status !== 'SUCCEEDED') {
          throw new ExecutionFailedError(fired, end.status, end.error ?? 'unknown error', end.cause ?? '');
        }
        return {
          value: null,
          detail: `${deployed.Name} (${deployed.ScheduleExpression}, input ${deployed.Target.Input ?? '{}'}) copied as at(${at}): ${fired.split(':').at(-1)} SUCCEEDED`,
        };
      } finally {
        await deleteSchedule(aws, copy).catch(() => undefined); // gone already after firing (DELETE)
      }
    });
  } finally {
    s3.destroy();
  }
  let executions: ExecutionRow[] = [];
  try {
    executions = await listAllExecutions(sfn, outputs);
  } finally {
    sfn.destroy();
  }
  return { results, executions, mail, predictions };
}

async function executionArns(sfn: SFNClient, stateMachineArn: string): Promise<string[]> {
  const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }));
  return (page.executions ?? []).map((e) => e.executionArn ?? '').filter((arn) => arn !== '');
}

/** Every execution of the four deployed state machines, oldest first. */
async function listAllExecutions(sfn: SFNClient, outputs: StackOutputs): Promise<ExecutionRow[]> {
  const machines = [
    outputs.DataPipelineArn,
    outputs.TrainingPipelineArn,
    outputs.InferencePipelineArn,
    outputs.MonitoringPipelineArn,
  ];
  const rows: (ExecutionRow & { started: number })[] = [];
  for (const stateMachineArn of machines) {
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn, maxResults: 1000, ...(nextToken && { nextToken }) }),
      );
      for (const e of page.executions ?? []) {
        const started = e.startDate?.getTime() ?? 0;
        rows.push({
          stateMachine: stateMachineArn.split(':').at(-1) ?? stateMachineArn,
          name: e.name ?? '',
          status: e.status ?? 'UNKNOWN',
          seconds: e.stopDate && e.startDate ? (e.stopDate.getTime() - started) / 1000 : null,
          started,
        });
      }
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return rows.sort((a, b) => a.started - b.started).map(({ started: _started, ...row }) => row);
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
    return `${message}\n     is the emulator up? npm run local:deploy starts it (LocalStack: the compose stack; no Docker: ministack)`;
  }
  return message;
}

interface PredictBody {
  readonly predictions: { label?: string }[];
  readonly model: { version: string };
}

/**
 * How local:e2e calls the deployed API: with the API key when the stack has one (api-key mode,
 * the emulators' default), else signed with SigV4 by the emulator's credentials.
 */
async function predictCaller(
  outputs: StackOutputs,
  aws: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } },
): Promise<ApiCaller> {
  if (outputs.PredictApiKeyId !== undefined) {
    return { mode: 'api-key', key: await predictApiKey(outputs.PredictApiKeyId, aws) };
  }
  return { mode: 'iam', credentials: aws.credentials, region: aws.region };
}

/** POST /predict with the SAMPLE rows as the caller; a non-2xx answer fails the check. */
async function predictAs(base: string, caller: ApiCaller): Promise<{ body: PredictBody; text: string }> {
  const response = await withRetries(() =>
    callApi(caller, `${base}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: SAMPLE }),
    }),
  );
  const text = await response.text();
  expect(response.ok, `POST ${base}/predict answered HTTP ${response.status}: ${text.slice(0, 300)}`);
  return { body: JSON.parse(text) as PredictBody, text };
}

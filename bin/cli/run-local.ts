/**
 * `mlops run` without --aws: the pipeline's ASL file executed by the local runner
 * (localstack/runner/pipelines.ts) against the local MLflow and S3/SES endpoint, started or reused first.
 */
import type { Task } from '../../lambdas/core/data';
import type { RunnerEvent } from '../../localstack/runner/state-machine-runner';
import type { JsonObject, LocalTarget, RunRequest } from './run-input';

export type RunStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface RunOutcome {
  readonly status: RunStatus;
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly cause: string };
}

/**
 * The local services for this run. MLflow and an AWS endpoint the environment names elsewhere
 * are used as they are; otherwise `mlops local up` runs (it reuses what is up, in about a second)
 * and its endpoints fill in what the environment leaves unset.
 */
export async function ensureLocalServices(log: (line: string) => void): Promise<void> {
  const services = await import('../../localstack/services/services');
  // MLflow keeps the store it runs on (the rule of `mlops local up` and the demo, store-choice.ts).
  const { chooseBackendStore } = await import('./store-choice');
  const { store } = chooseBackendStore(undefined, services.runningBackendStore());
  const local = services.endpoints(store);
  const { MLFLOW_TRACKING_URI: mlflow, AWS_ENDPOINT_URL: aws } = process.env;
  if (mlflow && aws && (mlflow !== local.MLFLOW_TRACKING_URI || aws !== local.AWS_ENDPOINT_URL)) {
    log(`[local] using MLflow ${mlflow} and the AWS endpoint ${aws} from the environment`);
    return;
  }
  const env = await services.up({ backendStore: store, log: (line) => log(`[local] ${line}`) });
  for (const [name, value] of Object.entries(env)) process.env[name] ??= value;
}

/**
 * Runs the execution; a Fail state (or a timeout) is an outcome, not an exception. Anything else
 * (the S3 endpoint unreachable, a bad bucket setting) is thrown for the caller to report.
 */
export async function runLocally(
  request: RunRequest & { readonly target: LocalTarget },
  onEvent: (event: RunnerEvent) => void,
): Promise<RunOutcome> {
  // The steps log through Powertools; stdout must stay free for the summary or the JSON line.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const { runPipeline } = await import('../../localstack/runner/pipelines');
  const { target } = request;
  if (target.env.ALERT_SENDER) await verifyLocalSender(target.env.ALERT_SENDER);
  const model = await localModelName(request, process.env, publishedTask);
  try {
    const output = await runPipeline(request.pipeline, request.input, {
      env: { ...target.env, ...(model !== undefined && { MODEL_NAME: model }) },
      onEvent,
      ...(target.promotion !== undefined && { promotion: target.promotion }),
      ...(target.driftThreshold !== undefined && { driftThreshold: target.driftThreshold }),
    });
    return { status: 'SUCCEEDED', output };
  } catch (error) {
    const outcome = executionOutcome(error);
    if (outcome) return outcome;
    throw error;
  }
}

/** Reads the task of a published dataset version (the newest without `version`); undefined if none is published. */
export type PublishedTaskReader = (dataset: string, version?: string) => Promise<Task | undefined>;

/**
 * The registered model of a local `run train|infer|monitor` that names none (no `--model`, no
 * MODEL_NAME): as `mlops train` names it, `<dataset>-classifier` or `<dataset>-regressor`, from the
 * task of the dataset the run reads (`--dataset`, `--dataset-version`), as published by the data
 * pipeline. Undefined leaves the runner's default (`iris-classifier`, the default dataset's): the
 * run names no dataset, or the dataset is not published (the pipeline then says so itself).
 */
export async function localModelName(
  request: Pick<RunRequest, 'command' | 'input'> & { readonly target: LocalTarget },
  processEnv: Readonly<Record<string, string | undefined>>,
  readTask: PublishedTaskReader,
): Promise<string | undefined> {
  if (request.target.env.MODEL_NAME !== undefined || processEnv.MODEL_NAME?.trim()) return undefined;
  const dataset = datasetOfRun(request);
  if (dataset === undefined) return undefined;
  const task = await readTask(dataset.name, dataset.version);
  if (task === undefined) return undefined;
  const { defaultModelName } = await import('../../lambdas/core/lifecycle/train-and-register');
  return defaultModelName(dataset.name, task);
}

/** The dataset a run names: `dataset: {name, version}` in a train or monitor input, DATASET_NAME for inference. */
function datasetOfRun(
  request: Pick<RunRequest, 'command' | 'input'> & { readonly target: LocalTarget },
): { name: string; version?: string } | undefined {
  if (request.command === 'infer') {
    const name = request.target.env.DATASET_NAME;
    return name === undefined ? undefined : { name };
  }
  if (request.command !== 'train' && request.command !== 'monitor') return undefined;
  const dataset = request.input.dataset;
  if (dataset === null || typeof dataset !== 'object' || Array.isArray(dataset)) return undefined;
  const { name, version } = dataset as JsonObject;
  if (typeof name !== 'string' || name === '') return undefined;
  return { name, ...(typeof version === 'string' && { version }) };
}

/** The task in the published dataset's manifest, read from the local curated bucket. */
async function publishedTask(dataset: string, version?: string): Promise<Task | undefined> {
  const { localPipelineEnv } = await import('../../localstack/runner/pipelines');
  const { createStepContext } = await import('../../lambdas/steps/support/step-context');
  const { readManifest, resolveManifest } = await import('../../lambdas/steps/support/dataset-manifest');
  const context = createStepContext(localPipelineEnv());
  try {
    const manifest = await readManifest(context, await resolveManifest(context, dataset, version));
    const task = (manifest.contract as { task?: unknown } | null)?.task;
    return task === 'classification' || task === 'regression' ? task : undefined;
  } catch (error) {
    if ((error as Error).name === 'StepInputError') return undefined;
    throw error;
  } finally {
    context.close();
  }
}

/**
 * The local SES endpoint (moto), like SES in its sandbox, sends only from verified addresses: a
 * local run verifies its sender there, as the demo does. Never done against AWS's own endpoint.
 */
async function verifyLocalSender(address: string): Promise<void> {
  const endpoint = process.env.AWS_ENDPOINT_URL_SESV2?.trim() || process.env.AWS_ENDPOINT_URL?.trim();
  if (!endpoint) return;
  const { CreateEmailIdentityCommand, SESv2Client } = await import('@aws-sdk/client-sesv2');
  const ses = new SESv2Client({ endpoint, region: process.env.AWS_REGION?.trim() || 'us-east-1' });
  try {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: address }));
  } catch (error) {
    if ((error as Error).name !== 'AlreadyExistsException') throw error;
  } finally {
    ses.destroy();
  }
}

/**
 * aws-local-stepfunctions' ways for an execution to end badly: ExecutionError wraps the state's
 * error (a Fail state's is named after its `Error` and carries its `Cause` as message).
 */
export function executionOutcome(error: unknown): RunOutcome | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'ExecutionError') {
    const failure = error.cause instanceof Error ? error.cause : error;
    return { status: 'FAILED', error: { name: failure.name, cause: failure.message } };
  }
  if (error.name === 'ExecutionTimeoutError') {
    return { status: 'TIMED_OUT', error: { name: 'States.Timeout', cause: error.message } };
  }
  if (error.name === 'ExecutionAbortedError') {
    return { status: 'ABORTED', error: { name: 'ExecutionAborted', cause: error.message } };
  }
  return undefined;
}

/** Where a bare landing or predictions prefix lives in a local run. */
export async function localDefaultBuckets(): Promise<{ landing: string; predictions: string }> {
  const { localPipelineEnv } = await import('../../localstack/runner/pipelines');
  const merged = localPipelineEnv();
  return { landing: merged.LANDING_BUCKET ?? '', predictions: merged.PREDICTIONS_BUCKET ?? '' };
}

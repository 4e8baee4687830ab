/**
 * `mlops run`'s arguments: which pipeline, the execution input built from the flags (on top of
 * `--input` / `--input-file`), and where it runs. The input follows the pipelines' contracts
 * (`lambdas/steps/step-io.ts`: DataPipelineInput, TrainingPipelineInput, InferencePipelineInput,
 * MonitoringPipelineInput), so the same object starts a local run and a deployed state machine.
 * A bad flag is a CliError (exit 2) that names it.
 */
import {
  DRIFT_THRESHOLD,
  isEmailAddress,
  isShareDriftThreshold,
  PROMOTION_MODES,
  type PromotionMode,
  promotionModeOf,
} from '../../lambdas/core/settings';
import { type PipelineName, stageNamePrefix, stateMachineName } from '../../lib/state-machine-substitutions';
import { nonEmpty, readCandidatesFile, readText } from './option-values';
import { CliError } from './output';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** What the user types → the pipeline (and state machine suffix) it runs. */
export const RUN_PIPELINES = {
  data: 'data',
  train: 'training',
  infer: 'inference',
  monitor: 'monitoring',
} as const satisfies Record<string, PipelineName>;
export type RunPipelineCommand = keyof typeof RUN_PIPELINES;

const REASONS = ['schedule', 'drift', 'manual'] as const;

/** The promotion of `mlops run train` and `mlops train` without --promote: none. */
export const DEFAULT_PROMOTION: PromotionMode = 'none';

/** The options as commander hands them over: strings, unchecked. */
export interface RawRunOptions {
  readonly dataset?: string;
  readonly datasetVersion?: string;
  readonly landingKey?: string;
  readonly bucket?: string;
  readonly bundled?: string;
  /** data: a local file to land first (`mlops land`), then publish. */
  readonly file?: string;
  readonly contract?: string;
  readonly candidates?: string;
  readonly reason?: string;
  readonly predictions?: string;
  readonly input?: string;
  readonly inputFile?: string;
  readonly model?: string;
  readonly promote?: string;
  readonly driftThreshold?: string;
  readonly alertFrom?: string;
  readonly alertTo?: string;
  readonly aws?: boolean;
  readonly stage?: string;
  readonly stateMachineArn?: string;
  readonly executionName?: string;
  /** False with `--no-wait`. */
  readonly wait?: boolean;
  readonly json?: boolean;
}

/** A local run: the settings `runPipeline` takes and the environment the steps read. */
export interface LocalTarget {
  readonly mode: 'local';
  /** MODEL_NAME / DATASET_NAME for this run (the deployed functions have them in their environment). */
  readonly env: Readonly<Record<string, string>>;
  readonly promotion?: PromotionMode;
  readonly driftThreshold?: number;
}

/** A run of the deployed state machine. */
export interface AwsTarget {
  readonly mode: 'aws';
  readonly stage: string;
  readonly stateMachineArn?: string;
  readonly executionName?: string;
  readonly wait: boolean;
}

export interface RunRequest {
  readonly command: RunPipelineCommand;
  readonly pipeline: PipelineName;
  readonly input: JsonObject;
  readonly target: LocalTarget | AwsTarget;
  readonly json: boolean;
}

/** Buckets a bare `--landing-key` / `--predictions` prefix lives in; only known for a local run. */
export interface DefaultBuckets {
  readonly landing?: string;
  readonly predictions?: string;
}

type OptionKey = Exclude<keyof RawRunOptions, 'json' | 'aws' | 'wait'>;

interface OptionRule {
  readonly flag: string;
  /** The pipelines the option means something for; every one when absent. */
  readonly pipelines?: readonly RunPipelineCommand[];
  /** Local runs only: a deployed pipeline has this in its configuration (CDK context). */
  readonly localOnly?: boolean;
  /** `--aws` runs only. */
  readonly awsOnly?: boolean;
}

const OPTION_RULES: Readonly<Record<OptionKey, OptionRule>> = {
  dataset: { flag: '--dataset' },
  datasetVersion: { flag: '--dataset-version', pipelines: ['train', 'monitor'] },
  landingKey: { flag: '--landing-key', pipelines: ['data', 'infer', 'monitor'] },
  bucket: { flag: '--bucket', pipelines: ['data', 'infer', 'monitor'] },
  bundled: { flag: '--bundled', pipelines: ['data'] },
  file: { flag: '--file', pipelines: ['data'] },
  contract: { flag: '--contract', pipelines: ['data'] },
  candidates: { flag: '--candidates', pipelines: ['train'] },
  reason: { flag: '--reason', pipelines: ['train'] },
  predictions: { flag: '--predictions', pipelines: ['monitor'] },
  input: { flag: '--input' },
  inputFile: { flag: '--input-file' },
  model: { flag: '--model', pipelines: ['train', 'infer', 'monitor'], localOnly: true },
  promote: { flag: '--promote', pipelines: ['train'], localOnly: true },
  driftThreshold: { flag: '--drift-threshold', pipelines: ['monitor'], localOnly: true },
  alertFrom: { flag: '--alert-from', pipelines: ['monitor'], localOnly: true },
  alertTo: { flag: '--alert-to', pipelines: ['monitor'], localOnly: true },
  stage: { flag: '--stage', awsOnly: true },
  stateMachineArn: { flag: '--state-machine-arn', awsOnly: true },
  executionName: { flag: '--execution-name', awsOnly: true },
};

/** The pipeline a typed name stands for; anything else is a CliError listing the valid names. */
export function pipelineCommandOf(name: string | undefined): RunPipelineCommand {
  const valid = Object.keys(RUN_PIPELINES);
  if (name !== undefined && valid.includes(name)) return name as RunPipelineCommand;
  throw new CliError(
    `unknown pipeline ${JSON.stringify(name ?? '')}: use one of ${valid.join(', ')} (data → data pipeline, train → training, infer → inference, monitor → monitoring)`,
    2,
  );
}

/** Checks the options and builds the execution input; files named by options are read here. */
export async function parseRunOptions(
  name: string | undefined,
  raw: RawRunOptions,
  defaults: DefaultBuckets = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<RunRequest> {
  const command = pipelineCommandOf(name);
  const aws = Boolean(raw.aws);
  checkApplicable(command, raw, aws);

  const input = await baseInput(raw);
  const flags = await flagInput(command, raw, aws ? {} : defaults, aws);
  const merged: JsonObject = { ...input, ...flags };
  if (command === 'data') requireDataFields(merged, raw.file !== undefined);
  if (command === 'train' && merged.reason === undefined) merged.reason = 'manual';

  return {
    command,
    pipeline: RUN_PIPELINES[command],
    input: merged,
    target: aws ? awsTarget(raw) : localTarget(command, raw, env),
    json: Boolean(raw.json),
  };
}

function checkApplicable(command: RunPipelineCommand, raw: RawRunOptions, aws: boolean): void {
  for (const [key, rule] of Object.entries(OPTION_RULES) as [OptionKey, OptionRule][]) {
    if (raw[key] === undefined) continue;
    if (rule.pipelines && !rule.pipelines.includes(command)) {
      throw new CliError(
        `${rule.flag} does not apply to \`run ${command}\` (only to ${rule.pipelines.join(', ')})`,
        2,
      );
    }
    if (rule.localOnly && aws) {
      throw new CliError(
        `${rule.flag} applies to local runs only: the deployed pipeline takes it from the stack's configuration (cdk -c)`,
        2,
      );
    }
    if (rule.awsOnly && !aws) throw new CliError(`${rule.flag} applies only with --aws`, 2);
  }
  if (command === 'infer' && aws && raw.dataset !== undefined) {
    throw new CliError(
      '--dataset of `run infer` applies to local runs only: the deployed pipeline scores its configured dataset; name the batch with --landing-key s3://<bucket>/<prefix>/',
      2,
    );
  }
  if (raw.wait === false && !aws) throw new CliError('--no-wait applies only with --aws', 2);
  if (raw.input !== undefined && raw.inputFile !== undefined) {
    throw new CliError('--input and --input-file cannot be used together: pass the input one way', 2);
  }
  if (raw.bucket !== undefined && raw.landingKey === undefined) {
    throw new CliError('--bucket needs --landing-key: it names the bucket the landing prefix is in', 2);
  }
  if (raw.datasetVersion !== undefined && raw.dataset === undefined) {
    throw new CliError('--dataset-version needs --dataset: a version belongs to a dataset', 2);
  }
  if (command === 'data') {
    const sources = (['landingKey', 'bundled', 'file'] as const).filter((key) => raw[key] !== undefined);
    if (sources.length > 1) {
      throw new CliError(
        `${sources.map((key) => OPTION_RULES[key].flag).join(' and ')} are ${sources.length === 2 ? 'two' : 'three'} sources: give one of them`,
        2,
      );
    }
  }
  if (raw.contract !== undefined && raw.file === undefined) {
    throw new CliError('--contract needs --file: it is the contract of the file to land', 2);
  }
}

/** `--input` / `--input-file`: the whole execution input, which the flags then add to. */
async function baseInput(raw: RawRunOptions): Promise<JsonObject> {
  if (raw.input !== undefined) return jsonObjectOf('--input', raw.input, 'the value');
  if (raw.inputFile !== undefined) {
    const path = nonEmpty('--input-file', raw.inputFile);
    return jsonObjectOf('--input-file', await readText('--input-file', path), path);
  }
  return {};
}

async function flagInput(
  command: RunPipelineCommand,
  raw: RawRunOptions,
  defaults: DefaultBuckets,
  aws: boolean,
): Promise<JsonObject> {
  const input: JsonObject = {};
  const dataset = raw.dataset === undefined ? undefined : nameOf('--dataset', raw.dataset);
  const version =
    raw.datasetVersion === undefined ? undefined : nonEmpty('--dataset-version', raw.datasetVersion);
  // Inference and monitoring take {bucket, prefix}: a bare prefix needs a bucket to go with it.
  const landing = () =>
    raw.landingKey === undefined
      ? undefined
      : s3Location('--landing-key', raw.landingKey, raw.bucket ?? defaults.landing, aws);

  switch (command) {
    case 'data': {
      if (raw.bundled !== undefined) {
        const bundled = nameOf('--bundled', raw.bundled);
        input.source = { type: 'bundled', name: bundled };
        input.dataset = dataset ?? bundled;
      } else if (dataset !== undefined) {
        input.dataset = dataset;
      }
      if (raw.landingKey !== undefined) {
        // The data pipeline reads the landing bucket unless told: the bucket is optional here.
        const prefix = s3Location('--landing-key', raw.landingKey, raw.bucket ?? '', false);
        input.source = { type: 's3', ...(prefix.bucket && { bucket: prefix.bucket }), prefix: prefix.prefix };
      }
      return input;
    }
    case 'train': {
      if (dataset !== undefined) input.dataset = { name: dataset, ...(version !== undefined && { version }) };
      if (raw.candidates !== undefined)
        input.candidates = (await readCandidatesFile(raw.candidates)) as Json[];
      if (raw.reason !== undefined) {
        if (!(REASONS as readonly string[]).includes(raw.reason)) {
          throw new CliError(`--reason must be one of ${REASONS.join(', ')}, got "${raw.reason}"`, 2);
        }
        input.reason = raw.reason;
      }
      return input;
    }
    case 'infer': {
      // Inference has no dataset in its input: locally --dataset picks the landing folder (DATASET_NAME).
      const batch = landing();
      if (batch) input.input = { bucket: batch.bucket, prefix: batch.prefix };
      return input;
    }
    case 'monitor': {
      if (dataset !== undefined) input.dataset = { name: dataset, ...(version !== undefined && { version }) };
      const current = landing();
      if (current) input.current = { bucket: current.bucket, prefix: current.prefix };
      if (raw.predictions !== undefined) {
        const at = s3Location('--predictions', raw.predictions, defaults.predictions, aws);
        input.predictions = { bucket: at.bucket, prefix: at.prefix };
      }
      return input;
    }
  }
}

/** The data pipeline cannot start without a dataset name and a source: say which flag gives them. */
function requireDataFields(input: JsonObject, landsFile: boolean): void {
  if (typeof input.dataset !== 'string' || input.dataset.trim() === '') {
    throw new CliError('`run data` needs --dataset <name> (the dataset to publish), or --bundled <name>', 2);
  }
  if (input.source === undefined && !landsFile) {
    throw new CliError(
      '`run data` needs a source: --file <path> (lands it first), --landing-key <prefix> (a batch in the landing bucket) or --bundled <name> (iris, seattle-weather)',
      2,
    );
  }
}

function localTarget(
  command: RunPipelineCommand,
  raw: RawRunOptions,
  processEnv: Readonly<Record<string, string | undefined>>,
): LocalTarget {
  const env: Record<string, string> = {};
  if (command === 'monitor') Object.assign(env, alertEnv(raw, processEnv));
  if (raw.model !== undefined) env.MODEL_NAME = nonEmpty('--model', raw.model);
  // Inference scores the newest batch under landing/<DATASET_NAME>/ (its input names no dataset).
  if (raw.dataset !== undefined && command === 'infer') env.DATASET_NAME = nameOf('--dataset', raw.dataset);
  // As `mlops train`: no alias moves unless asked (`mlops promote` moves one afterwards).
  let promotion: PromotionMode | undefined = command === 'train' ? DEFAULT_PROMOTION : undefined;
  if (raw.promote !== undefined) {
    promotion = promotionModeOf(raw.promote);
    if (promotion === undefined) {
      throw new CliError(`--promote must be one of ${PROMOTION_MODES.join(', ')}, got "${raw.promote}"`, 2);
    }
  }
  let driftThreshold: number | undefined;
  if (raw.driftThreshold !== undefined) {
    const value = Number(raw.driftThreshold);
    if (raw.driftThreshold.trim() === '' || !isShareDriftThreshold(value)) {
      throw new CliError(
        `--drift-threshold must be a number above ${DRIFT_THRESHOLD.exclusiveMin} and at most ${DRIFT_THRESHOLD.shareMax}, got "${raw.driftThreshold}"`,
        2,
      );
    }
    driftThreshold = value;
  }
  return {
    mode: 'local',
    env,
    ...(promotion !== undefined && { promotion }),
    ...(driftThreshold !== undefined && { driftThreshold }),
  };
}

/**
 * The monitoring pipeline's alert step needs a sender and recipients before it knows whether to
 * send (lib/drift-alerts.ts sets them on the deployed function): from the flags, else the environment.
 */
function alertEnv(
  raw: RawRunOptions,
  processEnv: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const sender = raw.alertFrom?.trim() ?? processEnv.ALERT_SENDER?.trim() ?? '';
  const flagged = raw.alertFrom !== undefined;
  if (!isEmailAddress(sender)) {
    throw new CliError(
      sender === ''
        ? "`run monitor` needs --alert-from <address> (or ALERT_SENDER): the drift e-mail's sender"
        : `${flagged ? '--alert-from' : 'ALERT_SENDER'} must be an e-mail address, got "${sender}"`,
      2,
    );
  }
  const list = raw.alertTo ?? processEnv.ALERT_RECIPIENTS ?? '';
  const recipients = list
    .split(',')
    .map((address) => address.trim())
    .filter(Boolean);
  const bad = recipients.find((address) => !isEmailAddress(address));
  if (recipients.length === 0 || bad !== undefined) {
    const flag = raw.alertTo !== undefined ? '--alert-to' : 'ALERT_RECIPIENTS';
    throw new CliError(
      recipients.length === 0
        ? '`run monitor` needs --alert-to <addresses> (or ALERT_RECIPIENTS): who gets the drift e-mail'
        : `${flag} must be comma-separated e-mail addresses, "${bad}" is not one`,
      2,
    );
  }
  return { ALERT_SENDER: sender, ALERT_RECIPIENTS: recipients.join(',') };
}

// Step Functions: state machine names are 1-80 of these; execution names too.
const NAME = /^[A-Za-z0-9_-]+$/;
const STATE_MACHINE_ARN =
  /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}(:[A-Za-z0-9_$-]+)?$/;

function awsTarget(raw: RawRunOptions): AwsTarget {
  const stage = raw.stage === undefined ? 'dev' : raw.stage.trim();
  if (!NAME.test(stage) || deployedStateMachineName(stage, 'monitoring').length > 80) {
    throw new CliError(
      `--stage must be a stage name of letters, digits, - or _ (e.g. dev, prod), got "${raw.stage}"`,
      2,
    );
  }
  let stateMachineArn: string | undefined;
  if (raw.stateMachineArn !== undefined) {
    stateMachineArn = raw.stateMachineArn.trim();
    if (!STATE_MACHINE_ARN.test(stateMachineArn)) {
      throw new CliError(
        `--state-machine-arn must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), got "${raw.stateMachineArn}"`,
        2,
      );
    }
  }
  let executionName: string | undefined;
  if (raw.executionName !== undefined) {
    executionName = raw.executionName.trim();
    if (!NAME.test(executionName) || executionName.length > 80) {
      throw new CliError(
        `--execution-name must be 1-80 letters, digits, - or _, got "${raw.executionName}"`,
        2,
      );
    }
  }
  return {
    mode: 'aws',
    stage,
    ...(stateMachineArn !== undefined && { stateMachineArn }),
    ...(executionName !== undefined && { executionName }),
    wait: raw.wait !== false,
  };
}

/** The deployed state machine's name (`mlops-<stage>-<pipeline>`, as lib/ names it). */
export function deployedStateMachineName(stage: string, pipeline: PipelineName): string {
  return stateMachineName(stageNamePrefix(stage), pipeline);
}

export interface S3Location {
  readonly bucket: string;
  /** Ends with `/` unless empty (the pipelines take folders, not single objects). */
  readonly prefix: string;
}

/**
 * `s3://bucket/prefix/` or a bare prefix in `bucket`. A bare prefix without a bucket fails:
 * with `--aws` the deployed bucket names are not known here.
 */
export function s3Location(
  flag: string,
  value: string,
  bucket: string | undefined,
  aws: boolean,
): S3Location {
  const trimmed = value.trim();
  if (trimmed === '') throw new CliError(`${flag} cannot be empty`, 2);
  const uri = /^s3:\/\/([^/]+)\/?(.*)$/.exec(trimmed);
  const at = uri
    ? { bucket: uri[1] as string, key: uri[2] as string }
    : { bucket: bucket ?? '', key: trimmed };
  if (uri === null && trimmed.includes('://')) {
    throw new CliError(`${flag} must be s3://bucket/prefix/ or a prefix, got "${value}"`, 2);
  }
  if (uri === null && !bucket && aws) {
    throw new CliError(
      `${flag} needs a bucket with --aws: give s3://<bucket>/${trimmed} or --bucket (the stack's bucket names are in its outputs)`,
      2,
    );
  }
  if (at.bucket !== '' && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(at.bucket)) {
    throw new CliError(`${flag}: "${at.bucket}" is not an S3 bucket name`, 2);
  }
  const key = at.key.replace(/^\/+/, '');
  return { bucket: at.bucket, prefix: key === '' || key.endsWith('/') ? key : `${key}/` };
}

function jsonObjectOf(flag: string, text: string, where: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${flag}: ${where} is not JSON: ${(error as Error).message}`, 2);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(
      `${flag} must be a JSON object (the pipeline's whole input), got ${where === 'the value' ? text.trim().slice(0, 40) : `another value in ${where}`}`,
      2,
    );
  }
  return parsed as JsonObject;
}

/** Dataset and model names end up in S3 keys and MLflow names: no slashes or spaces. */
function nameOf(flag: string, value: string): string {
  const name = nonEmpty(flag, value);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new CliError(`${flag} must be a name of letters, digits, '.', '_' or '-', got "${value}"`, 2);
  }
  return name;
}

/**
 * `mlops train`: trains every candidate on a dataset against the MLflow at MLFLOW_TRACKING_URI,
 * registers the best as a new model version and optionally promotes it. Progress per candidate
 * on stderr, a summary table on stdout, and with --json one JSON line last.
 */
import { type Command, Option } from 'commander';
import { DataError, readContractFile } from '../../lambdas/core/data';
import {
  DatasetRejectedError,
  fileBlobStore,
  LifecycleError,
  type SplitMethod,
  type TrainingProgress,
  TrainingRequestError,
  type TrainRequest,
  type TrainResult,
  trainAndRegister,
} from '../../lambdas/core/lifecycle';
import { MlflowClient, MlflowConfigError, MlflowError } from '../../lambdas/core/mlflow';
import {
  PROMOTION_MODES,
  type PromotionMode,
  promotionModeOf,
  renamedPromotionModeNote,
} from '../../lambdas/core/settings';
import { CandidateSpecError, HIGHER_IS_BETTER, isMetricName } from '../../lambdas/core/training';
import { LOCAL_DIR } from '../../localstack/services/services';
import { nonEmpty, readCandidatesFile } from './option-values';
import { CliError, createOutput, type Output, table } from './output';
import { DEFAULT_PROMOTION } from './run-input';

/** The options as commander hands them over: strings, unchecked. */
export interface RawTrainOptions {
  readonly dataset?: string;
  readonly contract?: string;
  readonly candidates?: string;
  readonly experiment?: string;
  readonly model?: string;
  /** The earlier spelling of --model. */
  readonly modelName?: string;
  readonly seed?: string;
  readonly metric?: string;
  readonly promote?: string;
  readonly testFraction?: string;
  readonly split?: string;
  readonly maxQuarantinedShare?: string;
  readonly workDir?: string;
  readonly json?: boolean;
}

/** Checked options; the files they name are read later. */
export interface TrainOptions {
  readonly dataset: string;
  readonly contractFile?: string;
  readonly candidatesFile?: string;
  readonly experiment?: string;
  readonly modelName?: string;
  readonly seed?: number;
  readonly metric?: string;
  readonly promote: PromotionMode;
  readonly testFraction?: number;
  readonly split?: SplitMethod;
  readonly maxQuarantinedShare?: number;
  readonly workDir: string;
  readonly json: boolean;
}

/** Where the splits and the quarantined rows of each run are kept (`<dir>/training-runs/<run>/`). */
export const DEFAULT_WORK_DIR = LOCAL_DIR;

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(
      'train every candidate on a dataset, log each to MLflow (MLFLOW_TRACKING_URI), register the best as a new model version',
    )
    .requiredOption(
      '--dataset <name-or-path>',
      'a bundled dataset (iris, seattle-weather) or a CSV/JSON/JSONL/Parquet file',
    )
    .option(
      '--contract <file>',
      'data contract (input_schema.json); default: the bundled one, or the one beside the file',
    )
    .option(
      '--candidates <file>',
      'JSON array of candidate specs [{name, family, params}]; default: one per family',
    )
    .option(
      '--experiment <name>',
      'MLflow experiment; default: MLFLOW_EXPERIMENT_NAME, else the model name (as the training pipeline)',
    )
    .option('--model <name>', 'registered model; default: <dataset>-classifier or <dataset>-regressor')
    .addOption(new Option('--model-name <name>', 'the earlier name of --model').hideHelp())
    .option('--seed <n>', 'seed of the split and the trainers', '42')
    .option(
      '--metric <name>',
      `selection metric (${Object.keys(HIGHER_IS_BETTER).join(', ')}); default: f1_macro or rmse`,
    )
    .option(
      '--promote <mode>',
      `promotion gate: ${PROMOTION_MODES.join(', ')} (default ${DEFAULT_PROMOTION}: no alias moves)`,
    )
    .option('--test-fraction <share>', 'share of rows held out for evaluation', '0.2')
    .option(
      '--split <method>',
      'random, or time (newest rows held out); default: time when the contract has a time column',
    )
    .option(
      '--max-quarantined-share <share>',
      'fail when more than this share of rows breaks the contract (1: only when no valid row is left)',
      '0.1',
    )
    .option('--work-dir <dir>', 'where splits and quarantined rows are kept', DEFAULT_WORK_DIR)
    .option('--json', 'print the result as one JSON line last')
    .action(async (raw: RawTrainOptions) => {
      const options = parseTrainOptions(raw);
      const out = createOutput(options.json);
      const renamed = renamedPromotionModeNote(raw.promote ?? '');
      if (renamed) out.progress(`note: ${renamed}`);
      if (raw.modelName !== undefined) out.progress('note: --model-name is now --model');
      const result = await runTrain(options, out);
      out.info(renderSummary(result));
      out.result(result);
    });
}

/** Checks the options; a bad one is a CliError (exit 2) naming the option and the value. */
export function parseTrainOptions(
  raw: RawTrainOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
): TrainOptions {
  const dataset = raw.dataset?.trim();
  if (!dataset) throw new CliError('--dataset is required: a bundled dataset name or a data file', 2);
  const promote = promotionModeOf(raw.promote ?? DEFAULT_PROMOTION);
  if (promote === undefined) {
    throw new CliError(`--promote must be one of ${PROMOTION_MODES.join(', ')}, got "${raw.promote}"`, 2);
  }
  if (raw.model !== undefined && raw.modelName !== undefined) {
    throw new CliError('--model and --model-name are the same option: give --model once', 2);
  }
  const model =
    raw.model !== undefined
      ? nonEmpty('--model', raw.model)
      : raw.modelName !== undefined
        ? nonEmpty('--model-name', raw.modelName)
        : undefined;
  const experiment =
    raw.experiment !== undefined
      ? nonEmpty('--experiment', raw.experiment)
      : env.MLFLOW_EXPERIMENT_NAME?.trim() || undefined;
  if (raw.split !== undefined && raw.split !== 'random' && raw.split !== 'time') {
    throw new CliError(`--split must be random or time, got "${raw.split}"`, 2);
  }
  if (raw.metric !== undefined && !isMetricName(raw.metric)) {
    throw new CliError(
      `--metric must be one of ${Object.keys(HIGHER_IS_BETTER).join(', ')}, got "${raw.metric}"`,
      2,
    );
  }
  return {
    dataset,
    ...(raw.contract !== undefined && { contractFile: nonEmpty('--contract', raw.contract) }),
    ...(raw.candidates !== undefined && { candidatesFile: nonEmpty('--candidates', raw.candidates) }),
    ...(experiment !== undefined && { experiment }),
    ...(model !== undefined && { modelName: model }),
    ...(raw.seed !== undefined && { seed: seedOf(raw.seed) }),
    ...(raw.metric !== undefined && { metric: raw.metric }),
    promote,
    ...(raw.split !== undefined && { split: raw.split as SplitMethod }),
    ...(raw.testFraction !== undefined && {
      testFraction: shareOf('--test-fraction', raw.testFraction, { exclusive: true }),
    }),
    ...(raw.maxQuarantinedShare !== undefined && {
      maxQuarantinedShare: shareOf('--max-quarantined-share', raw.maxQuarantinedShare, { exclusive: false }),
    }),
    workDir: raw.workDir ?? DEFAULT_WORK_DIR,
    json: Boolean(raw.json),
  };
}

/** Runs the training; the lifecycle's typed errors become one-line CliErrors. */
export async function runTrain(options: TrainOptions, out: Output): Promise<TrainResult> {
  try {
    const mlflow = MlflowClient.fromEnv();
    const request: TrainRequest = {
      dataset: options.dataset,
      ...(options.contractFile && { contract: await readContractFile(options.contractFile) }),
      ...(options.candidatesFile && { candidates: await readCandidatesFile(options.candidatesFile) }),
      ...(options.experiment && { experiment: options.experiment }),
      ...(options.modelName && { modelName: options.modelName }),
      ...(options.seed !== undefined && { seed: options.seed }),
      ...(options.metric && { metric: options.metric }),
      promote: options.promote,
      ...(options.testFraction !== undefined && { testFraction: options.testFraction }),
      ...(options.split && { split: options.split }),
      ...(options.maxQuarantinedShare !== undefined && { maxQuarantinedShare: options.maxQuarantinedShare }),
    };
    return await trainAndRegister(request, {
      mlflow,
      store: fileBlobStore(options.workDir),
      onProgress: progressPrinter(out, options.metric),
    });
  } catch (error) {
    throw asCliError(error);
  }
}

/** The option behind each request field, so an error names what the user typed. */
const REQUEST_OPTIONS: Readonly<Record<string, string>> = {
  dataset: '--dataset',
  contract: '--contract',
  candidates: '--candidates',
  metric: '--metric',
  seed: '--seed',
  promote: '--promote',
  testFraction: '--test-fraction',
  split: '--split',
  maxQuarantinedShare: '--max-quarantined-share',
};

/** Errors of the input (arguments, data, contract, configuration) exit 2; failures of the work exit 1. */
export function asCliError(error: unknown): unknown {
  if (error instanceof CliError) return error;
  if (error instanceof MlflowConfigError) return new CliError(error.message, 2);
  if (error instanceof TrainingRequestError) {
    const field = error.field.split(/[.[]/)[0] ?? error.field;
    const option = REQUEST_OPTIONS[field];
    return new CliError(option ? error.message.replace(field, option) : error.message, 2);
  }
  if (error instanceof CandidateSpecError) return new CliError(error.message, 2);
  if (error instanceof DatasetRejectedError || error instanceof DataError)
    return new CliError(error.message, 2);
  if (error instanceof LifecycleError || error instanceof MlflowError) return new CliError(error.message, 1);
  return error;
}

export function progressPrinter(out: Output, metricName?: string): (event: TrainingProgress) => void {
  let metric = metricName;
  return (event) => {
    switch (event.type) {
      case 'prepared': {
        const { dataset } = event;
        metric ??= dataset.task === 'classification' ? 'f1_macro' : 'rmse';
        out.progress(
          `dataset ${dataset.name} ${dataset.version}: ${dataset.rows.valid} rows (${dataset.rows.train} train / ${dataset.rows.test} test, ${dataset.split} split)`,
        );
        if (dataset.rows.quarantined > 0) {
          const first = dataset.rejections[0];
          const where = first ? ` (first: row ${first.row}: ${first.reason})` : '';
          out.progress(
            `quarantined ${dataset.rows.quarantined} of ${dataset.rows.input} rows${where}; all of them: ${dataset.quarantine}`,
          );
        }
        return;
      }
      case 'candidate-started':
        out.progress(`[${event.index + 1}/${event.total}] training ${event.name}`);
        return;
      case 'candidate-finished': {
        const { result } = event;
        const step = `[${event.index + 1}/${event.total}] ${result.name}`;
        if (result.status === 'failed') {
          out.progress(`${step} FAILED after ${seconds(event.seconds)}: ${result.error}`);
          return;
        }
        const value = metric === undefined ? undefined : result.metrics[metric];
        out.progress(
          `${step}  ${metric} ${value === undefined ? 'n/a' : format(value)}  ${seconds(event.seconds)}  run ${result.runId}`,
        );
        return;
      }
      case 'registered':
        out.progress(`registered ${event.model} version ${event.version}`);
        return;
      case 'promoted':
        out.progress(
          event.decision.alias
            ? `alias ${event.decision.alias} -> this version: ${event.decision.reason}`
            : event.decision.reason,
        );
        return;
    }
  };
}

/** The human summary: one row per candidate (the selected one starred), then the registration. */
export function renderSummary(result: TrainResult): string {
  const names = [
    result.metric.name,
    ...new Set(result.candidates.flatMap((candidate) => Object.keys(candidate.metrics))),
  ].filter((name, i, all) => all.indexOf(name) === i);
  const rows = result.candidates.map((candidate) => [
    `${candidate.name === result.best ? '*' : ' '} ${candidate.name}`,
    candidate.family,
    ...names.map((name) => {
      const value = candidate.metrics[name];
      return value === undefined ? (candidate.status === 'failed' ? 'failed' : '') : format(value);
    }),
    candidate.training_seconds === null ? '' : candidate.training_seconds.toFixed(2),
    candidate.run_id ?? '',
  ]);
  const lines = [
    table(['  candidate', 'family', ...names, 'train s', 'run'], rows),
    '',
    `registered ${result.model} version ${result.version} from run ${result.run_id} (${result.best}, ${result.metric.name} ${format(result.metric.value)})`,
    `dataset ${result.dataset.name} ${result.dataset.version}: ${result.dataset.rows} rows, ${result.dataset.quarantined} quarantined`,
  ];
  if (result.promotion?.alias) lines.push(`alias ${result.promotion.alias}: ${result.promotion.reason}`);
  return lines.join('\n');
}

function seedOf(value: string): number {
  const seed = Number(value);
  if (!/^\d+$/.test(value.trim()) || seed > 0xffffffff) {
    throw new CliError(`--seed must be a whole number from 0 to 4294967295, got "${value}"`, 2);
  }
  return seed;
}

function shareOf(option: string, value: string, { exclusive }: { exclusive: boolean }): number {
  const share = Number(value);
  const ok = value.trim() !== '' && (exclusive ? share > 0 && share < 1 : share >= 0 && share <= 1);
  if (!ok) {
    throw new CliError(
      `${option} must be a number ${exclusive ? 'between 0 and 1 (exclusive)' : 'from 0 to 1'}, got "${value}"`,
      2,
    );
  }
  return share;
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}

function seconds(value: number): string {
  return `${value.toFixed(2)} s`;
}

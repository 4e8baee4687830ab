/**
 * `mlops drift`: data drift of a window against the reference set.
 *
 * - `compute`: offline, two files (CSV, JSON, JSON Lines, Parquet), no service needed;
 * - `run`: the monitoring step against the configured services (MLflow run, S3 history, e-mail);
 * - `report`: the newest monitoring run in MLflow, its verdict, statistics and HTML report.
 *
 * Progress on stderr, results on stdout; with --json exactly one JSON line on stdout. `compute`
 * exits non-zero after its result when nothing could be measured, or on drift with
 * --fail-on-drift (DRIFT_EXIT_CODES, listed in its --help).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Command } from 'commander';
import { type DataContract, DataError, readContractFile } from '../../lambdas/core/data';
import {
  DEFAULT_PSI_BINS,
  type DriftConfig,
  DriftConfigError,
  type DriftResult,
  isColumnError,
  loadDriftConfig,
  noVerdictReason,
  renderDriftReport,
} from '../../lambdas/core/drift';
import { MlflowClient, MlflowConfigError, MlflowError } from '../../lambdas/core/mlflow';
import {
  AlertSendError,
  dataInputFromUri,
  driftedColumns,
  findLatestMonitoringRun,
  isS3Input,
  type MonitoringDataInput,
  type MonitoringDeps,
  MonitoringError,
  MonitoringInputError,
  type MonitoringOutcome,
  MonitoringRequestError,
  type MonitoringRunSummary,
  measureDrift,
  monitoringExperimentLister,
  PowertoolsDriftMetrics,
  readMonitoringFrames,
  readMonitoringReport,
  runMonitoring,
  S3DriftHistoryStore,
  S3EpisodeStore,
  SesAlertSender,
  s3ClientFromEnv,
} from '../../lambdas/core/monitoring';
import { DRIFT_THRESHOLD } from '../../lambdas/core/settings';
import { LOCAL_DIR } from '../../localstack/services/services';
import { CliError, createOutput, type Output, table } from './output';

/** Options shared by `compute` and `run`, as commander hands them over. */
interface RawDriftOptions {
  readonly reference?: string;
  readonly current?: string;
  readonly contract?: string;
  readonly predictions?: string;
  readonly referencePredictions?: string;
  readonly columns?: string;
  readonly threshold?: string;
  readonly metric?: string;
  readonly psiBins?: string;
  readonly json?: boolean;
}

interface RawComputeOptions extends RawDriftOptions {
  readonly report?: string;
  readonly failOnDrift?: boolean;
}

/**
 * `mlops drift compute`'s exit codes, for CI (as Evidently's test suites fail a build). The result
 * is printed before a non-zero code of 3 or 4, so a script can read why.
 */
export const DRIFT_EXIT_CODES = {
  /** The drift was measured (drifted or not, unless --fail-on-drift). */
  measured: 0,
  /** An unexpected error. */
  failure: 1,
  /** Bad arguments or input: a flag, an unreadable file or S3 object, a contract. */
  badInput: 2,
  /** --fail-on-drift, and dataset drift was detected. */
  drifted: 3,
  /** Nothing could be measured: no feature could be compared, or none has the headline metric. */
  unmeasured: 4,
} as const;

const COMPUTE_EXIT_HELP = `
Exit codes:
  ${DRIFT_EXIT_CODES.measured}  drift measured: no dataset drift, or drift without --fail-on-drift
  ${DRIFT_EXIT_CODES.failure}  an unexpected error
  ${DRIFT_EXIT_CODES.badInput}  bad arguments or input: a flag, an unreadable file, S3 object or contract
  ${DRIFT_EXIT_CODES.drifted}  --fail-on-drift and dataset drift detected: the headline metric (--metric,
     default share_drifted) is above --threshold; prediction drift alone does not count
  ${DRIFT_EXIT_CODES.unmeasured}  nothing measured: no feature column could be compared (no column in common,
     an empty window, every value missing) or none has the --metric's statistic
With 3 and 4 the result is printed first (--json: one line on stdout), the reason last on stderr.

Categorical columns are compared by their category strings (their order in each file does not
matter); a category new in the current window makes chi-square infinite (p = 0). Missing values
(an empty cell, null; NaN in a number column) are counted per side (reference_missing,
current_missing) and left out of every statistic: a number column drifts on its present values.`;

interface RawRunOptions extends RawDriftOptions {
  readonly model?: string;
  readonly modelVersion?: string;
  readonly bucket?: string;
  readonly historyPrefix?: string;
  readonly alertFrom?: string;
  readonly alertTo?: string;
  readonly emf?: boolean;
}

interface RawReportOptions {
  readonly model?: string;
  readonly out?: string;
  readonly json?: boolean;
}

/** Where `drift report` saves the report unless told (`.local/reports/drift-<run>.html`). */
export const DEFAULT_REPORTS_DIR = join(LOCAL_DIR, 'reports');

export function registerDrift(program: Command): void {
  const drift = program
    .command('drift')
    .description('data drift of the newest window against the reference set (KS, PSI, Wasserstein, JS)');

  const shared = (command: Command) =>
    command
      .option('--contract <file>', 'data contract (input_schema.json): column types and which are features')
      .option(
        '--predictions <file>',
        "the model's outputs on the current window (labels, probabilities, values)",
      )
      .option(
        '--reference-predictions <file>',
        "the model's outputs on the reference set (the predictions' baseline)",
      )
      .option(
        '--columns <names>',
        'comma-separated features to compare (default: the contract features, else all)',
      )
      .option(
        '--threshold <n>',
        `drift threshold of the headline metric (env DRIFT_THRESHOLD, default ${DRIFT_THRESHOLD.default})`,
      )
      .option(
        '--metric <name>',
        'headline metric: share_drifted, max_psi, max_wasserstein_normed, max_jensenshannon',
      )
      .option(
        '--psi-bins <n>',
        `reference-quantile bins for PSI (env DRIFT_PSI_BINS, default ${DEFAULT_PSI_BINS})`,
      )
      .option('--json', 'print the result as one JSON line');

  shared(
    drift
      .command('compute')
      .description('compare two files offline (CSV, JSON, JSON Lines or Parquet); no service needed')
      .requiredOption('--reference <file>', 'the reference data (what the model was trained on)')
      .requiredOption('--current <file>', 'the newest data'),
  )
    .option('--report <file.html>', 'also write the self-contained HTML report there')
    .option(
      '--fail-on-drift',
      `exit ${DRIFT_EXIT_CODES.drifted} when dataset drift is detected (for CI; see the exit codes below)`,
    )
    .addHelpText('after', COMPUTE_EXIT_HELP)
    .action(async (raw: RawComputeOptions) => {
      const out = createOutput(Boolean(raw.json));
      const computed = await asDriftCliErrors(() => computeCommand(raw, out));
      out.info(renderDriftResult(computed.result));
      out.result(computed.result);
      const failure = computeFailure(computed, Boolean(raw.failOnDrift));
      if (failure) throw failure;
    });

  shared(
    drift
      .command('run')
      .description(
        'the monitoring step: drift to MLflow (MLFLOW_TRACKING_URI), history to S3, e-mail on a breach',
      )
      .requiredOption('--current <file-or-s3-uri>', 'the newest data (a path or s3://bucket/key)')
      .requiredOption('--model <name>', 'the registered model the data feeds')
      .option(
        '--reference <file-or-s3-uri>',
        'the reference data (default: the model version\'s "mlops.reference_uri" tag)',
      )
      .option('--model-version <v>', 'default: the version the Production alias points at'),
  )
    .option('--bucket <name>', 'S3 bucket of the metrics history and the alert state (env MONITORING_BUCKET)')
    .option('--history-prefix <prefix>', 'key prefix of the metrics history', 'monitoring/drift-metrics')
    .option('--alert-from <address>', 'verified SES sender of the drift e-mail (env ALERT_SENDER)')
    .option('--alert-to <addresses>', 'comma-separated recipients (env ALERT_RECIPIENTS)')
    .option('--emf', 'print the CloudWatch EMF metric lines on stderr')
    .action(driftAction(runCommand, renderRunOutcome));

  drift
    .command('report')
    .description('the newest monitoring run in MLflow: its verdict, statistics and HTML report')
    .option(
      '--model <name>',
      'one model (experiment monitoring-<model>); default: every monitoring experiment',
    )
    .option('--out <file.html>', 'where to save the report (default .local/reports/drift-<run>.html)')
    .option('--json', 'print the run as one JSON line')
    .action(async (raw: RawReportOptions) => {
      const out = createOutput(Boolean(raw.json));
      const report = await asDriftCliErrors(() => reportCommand(raw));
      out.info(renderReport(report));
      out.result(report);
    });
}

// --- compute -------------------------------------------------------------------------------------

interface Computed {
  readonly result: DriftResult;
  /** The current window's columns, to name them when none is a reference column. */
  readonly currentColumns: readonly string[];
}

async function computeCommand(raw: RawComputeOptions, out: Output): Promise<Computed> {
  const config = driftConfigOf(raw);
  const contract = raw.contract !== undefined ? await contractOf(raw.contract) : undefined;
  const inputs = inputsOf(raw);
  const s3 = Object.values(inputs).some((input) => input !== undefined && isS3Input(input))
    ? s3ClientFromEnv()
    : undefined;
  const columns = columnsOf(raw.columns);
  const { frames, reference, current } = await readMonitoringFrames(
    {
      reference: inputs.reference as MonitoringDataInput,
      current: inputs.current as MonitoringDataInput,
      ...(inputs.predictions && { predictions: inputs.predictions }),
      ...(inputs.referencePredictions && { referencePredictions: inputs.referencePredictions }),
      ...(contract && { contract }),
      ...(columns && { columns }),
    },
    s3,
  );
  const { result, histograms } = measureDrift(frames, config);
  if (raw.report !== undefined) {
    const html = renderDriftReport(result, histograms, {
      referenceLabel: reference.source,
      currentLabel: current.source,
    });
    await writeReport(raw.report, html);
    out.progress(`report written to ${raw.report}`);
  }
  return { result, currentColumns: [...frames.current.columns.keys()] };
}

/** The error `compute` exits with after printing its result: nothing measured, or drift when failing on it. */
function computeFailure({ result, currentColumns }: Computed, failOnDrift: boolean): CliError | null {
  const reason = noVerdictReason(result);
  if (reason !== null) {
    const disjoint = reason.includes('the current data has none of the');
    const theirs =
      currentColumns.length > 6
        ? `${currentColumns.slice(0, 6).join(', ')} and ${currentColumns.length - 6} more`
        : currentColumns.join(', ');
    return new CliError(
      disjoint && currentColumns.length > 0 ? `${reason}; it has ${theirs}` : reason,
      DRIFT_EXIT_CODES.unmeasured,
    );
  }
  if (failOnDrift && result.drifted) {
    return new CliError(
      `drift detected (--fail-on-drift): ${result.drift_metric} ${num(result.value)} > threshold ${num(result.threshold)}`,
      DRIFT_EXIT_CODES.drifted,
    );
  }
  return null;
}

// --- run -----------------------------------------------------------------------------------------

async function runCommand(raw: RawRunOptions, out: Output): Promise<MonitoringOutcome> {
  const config = driftConfigOf(raw);
  const model = raw.model?.trim();
  if (!model) throw new CliError('--model is required: the registered model the data feeds', 2);
  const contract = raw.contract !== undefined ? await contractOf(raw.contract) : undefined;
  const inputs = inputsOf(raw);
  const columns = columnsOf(raw.columns);
  const bucket = raw.bucket?.trim() || process.env.MONITORING_BUCKET?.trim() || undefined;
  const from = raw.alertFrom?.trim() || process.env.ALERT_SENDER?.trim() || undefined;
  const to = (raw.alertTo ?? process.env.ALERT_RECIPIENTS ?? '')
    .split(',')
    .map((address) => address.trim())
    .filter(Boolean);
  if (from && to.length === 0) throw new CliError('--alert-from needs --alert-to (or ALERT_RECIPIENTS)', 2);
  if (from && !bucket) {
    throw new CliError('alerts need --bucket (or MONITORING_BUCKET): the breach episode is kept there', 2);
  }

  const s3 = s3ClientFromEnv();
  const tracking = MlflowClient.fromEnv();
  const deps: MonitoringDeps = {
    s3,
    tracking,
    ...(bucket && { history: new S3DriftHistoryStore(s3, bucket) }),
    metrics: new PowertoolsDriftMetrics({
      write: (line) => {
        if (raw.emf) out.progress(line);
      },
    }),
    ...(from &&
      bucket && {
        alerts: {
          store: new S3EpisodeStore(s3, bucket),
          sender: new SesAlertSender(sesClientFromEnv(), from, to),
        },
      }),
  };
  out.progress(`measuring drift for ${model} against ${tracking.trackingUri}`);
  return runMonitoring(
    {
      modelName: model,
      ...(raw.modelVersion?.trim() && { modelVersion: raw.modelVersion.trim() }),
      ...(inputs.reference && { reference: inputs.reference }),
      current: inputs.current as MonitoringDataInput,
      ...(inputs.predictions && { predictions: inputs.predictions }),
      ...(inputs.referencePredictions && { referencePredictions: inputs.referencePredictions }),
      ...(contract && { contract }),
      ...(columns && { columns }),
      drift: config,
      ...(raw.historyPrefix && { historyPrefix: raw.historyPrefix }),
    },
    deps,
  );
}

function sesClientFromEnv(env: NodeJS.ProcessEnv = process.env): SESv2Client {
  const endpoint = env.AWS_ENDPOINT_URL_SESV2?.trim() || env.AWS_ENDPOINT_URL?.trim();
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  return new SESv2Client({ ...(endpoint && { endpoint }), ...(region && { region }) });
}

// --- report --------------------------------------------------------------------------------------

export interface DriftReportOutput {
  readonly run: MonitoringRunSummary;
  /** Where the HTML report was saved. */
  readonly report_path: string;
  /** The MLflow UI page of the report. */
  readonly report_url: string;
}

async function reportCommand(raw: RawReportOptions): Promise<DriftReportOutput> {
  let client: MlflowClient;
  try {
    client = MlflowClient.fromEnv();
  } catch (error) {
    if (error instanceof MlflowConfigError) throw new CliError(error.message, 2);
    throw error;
  }
  const model = raw.model?.trim() || undefined;
  const run = await findLatestMonitoringRun(
    client,
    model !== undefined ? { modelName: model } : {},
    monitoringExperimentLister(client),
  );
  if (!run) {
    throw new CliError(
      `no monitoring run ${model !== undefined ? `for model ${model} ` : ''}in ${client.trackingUri} (run \`mlops drift run\` first)`,
      1,
    );
  }
  const path = raw.out ?? join(DEFAULT_REPORTS_DIR, `drift-${run.runId}.html`);
  await writeReport(path, await readMonitoringReport(client, run));
  return { run, report_path: path, report_url: run.reportUrl };
}

// --- options -------------------------------------------------------------------------------------

/** DRIFT_* from the environment, overridden by the flags; a bad value names the flag it came from. */
function driftConfigOf(raw: RawDriftOptions): DriftConfig {
  const flags: Record<string, [string, string | undefined]> = {
    DRIFT_THRESHOLD: ['--threshold', raw.threshold],
    DRIFT_METRIC: ['--metric', raw.metric],
    DRIFT_PSI_BINS: ['--psi-bins', raw.psiBins],
  };
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [variable, [flag, value]] of Object.entries(flags)) {
    if (value === undefined) continue;
    if (value.trim() === '') throw new CliError(`${flag} needs a value`, 2);
    env[variable] = value;
  }
  try {
    return loadDriftConfig(env);
  } catch (error) {
    if (!(error instanceof DriftConfigError)) throw error;
    let message = error.message;
    for (const [variable, [flag, value]] of Object.entries(flags)) {
      if (value !== undefined) message = message.replaceAll(variable, flag);
    }
    throw new CliError(message, 2);
  }
}

function inputsOf(raw: RawDriftOptions) {
  const input = (flag: string, value: string | undefined): MonitoringDataInput | undefined => {
    if (value === undefined) return undefined;
    if (value.trim() === '') throw new CliError(`${flag} needs a file`, 2);
    return dataInputFromUri(value);
  };
  return {
    reference: input('--reference', raw.reference),
    current: input('--current', raw.current),
    predictions: input('--predictions', raw.predictions),
    referencePredictions: input('--reference-predictions', raw.referencePredictions),
  };
}

function columnsOf(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const columns = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (columns.length === 0) throw new CliError('--columns needs at least one column name', 2);
  return columns;
}

async function contractOf(path: string): Promise<DataContract> {
  if (path.trim() === '') throw new CliError('--contract needs a file', 2);
  return readContractFile(path);
}

async function writeReport(path: string, content: string | Uint8Array): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  } catch (error) {
    throw new CliError(`cannot write the report to ${path}: ${(error as Error).message}`, 2);
  }
}

/** A subcommand's action: run it with the output mode `--json` picks, print its text, then its result. */
function driftAction<Raw extends { json?: boolean }, Result>(
  run: (raw: Raw, out: Output) => Promise<Result>,
  render: (result: Result) => string,
): (raw: Raw) => Promise<void> {
  return async (raw) => {
    const out = createOutput(Boolean(raw.json));
    const result = await asDriftCliErrors(() => run(raw, out));
    out.info(render(result));
    out.result(result);
  };
}

/** Bad input (arguments, files, contract, configuration) exits 2; failures of a service exit 1. */
async function asDriftCliErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (
      error instanceof MonitoringInputError ||
      error instanceof MonitoringRequestError ||
      error instanceof DataError ||
      error instanceof MlflowConfigError ||
      error instanceof RangeError
    ) {
      throw new CliError(error.message, 2);
    }
    if (error instanceof MonitoringError || error instanceof MlflowError || error instanceof AlertSendError) {
      throw new CliError(error.message, 1);
    }
    throw error;
  }
}

// --- rendering -----------------------------------------------------------------------------------

/** Short numbers for the table: four significant digits, an exponent for tiny p-values. */
function num(value: unknown): string {
  if (typeof value !== 'number') return '-';
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude < 1e-4 || magnitude >= 1e6) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

type LooseColumns = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** Missing values of one side as a share of its rows: "4.9%", "0", or "-" when not counted. */
function missingShare(missing: unknown, present: unknown): string {
  if (typeof missing !== 'number' || typeof present !== 'number') return '-';
  if (missing === 0) return '0';
  return `${Number(((100 * missing) / (missing + present)).toPrecision(2))}%`;
}

/** A compared categorical column's new and vanished categories (results read back may predate them). */
function categoryNote(column: Readonly<Record<string, unknown>>): string {
  const list = (key: string, label: string) => {
    const names = Array.isArray(column[key]) ? (column[key] as unknown[]).map(String) : [];
    if (names.length === 0) return [];
    const shown =
      names.length > 3 ? `${names.slice(0, 3).join(', ')} +${names.length - 3}` : names.join(', ');
    return [`${label}: ${shown}`];
  };
  return [...list('new_categories', 'new'), ...list('absent_categories', 'absent')].join('; ');
}

function columnTable(columns: LooseColumns): string {
  const rows = Object.entries(columns).map(([name, column]) => {
    const error = typeof column.error === 'string' ? column.error : undefined;
    return [
      name,
      String(column.role ?? '-'),
      String(column.kind ?? '-'),
      error ? 'n/a' : column.drifted ? 'DRIFT' : 'ok',
      error ? '-' : `${String(column.test ?? '-')} ${num(column.test_value)}`,
      num(column.ks_pvalue),
      num(column.psi),
      num(column.wasserstein_normed),
      num(column.jensenshannon),
      `${missingShare(column.reference_missing, column.reference_rows)} / ${missingShare(column.current_missing, column.current_rows)}`,
      error ?? categoryNote(column),
    ];
  });
  return table(
    [
      'COLUMN',
      'ROLE',
      'TYPE',
      'DRIFT',
      'DECIDED BY',
      'KS P',
      'PSI',
      'WASS. NORMED',
      'JS',
      'MISSING REF / CUR',
      'NOTE',
    ],
    rows,
  );
}

function verdictLine(result: {
  drift_metric: string;
  value: number | null;
  threshold: number;
  drifted: boolean;
  share_drifted: number | null;
}): string {
  if (result.value === null) return `Drift unknown: no ${result.drift_metric} could be computed`;
  return result.drifted
    ? `Drift detected: ${result.drift_metric} ${num(result.value)} > threshold ${num(result.threshold)}`
    : `No drift: ${result.drift_metric} ${num(result.value)} <= threshold ${num(result.threshold)}`;
}

export function renderDriftResult(result: DriftResult): string {
  const compared = Object.values(result.columns).filter((column) => !isColumnError(column)).length;
  const lines = [
    columnTable(result.columns as unknown as LooseColumns),
    '',
    `${result.features_drifted} of ${result.features_compared} features drifted; ${compared} of ${Object.keys(result.columns).length} columns compared (reference ${result.reference_rows} rows, current ${result.current_rows} rows)`,
  ];
  const drifted = driftedColumns(result);
  if (drifted.length > 0) lines.push(`drifted, most first: ${drifted.join(', ')}`);
  for (const note of result.notes) lines.push(`note: ${note}`);
  lines.push(verdictLine(result));
  return lines.join('\n');
}

function renderRunOutcome(outcome: MonitoringOutcome): string {
  const model = outcome.model.version
    ? `${outcome.model.name} v${outcome.model.version}`
    : outcome.model.name;
  const { alert: decided } = outcome;
  const alert = decided.skipped
    ? `alert: none (${decided.skipped})`
    : decided.decision === 'none'
      ? `alert: none (the breach episode ${outcome.drifted ? 'is still open' : 'stays closed'})`
      : `alert: ${decided.decision} e-mail sent (message ${decided.messageId ?? '?'})`;
  return [
    renderDriftResult(outcome.result),
    `model ${model} at ${outcome.timestamp}`,
    ...(outcome.run_id ? [`MLflow run ${outcome.run_id}: ${outcome.report_uri}`] : []),
    ...(outcome.metrics_uri ? [`metrics history: ${outcome.metrics_uri}`] : []),
    alert,
  ].join('\n');
}

function renderReport(report: DriftReportOutput): string {
  const { run } = report;
  const model = run.modelName ? `${run.modelName}${run.modelVersion ? ` v${run.modelVersion}` : ''}` : '-';
  const lines = [`monitoring run ${run.runId} (${run.startedAt ?? 'start unknown'}), model ${model}`];
  if (run.result) {
    lines.push(columnTable(run.result.columns as LooseColumns));
    for (const note of run.result.notes) lines.push(`note: ${note}`);
    lines.push(verdictLine(run.result));
  } else {
    const metric = (key: string) => (run.metrics[key] !== undefined ? num(run.metrics[key]) : '-');
    lines.push(
      `verdict ${run.verdict ?? 'unknown'}: drift_value ${metric('drift_value')}, share_drifted ${metric('share_drifted')}`,
    );
  }
  lines.push(`report saved to ${report.report_path}`, `in MLflow: ${report.report_url}`);
  return lines.join('\n');
}

/**
 * `mlops run data|train|infer|monitor`: runs one pipeline execution and reports it.
 *
 * - locally (default): the ASL file in stepfunctions/ run by the local runner against the local
 *   MLflow and S3/SES endpoint (started or reused first);
 * - `--aws`: the deployed state machine `mlops-<stage>-<pipeline>`, started through the Step
 *   Functions API and followed to its end.
 *
 * Progress per state on stderr, the output's summary on stdout; with --json exactly one JSON line
 * `{pipeline, mode, status, output | error: {name, cause}, durationMs}`. A failed execution exits 1
 * with its error and cause, bad arguments exit 2, Ctrl-C while following an AWS execution 130.
 */
import type { Command } from 'commander';
import { DRIFT_THRESHOLD, PROMOTION_MODES, renamedPromotionModeNote } from '../../lambdas/core/settings';
import {
  executionNameFor,
  followExecution,
  sdkStepFunctionsApi,
} from '../../localstack/deploy/execution-follower';
import { historyProgress, readableCause } from '../../localstack/deploy/execution-progress';
import { CliError, createOutput, type Output } from './output';
import {
  asAwsCliError,
  createStepFunctionsClient,
  findStateMachineArn,
  stepFunctionsEndpoint,
} from './run-aws';
import {
  type AwsTarget,
  type DefaultBuckets,
  deployedStateMachineName,
  type LocalTarget,
  parseRunOptions,
  pipelineCommandOf,
  type RawRunOptions,
  type RunRequest,
} from './run-input';
import { ensureLocalServices, localDefaultBuckets, type RunOutcome, runLocally } from './run-local';
import { localProgress } from './run-progress';
import { renderRunOutput } from './run-summary';

/** The `--json` line (and what the human summary is made of). */
export interface RunReport {
  readonly pipeline: string;
  readonly mode: 'local' | 'aws';
  /** SUCCEEDED, FAILED, TIMED_OUT, ABORTED; RUNNING with --no-wait or when interrupted. */
  readonly status: string;
  readonly stateMachineArn?: string;
  readonly executionArn?: string;
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly cause: string };
  readonly durationMs: number;
}

const EXAMPLES = `
Pipelines: data (ingest → validate → quarantine → split → publish), train (candidates → evaluate →
register → promote), infer (batch predictions with Production, shadow with Challenger), monitor (drift
and alerts). Locally the ASL files in stepfunctions/ run against the local MLflow and S3 endpoint
(started if needed); with --aws the deployed state machine mlops-<stage>-<pipeline> runs.

Examples:
  $ mlops run data --bundled iris                                  # publish the bundled iris dataset
  $ mlops run data --dataset sales --landing-key landing/sales/2025-06-01/
  $ mlops run train --dataset iris --candidates candidates.json --promote none
  $ mlops run infer --model iris-classifier --landing-key landing/iris/2025-06-03/
  $ mlops run monitor --model iris-classifier --alert-from mlops@example.org --alert-to me@example.org --json
  $ mlops run train --input '{"dataset": {"name": "iris"}, "reason": "manual"}'
  $ mlops run data --aws --stage prod --landing-key s3://my-landing-bucket/landing/iris/2025-06-01/ --dataset iris
  $ mlops run monitor --aws --no-wait                              # print the execution ARN and return

Exit codes: 0 succeeded, 1 the execution failed (its error and cause are printed), 2 bad arguments,
130 interrupted while following an --aws execution (which keeps running).`;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'run a pipeline: locally through its state-machine file (default), or the deployed one with --aws',
    )
    .argument('<pipeline>', 'data, train, infer or monitor')
    .option(
      '--dataset <name>',
      'the dataset: to publish (data), to train on or compare with (train, monitor)',
    )
    .option(
      '--dataset-version <version>',
      'a published version of --dataset (train, monitor); default: the newest',
    )
    .option(
      '--landing-key <prefix>',
      'the batch: a prefix in the landing bucket, or s3://bucket/prefix/ (data, infer, monitor)',
    )
    .option('--bucket <name>', 'the bucket of a bare --landing-key prefix (default: the landing bucket)')
    .option('--bundled <name>', 'data: a dataset that ships with the project (iris, seattle-weather)')
    .option('--file <path>', 'data: a CSV, JSON, JSONL or Parquet file to land first (as `mlops land` does)')
    .option('--contract <file>', 'data with --file: its data contract (default: input_schema.json beside it)')
    .option('--candidates <file>', 'train: JSON array of candidate specs [{name, family, params}]')
    .option('--reason <reason>', 'train: schedule, drift or manual (default manual)')
    .option(
      '--predictions <s3-uri>',
      "monitor: an inference run's output, s3://bucket/predictions/<run>/ (default: the newest)",
    )
    .option('--input <json>', "the pipeline's whole input as JSON; the options above add to it")
    .option('--input-file <file>', "the pipeline's whole input from a JSON file")
    .option(
      '--model <name>',
      'local: the registered model (MODEL_NAME; default <dataset>-classifier or <dataset>-regressor, as mlops train)',
    )
    .option(
      '--promote <mode>',
      `local train: ${PROMOTION_MODES.join(', ').replace(/, (?=\w+$)/, ' or ')} (default none: no alias moves)`,
    )
    .option(
      '--drift-threshold <share>',
      `local monitor: the drift threshold, above ${DRIFT_THRESHOLD.exclusiveMin} and at most ${DRIFT_THRESHOLD.shareMax} (default ${DRIFT_THRESHOLD.default})`,
    )
    .option('--alert-from <address>', 'local monitor: sender of the drift e-mail (ALERT_SENDER)')
    .option('--alert-to <addresses>', 'local monitor: comma-separated recipients (ALERT_RECIPIENTS)')
    .option('--aws', 'run the deployed state machine through the Step Functions API')
    .option(
      '--stage <stage>',
      'with --aws: the stage in the state machine name mlops-<stage>-<pipeline> (default dev)',
    )
    .option(
      '--state-machine-arn <arn>',
      'with --aws: the state machine to start, instead of finding it by name',
    )
    .option('--execution-name <name>', 'with --aws: the execution name (default cli-<time>-<random>)')
    .option('--no-wait', 'with --aws: print the execution ARN and return without following it')
    .option('--json', 'print the result as one JSON line')
    .addHelpText('after', EXAMPLES)
    .action(async (name: string, given: RawRunOptions) => {
      pipelineCommandOf(name);
      const defaults = given.aws ? {} : await localDefaultBuckets();
      const raw = given.file === undefined ? given : await landFirst(name, given, defaults);
      const renamed = renamedPromotionModeNote(raw.promote ?? '');
      if (renamed) process.stderr.write(`note: ${renamed}\n`);
      const request = await parseRunOptions(name, raw, defaults);
      const out = createOutput(request.json);
      const report =
        request.target.mode === 'local'
          ? await runLocalCommand({ ...request, target: request.target }, out)
          : await runAwsCommand({ ...request, target: request.target }, out);
      finish(request, report, out);
    });
}

/**
 * `run data --file`: the other options are checked first (nothing lands on a bad one), then the
 * file lands as `mlops land` lands it, and the run reads that batch.
 */
async function landFirst(name: string, raw: RawRunOptions, defaults: DefaultBuckets): Promise<RawRunOptions> {
  await parseRunOptions(name, raw, defaults);
  const { file, contract, ...rest } = raw;
  const { landCommand } = await import('./land-command');
  const landed = await landCommand(
    file as string,
    {
      ...(raw.dataset !== undefined && { dataset: raw.dataset }),
      ...(contract !== undefined && { contract }),
      ...(raw.aws && { aws: true }),
      ...(raw.stage !== undefined && { stage: raw.stage }),
    },
    createOutput(Boolean(raw.json)),
  );
  createOutput(false).progress(`landed s3://${landed.bucket}/${landed.key}`);
  return { ...rest, landingKey: raw.aws ? `s3://${landed.bucket}/${landed.prefix}` : landed.prefix };
}

/** Prints the outcome; anything but success (or an execution left running on purpose) is an error. */
function finish(request: RunRequest, report: RunReport, out: Output): void {
  out.result(report);
  const label = `${request.pipeline} pipeline${report.mode === 'aws' ? ` (${report.executionArn})` : ''}`;
  if (report.status === 'SUCCEEDED') {
    out.progress(`${label} succeeded in ${seconds(report.durationMs)}`);
    out.info(renderRunOutput(request.pipeline, report.output));
    return;
  }
  if (report.status === 'RUNNING') {
    out.info(report.executionArn ?? '');
    return;
  }
  const error = report.error ?? { name: report.status, cause: '' };
  const cause = error.cause ? `: ${oneLine(error.cause)}` : '';
  throw new CliError(`${label} ${report.status.toLowerCase().replace('_', ' ')}: ${error.name}${cause}`, 1);
}

// --- local ---------------------------------------------------------------------------------------

async function runLocalCommand(
  request: RunRequest & { target: LocalTarget },
  out: Output,
): Promise<RunReport> {
  await ensureLocalServices(out.progress);
  out.progress(
    `running the ${request.pipeline} pipeline locally (stepfunctions/${request.pipeline}-pipeline.asl.json)`,
  );
  const started = performance.now();
  let outcome: RunOutcome;
  try {
    outcome = await runLocally(request, localProgress(out.progress));
  } catch (error) {
    // Not the execution failing: the run could not start (a service down, a step's setting wrong).
    const failure = error instanceof Error ? error : new Error(String(error));
    if (failure.name === 'StepConfigError') throw new CliError(failure.message, 2);
    out.result({
      pipeline: request.pipeline,
      mode: 'local',
      status: 'FAILED',
      error: { name: failure.name, cause: failure.message },
      durationMs: Math.round(performance.now() - started),
    } satisfies RunReport);
    const hint = /ECONNREFUSED|fetch failed/.test(failure.message)
      ? ` (are MLflow at ${process.env.MLFLOW_TRACKING_URI} and the AWS endpoint at ${process.env.AWS_ENDPOINT_URL} up? \`mlops local up\` starts them)`
      : '';
    throw new CliError(
      `could not run the ${request.pipeline} pipeline locally: ${failure.message}${hint}`,
      1,
    );
  }
  return {
    pipeline: request.pipeline,
    mode: 'local',
    status: outcome.status,
    ...(outcome.status === 'SUCCEEDED' ? { output: outcome.output } : { error: outcome.error }),
    durationMs: Math.round(performance.now() - started),
  };
}

// --- AWS -----------------------------------------------------------------------------------------

async function runAwsCommand(request: RunRequest & { target: AwsTarget }, out: Output): Promise<RunReport> {
  const { target } = request;
  const client = createStepFunctionsClient();
  const api = sdkStepFunctionsApi(client);
  const wallClock = performance.now();
  try {
    const region = await client.config.region().catch(() => undefined);
    const endpoint = stepFunctionsEndpoint();
    const where = `${region ?? 'the default region'}${endpoint ? ` via ${endpoint}` : ''}`;
    let stateMachineArn = target.stateMachineArn;
    if (!stateMachineArn) {
      const name = deployedStateMachineName(target.stage, request.pipeline);
      stateMachineArn = await findStateMachineArn(api, name);
      if (!stateMachineArn) {
        throw new CliError(
          `no state machine named ${name} in ${where}: deploy the stack (-c stage=${target.stage}) or pass --state-machine-arn`,
          1,
        );
      }
    }
    const { executionArn } = await api.startExecution({
      stateMachineArn,
      name: target.executionName ?? executionNameFor(),
      input: JSON.stringify(request.input),
    });
    out.progress(`started ${executionArn} in ${where}`);
    const base = { pipeline: request.pipeline, mode: 'aws' as const, stateMachineArn, executionArn };
    if (!target.wait) {
      return { ...base, status: 'RUNNING', durationMs: Math.round(performance.now() - wallClock) };
    }

    const interrupted = new AbortController();
    const onSigint = () => interrupted.abort();
    process.once('SIGINT', onSigint);
    try {
      const done = await followExecution(api, executionArn, {
        onEvent: historyProgress(out.progress),
        signal: interrupted.signal,
      });
      const durationMs =
        done.startDate && done.stopDate
          ? done.stopDate.getTime() - done.startDate.getTime()
          : Math.round(performance.now() - wallClock);
      return done.status === 'SUCCEEDED'
        ? { ...base, status: done.status, output: parsedOutput(done.output), durationMs }
        : {
            ...base,
            status: done.status,
            error: { name: done.error ?? done.status, cause: readableCause(done.cause ?? '') },
            durationMs,
          };
    } catch (error) {
      if (!interrupted.signal.aborted) throw error;
      out.result({ ...base, status: 'RUNNING', durationMs: Math.round(performance.now() - wallClock) });
      throw new CliError(
        `interrupted: stopped following, the execution keeps running: ${executionArn} (stop it with: aws stepfunctions stop-execution --execution-arn ${executionArn})`,
        130,
      );
    } finally {
      process.off('SIGINT', onSigint);
    }
  } catch (error) {
    throw asAwsCliError(error, 'Step Functions');
  } finally {
    client.destroy();
  }
}

function parsedOutput(output: string | undefined): unknown {
  if (output === undefined) return null;
  try {
    return JSON.parse(output);
  } catch {
    return output;
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

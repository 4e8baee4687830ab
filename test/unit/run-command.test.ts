/**
 * `mlops run`: argument checks and the execution input they build, the progress lines, the
 * summary, and following an AWS execution against a stand-in for the project's StepFunctionsApi
 * seam. The real local runs and the real Step Functions API are in test/integration/cli-run.test.ts,
 * the command's refusals as a process in test/integration/cli-arguments.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../bin/cli/output';
import { asAwsCliError, findStateMachineArn } from '../../bin/cli/run-aws';
import {
  parseRunOptions,
  pipelineCommandOf,
  type RawRunOptions,
  type RunRequest,
  s3Location,
} from '../../bin/cli/run-input';
import { executionOutcome } from '../../bin/cli/run-local';
import { localProgress } from '../../bin/cli/run-progress';
import { renderRunOutput } from '../../bin/cli/run-summary';
import {
  type ExecutionDescription,
  executionNameFor,
  followExecution,
  newHistoryEvents,
  type StepFunctionsApi,
} from '../../localstack/deploy/execution-follower';
import { historyProgress, readableCause } from '../../localstack/deploy/execution-progress';
import { runStateMachine } from '../../localstack/runner/state-machine-runner';

const DEFAULTS = { landing: 'mlops-local-landing', predictions: 'mlops-local-predictions' };
const ALERTS = { ALERT_SENDER: 'mlops@example.org', ALERT_RECIPIENTS: 'a@example.org, b@example.org' };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-command-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function parse(name: string, raw: RawRunOptions, env: Record<string, string> = {}): Promise<RunRequest> {
  return parseRunOptions(name, raw, raw.aws ? {} : DEFAULTS, env);
}

async function rejection(work: Promise<unknown>): Promise<CliError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe('pipeline names', () => {
  it('maps the four short names to the pipelines they run', () => {
    expect(['data', 'train', 'infer', 'monitor'].map((name) => pipelineCommandOf(name))).toEqual([
      'data',
      'train',
      'infer',
      'monitor',
    ]);
  });

  it('refuses another name with exit 2, listing the valid ones', () => {
    expect(() => pipelineCommandOf('training')).toThrow(
      new CliError(
        'unknown pipeline "training": use one of data, train, infer, monitor (data → data pipeline, train → training, infer → inference, monitor → monitoring)',
        2,
      ),
    );
    try {
      pipelineCommandOf('x');
    } catch (error) {
      expect((error as CliError).exitCode).toBe(2);
    }
  });
});

describe('the data pipeline input', () => {
  it('takes a bundled dataset, named after it unless --dataset says otherwise', async () => {
    expect((await parse('data', { bundled: 'iris' })).input).toEqual({
      dataset: 'iris',
      source: { type: 'bundled', name: 'iris' },
    });
    expect((await parse('data', { bundled: 'iris', dataset: 'iris-copy' })).input).toEqual({
      dataset: 'iris-copy',
      source: { type: 'bundled', name: 'iris' },
    });
  });

  it('takes a landing prefix, made a folder, in the landing bucket unless --bucket or an s3:// URI names one', async () => {
    const bare = await parse('data', { dataset: 'sales', landingKey: 'landing/sales/2025-06-01' });
    expect(bare).toMatchObject({
      command: 'data',
      pipeline: 'data',
      input: { dataset: 'sales', source: { type: 's3', prefix: 'landing/sales/2025-06-01/' } },
      target: { mode: 'local', env: {} },
    });
    const inBucket = await parse('data', { dataset: 'sales', landingKey: 'in/', bucket: 'other-bucket' });
    expect(inBucket.input.source).toEqual({ type: 's3', bucket: 'other-bucket', prefix: 'in/' });
    const uri = await parse('data', { dataset: 'sales', landingKey: 's3://drop-zone/2025/06/', aws: true });
    expect(uri.input.source).toEqual({ type: 's3', bucket: 'drop-zone', prefix: '2025/06/' });
    // The deployed data pipeline knows its landing bucket: a bare prefix is enough with --aws too.
    const deployed = await parse('data', { dataset: 'sales', landingKey: 'landing/sales/', aws: true });
    expect(deployed.input.source).toEqual({ type: 's3', prefix: 'landing/sales/' });
  });

  it.each([
    [
      { landingKey: 'landing/x/' },
      '`run data` needs --dataset <name> (the dataset to publish), or --bundled <name>',
    ],
    [
      { dataset: 'sales' },
      '`run data` needs a source: --file <path> (lands it first), --landing-key <prefix> (a batch in the landing bucket) or --bundled <name> (iris, seattle-weather)',
    ],
    [
      { dataset: 'sales', file: 'sales.csv', landingKey: 'x/' },
      '--landing-key and --file are two sources: give one of them',
    ],
    [
      { dataset: 'sales', landingKey: 'x/', contract: 'c.json' },
      '--contract needs --file: it is the contract of the file to land',
    ],
    [
      { file: 'sales.csv' },
      '`run data` needs --dataset <name> (the dataset to publish), or --bundled <name>',
    ],
    [
      { dataset: 'sales', bundled: 'iris', landingKey: 'x/' },
      '--landing-key and --bundled are two sources: give one of them',
    ],
    [
      { dataset: 'sales', bucket: 'b-1' },
      '--bucket needs --landing-key: it names the bucket the landing prefix is in',
    ],
    [
      { dataset: 'sales/2025', bundled: 'iris' },
      `--dataset must be a name of letters, digits, '.', '_' or '-', got "sales/2025"`,
    ],
    [
      { dataset: 'sales', landingKey: 'https://x/y' },
      '--landing-key must be s3://bucket/prefix/ or a prefix, got "https://x/y"',
    ],
    [
      { dataset: 'sales', landingKey: 's3://Bad_Bucket/x/' },
      '--landing-key: "Bad_Bucket" is not an S3 bucket name',
    ],
    [{ dataset: 'sales', landingKey: '  ' }, '--landing-key cannot be empty'],
  ])('names the bad option of %j', async (raw, message) => {
    const error = await rejection(parse('data', raw));
    expect(error.message).toBe(message);
    expect(error.exitCode).toBe(2);
  });
});

describe('the training pipeline input', () => {
  it('builds {dataset, candidates, reason} with reason manual unless told', async () => {
    const file = join(dir, 'candidates.json');
    const candidates = [
      { name: 'logreg', family: 'logistic_regression' },
      { name: 'forest', family: 'random_forest', params: { n_estimators: 10 } },
    ];
    await writeFile(file, JSON.stringify(candidates));
    const request = await parse('train', {
      dataset: 'iris',
      datasetVersion: 'sha256-6d87640411fe7841',
      candidates: file,
      model: 'iris-classifier',
      promote: 'none',
    });
    expect(request).toMatchObject({
      pipeline: 'training',
      input: { dataset: { name: 'iris', version: 'sha256-6d87640411fe7841' }, candidates, reason: 'manual' },
      target: { mode: 'local', env: { MODEL_NAME: 'iris-classifier' }, promotion: 'none' },
    });
    expect((await parse('train', { reason: 'schedule' })).input).toEqual({ reason: 'schedule' });
  });

  it('moves no alias unless --promote says so, as mlops train', async () => {
    expect((await parse('train', {})).target).toEqual({ mode: 'local', env: {}, promotion: 'none' });
    expect((await parse('train', { promote: 'challenger' })).target).toMatchObject({
      promotion: 'challenger',
    });
    expect((await parse('train', { promote: 'production-if-better' })).target).toMatchObject({
      promotion: 'production',
    });
    expect((await parse('data', { bundled: 'iris' })).target).toEqual({ mode: 'local', env: {} });
  });

  it.each([
    [{ reason: 'cron' }, '--reason must be one of schedule, drift, manual, got "cron"'],
    [{ promote: 'always' }, '--promote must be one of none, challenger, production, got "always"'],
    [{ datasetVersion: 'v1' }, '--dataset-version needs --dataset: a version belongs to a dataset'],
    [
      { candidates: '/nonexistent/candidates.json' },
      '--candidates: cannot read /nonexistent/candidates.json: no such file',
    ],
  ])('names the bad option of %j', async (raw, message) => {
    expect((await rejection(parse('train', raw))).message).toBe(message);
  });

  it('checks the candidates file as the pipeline does: a non-empty array of specs, each family and parameter', async () => {
    const notJson = join(dir, 'not.json');
    await writeFile(notJson, '[{');
    expect((await rejection(parse('train', { candidates: notJson }))).message).toMatch(
      new RegExp(`^--candidates: ${notJson} is not JSON: `),
    );
    const empty = join(dir, 'empty.json');
    await writeFile(empty, '[]');
    expect((await rejection(parse('train', { candidates: empty }))).message).toBe(
      `--candidates: ${empty}: must be a non-empty array of {name, family, params} (the format: schemas/candidates.schema.json)`,
    );
    const noFamily = join(dir, 'no-family.json');
    await writeFile(noFamily, '[{"name": "a", "family": "ridge"}, {"name": "b"}]');
    expect((await rejection(parse('train', { candidates: noFamily }))).message).toBe(
      `--candidates: item 1 of ${noFamily}: family: is required: one of logistic_regression, ridge, random_forest, gradient_boosting (the format: schemas/candidates.schema.json)`,
    );
  });
});

describe('the inference and monitoring inputs', () => {
  it('scores a landing folder of the local landing bucket; --dataset picks the folder locally', async () => {
    const request = await parse('infer', { landingKey: 'landing/iris/2025-06-03', dataset: 'iris' });
    expect(request.input).toEqual({
      input: { bucket: 'mlops-local-landing', prefix: 'landing/iris/2025-06-03/' },
    });
    expect(request.target).toEqual({ mode: 'local', env: { DATASET_NAME: 'iris' } });
    expect((await parse('infer', {})).input).toEqual({});
  });

  it('needs the bucket spelled out with --aws, where the deployed bucket names are not known', async () => {
    expect((await rejection(parse('infer', { aws: true, landingKey: 'landing/iris/' }))).message).toBe(
      "--landing-key needs a bucket with --aws: give s3://<bucket>/landing/iris/ or --bucket (the stack's bucket names are in its outputs)",
    );
    const request = await parse('infer', {
      aws: true,
      landingKey: 'landing/iris/',
      bucket: 'lake-landing-1',
    });
    expect(request.input).toEqual({ input: { bucket: 'lake-landing-1', prefix: 'landing/iris/' } });
    expect((await rejection(parse('infer', { aws: true, dataset: 'iris' }))).message).toMatch(
      /^--dataset of `run infer` applies to local runs only/,
    );
  });

  it('builds {current, dataset, predictions} for monitoring, with the alert settings for the local run', async () => {
    const request = await parse(
      'monitor',
      {
        landingKey: 's3://lake/landing/iris/2025-06-04/',
        dataset: 'iris',
        datasetVersion: 'sha256-1',
        predictions: 'predictions/i-1/',
        driftThreshold: '0.3',
        alertTo: 'ops@example.org',
      },
      ALERTS,
    );
    expect(request.input).toEqual({
      dataset: { name: 'iris', version: 'sha256-1' },
      current: { bucket: 'lake', prefix: 'landing/iris/2025-06-04/' },
      predictions: { bucket: 'mlops-local-predictions', prefix: 'predictions/i-1/' },
    });
    expect(request.target).toEqual({
      mode: 'local',
      env: { ALERT_SENDER: 'mlops@example.org', ALERT_RECIPIENTS: 'ops@example.org' },
      driftThreshold: 0.3,
    });
  });

  it.each([
    [{}, {}, "`run monitor` needs --alert-from <address> (or ALERT_SENDER): the drift e-mail's sender"],
    [{ alertFrom: 'mlops' }, {}, '--alert-from must be an e-mail address, got "mlops"'],
    [
      { alertFrom: 'm@example.org' },
      {},
      '`run monitor` needs --alert-to <addresses> (or ALERT_RECIPIENTS): who gets the drift e-mail',
    ],
    [
      {},
      { ...ALERTS, ALERT_RECIPIENTS: 'a@example.org,b' },
      'ALERT_RECIPIENTS must be comma-separated e-mail addresses, "b" is not one',
    ],
    [{ driftThreshold: '0' }, ALERTS, '--drift-threshold must be a number above 0 and at most 1, got "0"'],
    [
      { driftThreshold: 'high' },
      ALERTS,
      '--drift-threshold must be a number above 0 and at most 1, got "high"',
    ],
  ])('names the bad monitoring option of %j', async (raw, env, message) => {
    expect((await rejection(parse('monitor', raw, env))).message).toBe(message);
  });

  it('needs no alert settings with --aws: the deployed function has them', async () => {
    expect((await parse('monitor', { aws: true })).target).toEqual({ mode: 'aws', stage: 'dev', wait: true });
  });
});

describe('--input and --input-file', () => {
  it('start from the whole input object, and the flags win where both set a field', async () => {
    const request = await parse('train', {
      input: '{"dataset": {"name": "iris"}, "reason": "drift", "drift": {"bucket": "m", "key": "r.json"}}',
      dataset: 'weather',
    });
    expect(request.input).toEqual({
      dataset: { name: 'weather' },
      reason: 'drift',
      drift: { bucket: 'm', key: 'r.json' },
    });
    const file = join(dir, 'input.json');
    await writeFile(file, JSON.stringify({ dataset: 'iris', source: { type: 'bundled', name: 'iris' } }));
    expect((await parse('data', { inputFile: file })).input).toEqual({
      dataset: 'iris',
      source: { type: 'bundled', name: 'iris' },
    });
  });

  it.each([
    [{ input: '{"dataset": ' }, /^--input: the value is not JSON: /],
    [{ input: '["iris"]' }, /^--input must be a JSON object \(the pipeline's whole input\), got \["iris"\]$/],
    [{ input: '{}', inputFile: 'x.json' }, /^--input and --input-file cannot be used together/],
    [
      { inputFile: '/nonexistent/input.json' },
      /^--input-file: cannot read \/nonexistent\/input.json: no such file$/,
    ],
  ])('refuses %j, naming the option', async (raw, message) => {
    expect((await rejection(parse('infer', raw))).message).toMatch(message);
  });
});

describe('where a run goes', () => {
  it.each([
    [
      'train',
      { landingKey: 'x/' },
      '--landing-key does not apply to `run train` (only to data, infer, monitor)',
    ],
    [
      'data',
      { bundled: 'iris', candidates: 'c.json' },
      '--candidates does not apply to `run data` (only to train)',
    ],
    [
      'train',
      { aws: true, model: 'm' },
      "--model applies to local runs only: the deployed pipeline takes it from the stack's configuration (cdk -c)",
    ],
    ['train', { aws: true, promote: 'none' }, /^--promote applies to local runs only/],
    ['train', { stage: 'prod' }, '--stage applies only with --aws'],
    ['train', { stateMachineArn: 'arn' }, '--state-machine-arn applies only with --aws'],
    ['train', { wait: false }, '--no-wait applies only with --aws'],
    ['train', { aws: true, stage: 'my stage' }, /^--stage must be a stage name of letters, digits, - or _/],
    [
      'train',
      { aws: true, stateMachineArn: 'mlops-dev-training' },
      /^--state-machine-arn must be a state machine ARN/,
    ],
    [
      'train',
      { aws: true, executionName: 'has space' },
      '--execution-name must be 1-80 letters, digits, - or _, got "has space"',
    ],
  ])('`run %s` refuses %j', async (name, raw, message) => {
    const error = await rejection(parse(name, raw as RawRunOptions));
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
    expect(error.exitCode).toBe(2);
  });

  it('goes to the deployed state machine with --aws: stage, ARN, execution name and --no-wait', async () => {
    expect((await parse('data', { aws: true, bundled: 'iris' })).target).toEqual({
      mode: 'aws',
      stage: 'dev',
      wait: true,
    });
    const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:mlops-prod-training';
    expect(
      (
        await parse('train', {
          aws: true,
          stage: 'prod',
          stateMachineArn: arn,
          executionName: 'nightly-1',
          wait: false,
        })
      ).target,
    ).toEqual({ mode: 'aws', stage: 'prod', stateMachineArn: arn, executionName: 'nightly-1', wait: false });
  });

  it('reads s3:// URIs and bare prefixes alike', () => {
    expect(s3Location('--landing-key', 's3://b-1', undefined, true)).toEqual({ bucket: 'b-1', prefix: '' });
    expect(s3Location('--landing-key', '/landing/x', 'b-2', false)).toEqual({
      bucket: 'b-2',
      prefix: 'landing/x/',
    });
  });
});

describe('progress lines', () => {
  it('shows a local run state by state, a caught failure once, with its error', () => {
    const lines: string[] = [];
    let clock = 0;
    const print = localProgress(
      (line) => lines.push(line),
      () => clock,
    );
    print({ type: 'entered', state: 'IngestData' });
    clock = 1500;
    print({ type: 'failed', state: 'IngestData', error: 'StepInputError: source.prefix: no objects' });
    print({ type: 'caught', state: 'IngestData' });
    print({ type: 'exited', state: 'IngestData' });
    print({ type: 'entered', state: 'TrainCandidate', iteration: 1 });
    clock = 2000;
    print({ type: 'exited', state: 'TrainCandidate', iteration: 1 });
    expect(lines).toEqual([
      '  → IngestData',
      '  ✗ IngestData 1.5s: StepInputError: source.prefix: no objects',
      '  ↪ IngestData: caught, going on with the Catch',
      '  → TrainCandidate [1]',
      '  ✓ TrainCandidate [1] 0.5s',
    ]);
  });

  it('shows history events with durations, and a failed task under its state with the message, not the trace', () => {
    const lines: string[] = [];
    const print = historyProgress((line) => lines.push(line));
    const at = (s: number) => new Date(Date.UTC(2025, 5, 1, 0, 0, s));
    const lambdaError = JSON.stringify({
      errorType: 'StepInputError',
      errorMessage: 'source.prefix: no objects under s3://lake/landing/x/',
      trace: ['StepInputError: source.prefix', '    at s3Rows (/var/task/index.js:1:1)'],
    });
    const events: HistoryEvent[] = [
      { id: 1, type: 'ExecutionStarted', timestamp: at(0) },
      {
        id: 2,
        previousEventId: 1,
        type: 'TaskStateEntered',
        timestamp: at(0),
        stateEnteredEventDetails: { name: 'IngestData' },
      },
      { id: 3, previousEventId: 2, type: 'LambdaFunctionScheduled', timestamp: at(1) },
      { id: 4, previousEventId: 3, type: 'LambdaFunctionStarted', timestamp: at(1) },
      {
        id: 5,
        previousEventId: 4,
        type: 'LambdaFunctionFailed',
        timestamp: at(2),
        lambdaFunctionFailedEventDetails: { error: 'StepInputError', cause: lambdaError },
      },
      {
        id: 6,
        previousEventId: 5,
        type: 'TaskStateExited',
        timestamp: at(3),
        stateExitedEventDetails: { name: 'IngestData' },
      },
      {
        id: 7,
        previousEventId: 6,
        type: 'FailStateEntered',
        timestamp: at(3),
        stateEnteredEventDetails: { name: 'PipelineFailed' },
      },
      {
        id: 8,
        previousEventId: 7,
        type: 'ExecutionFailed',
        timestamp: at(3),
        executionFailedEventDetails: { error: 'StepInputError' },
      },
    ];
    for (const event of events) print(event);
    expect(lines).toEqual([
      '  → IngestData',
      '  ✗ IngestData: StepInputError: source.prefix: no objects under s3://lake/landing/x/',
      '  ✓ IngestData 3.0s',
      '  → PipelineFailed',
    ]);
  });

  it('keeps a cause that is not a Lambda error as it is', () => {
    expect(readableCause('Every ingested row broke the data contract')).toBe(
      'Every ingested row broke the data contract',
    );
    expect(readableCause('{"not": "an error"}')).toBe('{"not": "an error"}');
  });
});

describe('a local execution that ends in a Fail state', () => {
  it("is an outcome with the Fail state's error and cause, not an exception", async () => {
    const file = join(dir, 'fails.asl.json');
    await writeFile(
      file,
      JSON.stringify({
        StartAt: 'Check',
        States: {
          Check: { Type: 'Pass', Next: 'NoValidRows' },
          NoValidRows: {
            Type: 'Fail',
            Error: 'NoValidRows',
            Cause: 'Every ingested row broke the data contract',
          },
        },
      }),
    );
    const error = await runStateMachine(file, { substitutions: {}, handlers: {}, input: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(executionOutcome(error)).toEqual({
      status: 'FAILED',
      error: { name: 'NoValidRows', cause: 'Every ingested row broke the data contract' },
    });
    expect(executionOutcome(new TypeError('fetch failed'))).toBeUndefined();
  });
});

/** The seam `mlops run --aws` talks to, as a scripted execution: statuses in turn, history growing. */
class ScriptedStepFunctions implements StepFunctionsApi {
  readonly calls: string[] = [];
  private poll = 0;
  constructor(
    private readonly script: {
      status: string;
      events: number;
      description?: Partial<ExecutionDescription>;
    }[],
    private readonly history: HistoryEvent[],
    private readonly options: { pageSize?: number; honoursReverseOrder?: boolean } = {},
  ) {}

  async listStateMachines(nextToken: string | undefined) {
    this.calls.push(`list ${nextToken ?? ''}`);
    const pages = [
      { stateMachines: [{ name: 'other', stateMachineArn: 'arn:other' }], nextToken: 'p2' },
      { stateMachines: [{ name: 'mlops-dev-data', stateMachineArn: 'arn:data' }] },
    ];
    return nextToken === 'p2' ? (pages[1] as (typeof pages)[1]) : (pages[0] as (typeof pages)[0]);
  }

  async startExecution() {
    return { executionArn: 'arn:execution' };
  }

  async describeExecution() {
    const step = this.script[Math.min(this.poll, this.script.length - 1)];
    this.poll += 1;
    this.calls.push(`describe ${step?.status}`);
    return { status: step?.status as ExecutionDescription['status'], ...step?.description };
  }

  async getExecutionHistory(request: { nextToken?: string; reverseOrder: boolean }) {
    const step = this.script[Math.min(this.poll - 1, this.script.length - 1)];
    const visible = this.history.slice(0, step?.events ?? 0);
    const ordered =
      request.reverseOrder && this.options.honoursReverseOrder !== false ? [...visible].reverse() : visible;
    const size = this.options.pageSize ?? 1000;
    const start = Number(request.nextToken ?? 0);
    const page = ordered.slice(start, start + size);
    this.calls.push(`history ${start}`);
    return { events: page, ...(start + size < ordered.length && { nextToken: String(start + size) }) };
  }
}

function historyOf(count: number): HistoryEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    timestamp: new Date(Date.UTC(2025, 5, 1, 0, 0, i)),
    type: i % 2 === 0 ? 'PassStateEntered' : 'PassStateExited',
    ...(i % 2 === 0
      ? { stateEnteredEventDetails: { name: `S${Math.floor(i / 2)}` } }
      : { stateExitedEventDetails: { name: `S${Math.floor(i / 2)}` } }),
  }));
}

describe('following an AWS execution', () => {
  it('hands over each history event once, backs off while nothing happens and returns the output', async () => {
    const api = new ScriptedStepFunctions(
      [
        { status: 'RUNNING', events: 2 },
        { status: 'RUNNING', events: 2 },
        { status: 'RUNNING', events: 2 },
        { status: 'RUNNING', events: 5 },
        { status: 'SUCCEEDED', events: 6, description: { output: '{"ok":true}' } },
      ],
      historyOf(6),
    );
    const seen: number[] = [];
    const waits: number[] = [];
    const done = await followExecution(api, 'arn:execution', {
      onEvent: (event) => seen.push(event.id ?? 0),
      wait: async (ms) => {
        waits.push(ms);
      },
    });
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: '{"ok":true}' });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(waits).toEqual([1000, 2000, 4000, 1000]);
  });

  it('caps the backoff at the longest pause', async () => {
    const api = new ScriptedStepFunctions(
      [
        ...Array.from({ length: 6 }, () => ({ status: 'RUNNING', events: 1 })),
        { status: 'SUCCEEDED', events: 1 },
      ],
      historyOf(1),
    );
    const waits: number[] = [];
    await followExecution(api, 'arn:execution', {
      minPollMs: 1000,
      maxPollMs: 5000,
      wait: async (ms) => {
        waits.push(ms);
      },
    });
    expect(waits).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
  });

  it('reads newest-first pages only down to the events already seen', async () => {
    const api = new ScriptedStepFunctions([{ status: 'RUNNING', events: 25 }], historyOf(25), {
      pageSize: 10,
    });
    await api.describeExecution();
    api.calls.length = 0;
    const fresh = await newHistoryEvents(api, 'arn:execution', 12);
    expect(fresh.map((event) => event.id)).toEqual([13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    expect(api.calls).toEqual(['history 0', 'history 10']);
  });

  it('reads every page of a service that ignores reverseOrder (moto)', async () => {
    const api = new ScriptedStepFunctions([{ status: 'RUNNING', events: 25 }], historyOf(25), {
      pageSize: 10,
      honoursReverseOrder: false,
    });
    await api.describeExecution();
    const fresh = await newHistoryEvents(api, 'arn:execution', 12);
    expect(fresh.map((event) => event.id)).toEqual([13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
  });

  it("reports a failure's error and cause, from the history when DescribeExecution has none", async () => {
    const history: HistoryEvent[] = [
      ...historyOf(2),
      {
        id: 3,
        timestamp: new Date(),
        type: 'ExecutionFailed',
        executionFailedEventDetails: { error: 'NoValidRows', cause: 'every row broke' },
      },
    ];
    const fromHistory = new ScriptedStepFunctions([{ status: 'FAILED', events: 3 }], history);
    expect(await followExecution(fromHistory, 'arn:execution')).toMatchObject({
      status: 'FAILED',
      error: 'NoValidRows',
      cause: 'every row broke',
    });
    const described = new ScriptedStepFunctions(
      [{ status: 'TIMED_OUT', events: 2, description: { error: 'States.Timeout', cause: 'over 3600 s' } }],
      history,
    );
    expect(await followExecution(described, 'arn:execution')).toMatchObject({
      status: 'TIMED_OUT',
      error: 'States.Timeout',
      cause: 'over 3600 s',
    });
  });

  it('stops following, without another call, once the signal is aborted', async () => {
    const api = new ScriptedStepFunctions([{ status: 'RUNNING', events: 1 }], historyOf(1));
    const interrupted = new AbortController();
    const following = followExecution(api, 'arn:execution', {
      signal: interrupted.signal,
      wait: async () => {
        interrupted.abort();
      },
    });
    await expect(following).rejects.toThrow();
    expect(api.calls.filter((call) => call.startsWith('describe'))).toHaveLength(1);
  });

  it('finds a state machine by name across ListStateMachines pages', async () => {
    const api = new ScriptedStepFunctions([], []);
    expect(await findStateMachineArn(api, 'mlops-dev-data')).toBe('arn:data');
    expect(await findStateMachineArn(api, 'mlops-dev-nothing')).toBeUndefined();
  });

  it('names executions cli-<time>-<random>', () => {
    expect(executionNameFor(new Date('2025-06-01T10:15:00.123Z'))).toMatch(
      /^cli-20250601T101500-[0-9a-f]{8}$/,
    );
  });

  it('turns SDK errors into one line: missing region or credentials and bad names exit 2, the rest 1', () => {
    const named = (name: string, message: string) => Object.assign(new Error(message), { name });
    expect(asAwsCliError(new Error('Region is missing'), 'Step Functions')).toEqual(
      new CliError('Step Functions: no AWS region: set AWS_REGION (or a profile with a region)', 2),
    );
    expect(
      (
        asAwsCliError(
          named('CredentialsProviderError', 'Could not load credentials from any providers'),
          'x',
        ) as CliError
      ).exitCode,
    ).toBe(2);
    const exists = asAwsCliError(
      named('ExecutionAlreadyExists', 'Execution Already Exists: nightly-1'),
      'Step Functions',
    );
    expect(exists).toEqual(
      new CliError('Step Functions: ExecutionAlreadyExists: Execution Already Exists: nightly-1', 2),
    );
    expect((asAwsCliError(named('AccessDeniedException', 'not allowed'), 'x') as CliError).exitCode).toBe(1);
  });
});

describe('the summary of an output', () => {
  const pointer = (key: string) => ({ bucket: 'curated', key });
  const dataset = {
    name: 'iris',
    version: 'sha256-6d87640411fe7841',
    manifest: pointer('datasets/iris/sha256-6d87640411fe7841/manifest.json'),
    train: pointer('datasets/iris/sha256-6d87640411fe7841/train.parquet'),
    test: pointer('datasets/iris/sha256-6d87640411fe7841/test.parquet'),
    reference: pointer('datasets/iris/sha256-6d87640411fe7841/reference.parquet'),
    rowCount: 150,
  };

  it('says what the data pipeline published and where', () => {
    const text = renderRunOutput('data', { dataset, created: true });
    expect(text.split('\n')[0]).toBe(
      'dataset iris version sha256-6d87640411fe7841 published, 150 valid rows',
    );
    expect(text).toContain('manifest   s3://curated/datasets/iris/sha256-6d87640411fe7841/manifest.json');
  });

  it('ranks the training candidates, the registered one starred', () => {
    const text = renderRunOutput('training', {
      runId: 't-1',
      dataset,
      best: {
        status: 'succeeded',
        candidateId: 'forest',
        algorithm: 'random_forest',
        mlflowRunId: 'r1',
        modelUri: 'm',
        metrics: {},
      },
      ranking: [
        { candidateId: 'forest', value: 0.97 },
        { candidateId: 'logreg', value: 0.9 },
      ],
      registered: { name: 'iris-classifier', version: '3', mlflowRunId: 'r1', source: 's' },
    });
    expect(text).toContain(
      'registered iris-classifier version 3 from MLflow run r1 (candidate forest, random_forest)',
    );
    expect(text).toMatch(/\* forest +0\.9700/);
    expect(text).toMatch(/ {2}logreg +0\.9000/);
  });

  it('gives the drift verdict and the alert decision', () => {
    const text = renderRunOutput('monitoring', {
      drift: {
        modelName: 'iris-classifier',
        modelVersion: '3',
        metric: 'share_drifted',
        value: 0.5,
        threshold: 0.2,
        drifted: true,
        driftedColumns: ['petal_length', 'prediction'],
        report: { bucket: 'mon', key: 'drift/m-1/report.json' },
        reportUrl: null,
        mlflowRunId: 'r9',
      },
      alert: { decision: 'breach', messageId: 'msg-1', episodeSince: '2025-06-01' },
    });
    expect(text.split('\n')).toEqual([
      'drift detected: share_drifted 0.5000 > threshold 0.2000 (petal_length, prediction)',
      'model iris-classifier v3, MLflow run r9',
      'statistics in s3://mon/drift/m-1/report.json',
      'alert: breach e-mail sent (message msg-1)',
    ]);
  });

  it('says when inference found nothing to score, and prints an unknown shape as JSON', () => {
    expect(
      renderRunOutput('inference', {
        plan: { objectCount: 0, input: { bucket: 'landing', prefix: 'landing/iris/x/' } },
      }),
    ).toBe('nothing to score: no data objects under s3://landing/landing/iris/x/');
    expect(renderRunOutput('data', { hello: 'world' })).toBe('{\n  "hello": "world"\n}');
  });
});

/**
 * `mlops run` as a user runs it, as a child process:
 *
 * - locally, the data pipeline's ASL file against the shared local MLflow and S3 endpoint, read
 *   back from S3 itself;
 * - with --aws, against a real Step Functions API: a moto server of this file's own (moto runs
 *   definitions only with its `stepfunctions.execute_state_machine` setting, which is global to
 *   the server, so the shared endpoint is left as it is).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalBuckets, LOCAL_DEFAULTS } from '../../localstack/runner/pipelines';
import { ROOT } from '../../localstack/services/services';
import { type EntryPointResult, mlops } from '../support/entry-point';

const SUFFIX = `${Date.now().toString(36)}-${process.pid}`;
const STACK_TRACE = /^\s+at /m;

/** Runs `mlops run …`; `until` sees stderr as it grows and may act on the child (send it a signal). */
function mlopsRun(
  args: string[],
  env: NodeJS.ProcessEnv,
  until?: (stderr: string, child: ChildProcess) => void,
): Promise<EntryPointResult> {
  return mlops(['run', ...args], { env, timeoutMs: 120_000, onStderr: until });
}

function jsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] as string) as Record<string, unknown>;
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

describe('mlops run, locally', () => {
  const s3 = new S3Client({
    endpoint: process.env.AWS_ENDPOINT_URL,
    region: process.env.AWS_REGION,
    forcePathStyle: true,
  });
  const text = async (bucket: string, key: string) =>
    (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ??
    '';

  beforeAll(() => ensureLocalBuckets(s3, [LOCAL_DEFAULTS.LANDING_BUCKET]));
  afterAll(() => s3.destroy());

  it('runs the data pipeline on a landing batch, state by state, and publishes the curated dataset', async () => {
    const dataset = `cli-run-${SUFFIX}`;
    const prefix = `landing/${dataset}/2025-06-01/`;
    const iris = await readFile(join(ROOT, 'lambdas/core/datasets/iris/iris.csv'), 'utf8');
    const schema = await readFile(join(ROOT, 'lambdas/core/datasets/iris/input_schema.json'), 'utf8');
    const put = (key: string, body: string) =>
      s3.send(new PutObjectCommand({ Bucket: LOCAL_DEFAULTS.LANDING_BUCKET, Key: key, Body: body }));
    await put(`${prefix}part-0.csv`, `${iris.trimEnd()}\nabc,3.0,1.4,0.2,setosa\n5.0,3.0,1.4,99,setosa\n`);
    await put(`${prefix}input_schema.json`, schema);

    const run = await mlopsRun(['data', '--dataset', dataset, '--landing-key', prefix], process.env);

    expect(run.status, run.stderr).toBe(0);
    const version = /^dataset \S+ version (sha256-[0-9a-f]+) published, 150 valid rows$/m.exec(
      run.stdout,
    )?.[1];
    expect(version, run.stdout).toBeDefined();
    for (const state of ['IngestData', 'ValidateData', 'QuarantineRows', 'SplitDataset', 'PublishDataset']) {
      expect(run.stderr).toMatch(new RegExp(`^ {2}→ ${state}$`, 'm'));
      expect(run.stderr).toMatch(new RegExp(`^ {2}✓ ${state} \\d+\\.\\ds$`, 'm'));
    }
    const listed = await s3.send(
      new ListObjectsV2Command({
        Bucket: LOCAL_DEFAULTS.CURATED_BUCKET,
        Prefix: `datasets/${dataset}/${version}/`,
      }),
    );
    expect((listed.Contents ?? []).map((object) => object.Key?.split('/').pop()).sort()).toEqual([
      'manifest.json',
      'reference.parquet',
      'test.parquet',
      'train.parquet',
    ]);
    const manifest = JSON.parse(
      await text(LOCAL_DEFAULTS.CURATED_BUCKET, `datasets/${dataset}/${version}/manifest.json`),
    );
    expect(manifest).toMatchObject({
      name: dataset,
      version,
      source: `s3://${LOCAL_DEFAULTS.LANDING_BUCKET}/${prefix}`,
      rows: { input: 152, valid: 150, quarantined: 2 },
    });
  });

  it('prints exactly one JSON line with --json, and the dataset object it names is in S3', async () => {
    const dataset = `cli-run-json-${SUFFIX}`;

    const run = await mlopsRun(['data', '--bundled', 'iris', '--dataset', dataset, '--json'], process.env);

    expect(run.status, run.stderr).toBe(0);
    const result = jsonLine(run.stdout);
    expect(result).toMatchObject({
      pipeline: 'data',
      mode: 'local',
      status: 'SUCCEEDED',
      output: { created: true, dataset: { name: dataset, rowCount: 150 } },
    });
    expect(result.durationMs).toBeGreaterThan(0);
    const published = (result.output as { dataset: Record<string, { bucket: string; key: string }> }).dataset;
    const manifest = JSON.parse(await text(published.manifest?.bucket ?? '', published.manifest?.key ?? ''));
    expect(manifest).toMatchObject({
      name: dataset,
      source: 'bundled:iris',
      rows: { valid: 150, train: 120 },
    });
    const train = await s3.send(
      new HeadObjectCommand({ Bucket: published.train?.bucket, Key: published.train?.key }),
    );
    expect(train.ContentLength).toBeGreaterThan(0);
  });

  it('fails on a landing key with no objects: exit 1, the error and cause in one line, no stack trace', async () => {
    const prefix = `landing/cli-run-missing-${SUFFIX}/`;

    const run = await mlopsRun(
      ['data', '--dataset', 'nothing', '--landing-key', prefix, '--json'],
      process.env,
    );

    expect(run.status).toBe(1);
    const cause = `source.prefix: no objects under s3://${LOCAL_DEFAULTS.LANDING_BUCKET}/${prefix}`;
    expect(jsonLine(run.stdout)).toMatchObject({
      pipeline: 'data',
      mode: 'local',
      status: 'FAILED',
      error: { name: 'StepInputError', cause },
    });
    expect(lastLine(run.stderr)).toBe(`mlops: data pipeline failed: StepInputError: ${cause}`);
    expect(run.stderr).toContain('  ✗ IngestData');
    expect(run.stderr).toContain('  → PipelineFailed');
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  it('fails on a bundled dataset that does not exist, naming the ones that do', async () => {
    const run = await mlopsRun(['data', '--bundled', 'no-such-dataset'], process.env);

    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(lastLine(run.stderr)).toMatch(
      /^mlops: data pipeline failed: DataError: unknown dataset "bundled:no-such-dataset": .*iris, seattle-weather/,
    );
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });
});

// --- --aws -------------------------------------------------------------------------------------

const STAGE = `clitest${Date.now().toString(36)}`;
const REGION = 'us-east-1';

/** A stand-in for the deployed data pipeline: the same input and output shapes, Pass and Wait states. */
const DATA_DEFINITION = {
  StartAt: 'IngestData',
  States: {
    IngestData: {
      Type: 'Pass',
      Parameters: { 'dataset.$': '$.dataset', 'source.$': '$.source' },
      Next: 'SplitDataset',
    },
    SplitDataset: { Type: 'Wait', Seconds: 1, Next: 'PublishDataset' },
    PublishDataset: {
      Type: 'Pass',
      Parameters: {
        dataset: {
          'name.$': '$.dataset',
          version: 'sha256-0123456789abcdef',
          manifest: { bucket: 'curated', key: 'datasets/x/manifest.json' },
          train: { bucket: 'curated', key: 'datasets/x/train.parquet' },
          test: { bucket: 'curated', key: 'datasets/x/test.parquet' },
          reference: { bucket: 'curated', key: 'datasets/x/reference.parquet' },
          rowCount: 150,
        },
        created: true,
        'source.$': '$.source',
      },
      Next: 'DataReady',
    },
    DataReady: { Type: 'Succeed' },
  },
};

/** A training pipeline whose every candidate failed: its Fail state's error and cause. */
const TRAINING_DEFINITION = {
  StartAt: 'PlanTraining',
  States: {
    PlanTraining: { Type: 'Pass', Next: 'PipelineFailed' },
    PipelineFailed: {
      Type: 'Fail',
      Error: 'NoSuccessfulCandidateError',
      Cause: 'every candidate failed: logreg: did not converge',
    },
  },
};

/** A long monitoring run, to interrupt while it is followed. */
const MONITORING_DEFINITION = {
  StartAt: 'ComputeDrift',
  States: { ComputeDrift: { Type: 'Wait', Seconds: 120, End: true } },
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function startOwnStepFunctions(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(
    join(ROOT, 'localstack', '.venv', 'bin', 'python'),
    [join(ROOT, 'localstack', 'services', 'aws_endpoint.py'), '--port', String(port)],
    { cwd: ROOT, stdio: 'ignore' },
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/_health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || server.exitCode !== null)
      throw new Error(`moto server on ${url} did not start`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const configured = await fetch(`${url}/moto-api/config`, {
    method: 'POST',
    body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
  });
  if (!configured.ok) throw new Error(`moto config: ${configured.status}`);
  return { url, process: server };
}

describe('mlops run --aws, against a Step Functions API', () => {
  let moto: { url: string; process: ChildProcess };
  let sfn: SFNClient;
  let awsEnv: NodeJS.ProcessEnv;
  const arns: Record<string, string> = {};

  beforeAll(async () => {
    moto = await startOwnStepFunctions();
    awsEnv = {
      ...process.env,
      AWS_ENDPOINT_URL: moto.url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    sfn = new SFNClient({
      endpoint: moto.url,
      region: REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const machines = {
      data: DATA_DEFINITION,
      training: TRAINING_DEFINITION,
      monitoring: MONITORING_DEFINITION,
    };
    for (const [pipeline, definition] of Object.entries(machines)) {
      const created = await sfn.send(
        new CreateStateMachineCommand({
          name: `mlops-${STAGE}-${pipeline}`,
          roleArn: 'arn:aws:iam::123456789012:role/mlops-states',
          definition: JSON.stringify(definition),
        }),
      );
      arns[pipeline] = created.stateMachineArn ?? '';
    }
  }, 90_000);

  afterAll(async () => {
    sfn?.destroy();
    if (moto?.process.exitCode === null) {
      const exited = new Promise((resolve) => moto.process.once('exit', resolve));
      moto.process.kill('SIGTERM');
      await exited;
    }
  });

  const describeExecution = (executionArn: string) =>
    sfn.send(new DescribeExecutionCommand({ executionArn }));

  it('finds mlops-<stage>-data by name, follows it with progress and prints its output as one JSON line', async () => {
    const run = await mlopsRun(
      ['data', '--aws', '--stage', STAGE, '--bundled', 'iris', '--dataset', `aws-${SUFFIX}`, '--json'],
      awsEnv,
    );

    expect(run.status, run.stderr).toBe(0);
    const result = jsonLine(run.stdout);
    expect(result).toMatchObject({
      pipeline: 'data',
      mode: 'aws',
      status: 'SUCCEEDED',
      stateMachineArn: arns.data,
      output: {
        created: true,
        dataset: { name: `aws-${SUFFIX}`, version: 'sha256-0123456789abcdef' },
        source: { type: 'bundled', name: 'iris' },
      },
    });
    expect(result.executionArn).toMatch(
      new RegExp(`:execution:mlops-${STAGE}-data:cli-\\d{8}T\\d{6}-[0-9a-f]{8}$`),
    );
    expect(result.durationMs).toBeGreaterThanOrEqual(1000);
    for (const state of ['IngestData', 'SplitDataset', 'PublishDataset', 'DataReady']) {
      expect(run.stderr).toMatch(new RegExp(`^ {2}→ ${state}$`, 'm'));
    }
    expect(run.stderr).toMatch(/^ {2}✓ SplitDataset 1\.\ds$/m);
    expect(run.stderr).toContain(`started ${result.executionArn} in ${REGION} via ${moto.url}`);

    const execution = await describeExecution(result.executionArn as string);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.input ?? '{}')).toEqual({
      dataset: `aws-${SUFFIX}`,
      source: { type: 'bundled', name: 'iris' },
    });
  });

  it('prints the readable summary, and takes its endpoint from AWS_ENDPOINT_URL_STEPFUNCTIONS', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;

    const run = await mlopsRun(
      [
        'data',
        '--aws',
        '--stage',
        STAGE,
        '--dataset',
        'sales',
        '--landing-key',
        's3://lake-landing/landing/sales/2025-06-01/',
      ],
      { ...awsEnv, AWS_ENDPOINT_URL: dead, AWS_ENDPOINT_URL_STEPFUNCTIONS: moto.url },
    );

    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(
      'dataset sales version sha256-0123456789abcdef published, 150 valid rows',
    );
    expect(run.stdout).toContain('manifest   s3://curated/datasets/x/manifest.json');
    expect(run.stderr).toMatch(/^data pipeline \(arn:aws:states:.+\) succeeded in \d+\.\ds$/m);
  });

  it('exits 1 on a Fail state with its error and cause, after the progress up to it', async () => {
    const run = await mlopsRun(['train', '--aws', '--stage', STAGE, '--json'], awsEnv);

    expect(run.status).toBe(1);
    const result = jsonLine(run.stdout);
    expect(result).toMatchObject({
      pipeline: 'training',
      mode: 'aws',
      status: 'FAILED',
      error: {
        name: 'NoSuccessfulCandidateError',
        cause: 'every candidate failed: logreg: did not converge',
      },
    });
    expect(run.stderr).toMatch(/^ {2}✓ PlanTraining/m);
    expect(run.stderr).toMatch(/^ {2}→ PipelineFailed$/m);
    expect(lastLine(run.stderr)).toBe(
      `mlops: training pipeline (${result.executionArn}) failed: NoSuccessfulCandidateError: every candidate failed: logreg: did not converge`,
    );
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect((await describeExecution(result.executionArn as string)).status).toBe('FAILED');
  });

  it('says so when the stage has no such state machine', async () => {
    const run = await mlopsRun(['infer', '--aws', '--stage', STAGE], awsEnv);

    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(
      `mlops: no state machine named mlops-${STAGE}-inference in ${REGION} via ${moto.url}: deploy the stack (-c stage=${STAGE}) or pass --state-machine-arn`,
    );
  });

  it('returns the execution ARN at once with --no-wait, and the execution runs on', async () => {
    const run = await mlopsRun(
      ['data', '--aws', '--state-machine-arn', arns.data as string, '--bundled', 'iris', '--no-wait'],
      awsEnv,
    );

    expect(run.status, run.stderr).toBe(0);
    const executionArn = run.stdout.trim();
    expect(executionArn).toMatch(
      new RegExp(`^arn:aws:states:${REGION}:\\d{12}:execution:mlops-${STAGE}-data:cli-`),
    );
    expect(run.stderr).not.toContain('→ IngestData');
    let status = (await describeExecution(executionArn)).status;
    for (let i = 0; i < 40 && status === 'RUNNING'; i += 1) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await describeExecution(executionArn)).status;
    }
    expect(status).toBe('SUCCEEDED');
  });

  it('leaves the execution running on Ctrl-C, prints its ARN and exits 130', async () => {
    let interrupted = false;

    const run = await mlopsRun(['monitor', '--aws', '--stage', STAGE], awsEnv, (stderr, child) => {
      if (!interrupted && stderr.includes('→ ComputeDrift')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });

    expect(interrupted).toBe(true);
    expect(run.status).toBe(130);
    const executionArn = /started (arn:aws:states:\S+)/.exec(run.stderr)?.[1] ?? '';
    expect(lastLine(run.stderr)).toBe(
      `mlops: interrupted: stopped following, the execution keeps running: ${executionArn} (stop it with: aws stepfunctions stop-execution --execution-arn ${executionArn})`,
    );
    expect((await describeExecution(executionArn)).status).toBe('RUNNING');
    await sfn.send(new StopExecutionCommand({ executionArn }));
  });
});

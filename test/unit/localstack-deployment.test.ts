/**
 * The parts of `npm run local:deploy` / `local:e2e` that need no emulator: the outputs file, the
 * deployment record and the choice of emulator, the LocalStack URLs, cdklocal's environment (for
 * LocalStack and for ministack), ministack's settings, the two mailboxes' answers, LocalStack's
 * health answer, the compose failure hints, the API key lookup and following an execution (with a
 * stand-in for the SDK client's `send`).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { predictApiKey } from '../../localstack/deploy/api-key';
import { cdkLocalEnv, cdkMinistackEnv, contextArgs } from '../../localstack/deploy/cdklocal';
import { composeHints, parseHealth } from '../../localstack/deploy/compose-stack';
import { mailboxUrl, parseMailbox } from '../../localstack/deploy/e2e-checks';
import { ExecutionFailedError, runExecution } from '../../localstack/deploy/execution-follower';
import {
  chooseEmulator,
  DeploymentError,
  deploymentConfig,
  localInvokeUrl,
  localStackEndpoints,
  parseStackOutputs,
  readDeploymentRecord,
  readStackOutputs,
  regionOf,
  writeDeploymentRecord,
} from '../../localstack/deploy/localstack-deployment';
import { ministackEnv, ministackPort, pinnedMinistackVersion } from '../../localstack/deploy/ministack';
import { ministackContext } from '../../localstack/deploy/ministack-steps';
import { lambdaDockerFlags } from '../../localstack/deploy/onnxruntime-mount';

const sm = (name: string) => `arn:aws:states:us-east-1:000000000000:stateMachine:mlops-dev-${name}`;
const OUTPUTS = {
  PredictApiUrl: 'https://a1b2c3d4e5.execute-api.us-east-1.localhost.localstack.cloud/v1/',
  PredictApiKeyId: 'k9x8w7v6u5',
  LandingBucket: 'mlopsstack-dev-datalakelanding1234-abcd',
  DataPipelineArn: sm('data'),
  TrainingPipelineArn: sm('training'),
  InferencePipelineArn: sm('inference'),
  MonitoringPipelineArn: sm('monitoring'),
  AlarmTopicArn: 'arn:aws:sns:us-east-1:000000000000:alarms',
};

describe('the outputs file of local:deploy', () => {
  it('reads the stack outputs local:e2e needs', () => {
    const { AlarmTopicArn: _, ...needed } = OUTPUTS;
    expect(parseStackOutputs(JSON.stringify({ 'MlopsStack-dev': OUTPUTS }), 'outputs.json')).toEqual(needed);
  });

  it('says to run local:deploy first when the file is missing', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'outputs-')), 'localstack-outputs.json');
    expect(() => readStackOutputs(file)).toThrow(
      new DeploymentError(
        `no LocalStack deployment found (${file} is missing): run npm run local:deploy first`,
      ),
    );
  });

  it('names every missing or malformed output', () => {
    const { TrainingPipelineArn: _, ...partial } = OUTPUTS;
    const text = JSON.stringify({ 'MlopsStack-dev': { ...partial, DataPipelineArn: 'mlops-dev-data' } });
    expect(() => parseStackOutputs(text, 'o.json')).toThrow(
      /o\.json lacks outputs local:e2e needs \(DataPipelineArn: must be an ARN of states; TrainingPipelineArn: .+\): run npm run local:deploy again/,
    );
  });

  it('refuses a file that is not JSON or has no outputs for the stack', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'outputs-')), 'o.json');
    writeFileSync(file, '{"OtherStack": {}}');
    expect(() => readStackOutputs(file)).toThrow(`${file} has no outputs for MlopsStack-dev`);
    expect(() => parseStackOutputs('{', 'o.json')).toThrow('o.json is not JSON');
  });
});

describe('LocalStack endpoints', () => {
  it('serves the predict API under the edge port, from the API id and stage of the stack output', () => {
    expect(localInvokeUrl(OUTPUTS.PredictApiUrl, 'http://127.0.0.1:4566')).toBe(
      'http://127.0.0.1:4566/_aws/execute-api/a1b2c3d4e5/v1',
    );
    expect(
      localInvokeUrl('https://zz9.execute-api.eu-west-1.amazonaws.com/prod', 'http://127.0.0.1:4600'),
    ).toBe('http://127.0.0.1:4600/_aws/execute-api/zz9/prod');
  });

  it('takes the ports from the variables local:up uses, and rejects a bad one by name', () => {
    expect(
      localStackEndpoints({ MLOPS_AWS_PORT: '4600', MLOPS_MLFLOW_PORT: '5100', AWS_REGION: 'eu-west-1' }),
    ).toEqual({
      awsUrl: 'http://127.0.0.1:4600',
      mlflowUrl: 'http://127.0.0.1:5100',
      awsPort: 4600,
      region: 'eu-west-1',
    });
    expect(localStackEndpoints({}).awsUrl).toBe('http://127.0.0.1:4566');
    expect(() => localStackEndpoints({ MLOPS_AWS_PORT: 'http' })).toThrow(
      'MLOPS_AWS_PORT must be a port number (1-65535), got "http"',
    );
  });

  it('reads the region of the deployment from a state machine ARN', () => {
    expect(regionOf('arn:aws:states:eu-west-1:000000000000:stateMachine:x')).toBe('eu-west-1');
  });

  it('deploys the dev stage with localstack on, the model and dataset the e2e then uses', () => {
    const config = deploymentConfig('us-east-1');
    expect(config.localStack).toEqual({ enabled: true, mlflowTrackingUri: 'http://mlflow:5000' });
    expect([config.stage, config.modelName, config.datasetName]).toEqual(['dev', 'iris-classifier', 'iris']);
  });
});

describe('the emulator', () => {
  it('is LocalStack with a Docker engine and ministack without, unless MLOPS_EMULATOR picks one', async () => {
    expect(await chooseEmulator({}, async () => true)).toBe('localstack');
    expect(await chooseEmulator({}, async () => false)).toBe('ministack');
    expect(await chooseEmulator({ MLOPS_EMULATOR: 'ministack' }, async () => true)).toBe('ministack');
    expect(await chooseEmulator({ MLOPS_EMULATOR: 'localstack' }, async () => false)).toBe('localstack');
    await expect(chooseEmulator({ MLOPS_EMULATOR: 'moto' }, async () => true)).rejects.toThrow(
      'MLOPS_EMULATOR must be ministack or localstack, got "moto"',
    );
  });

  it('is recorded by local:deploy for local:e2e, and a broken record names the field', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'deployment-')), 'local-deployment.json');
    expect(readDeploymentRecord(file)).toBeUndefined();
    const record = {
      emulator: 'ministack' as const,
      awsUrl: 'http://127.0.0.1:4567',
      mlflowUrl: 'http://127.0.0.1:5000',
      region: 'us-east-1',
    };
    writeDeploymentRecord(record, file);
    expect(readDeploymentRecord(file)).toEqual(record);
    writeFileSync(file, JSON.stringify({ ...record, emulator: 'moto', awsUrl: 'localhost' }));
    expect(() => readDeploymentRecord(file)).toThrow(/emulator: .*; awsUrl: must be an http\(s\) URL/);
  });
});

describe('ministack', () => {
  it('installs the version pinned in its own requirements file', () => {
    expect(pinnedMinistackVersion()).toMatch(/^\d+\.\d+\.\d+$/);
    const file = join(mkdtempSync(join(tmpdir(), 'ministack-req-')), 'requirements.txt');
    writeFileSync(file, '# nothing pinned\nministack>=1\n');
    expect(() => pinnedMinistackVersion(file)).toThrow(/pins no ministack version/);
  });

  it('listens on MLOPS_MINISTACK_PORT (default 4567) and rejects a bad one by name', () => {
    expect(ministackPort({})).toBe(4567);
    expect(ministackPort({ MLOPS_MINISTACK_PORT: '56410' })).toBe(56410);
    expect(() => ministackPort({ MLOPS_MINISTACK_PORT: 'http' })).toThrow(
      'MLOPS_MINISTACK_PORT must be a port number (1-65535), got "http"',
    );
  });

  it('runs on 127.0.0.1 with the Lambdas as local node workers on the project Node 22', () => {
    const env = ministackEnv(4567, '/tmp/state/ministack', {
      PATH: '/usr/bin',
      HOME: '/root',
      // `. .local/env`: the moto endpoint must not reach the Lambda workers.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_PROFILE: 'prod',
    });
    expect(env).toMatchObject({
      HOME: '/root',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4567',
      GATEWAY_PORT: '4567',
      BIND_HOST: '127.0.0.1',
      S3_DATA_DIR: '/tmp/state/ministack/s3',
      LAMBDA_EXECUTOR: 'local',
    });
    expect(env.PATH).toMatch(/node_modules\/node\/bin:\/usr\/bin$/);
    expect(env.AWS_PROFILE).toBeUndefined();
  });

  it('deploys with MLflow on this machine and every endpoint at 127.0.0.1, path-style', () => {
    expect(ministackContext('us-east-1', 'http://127.0.0.1:5000')).toEqual({
      stage: 'dev',
      localstack: 'true',
      region: 'us-east-1',
      localstackMlflowUri: 'http://127.0.0.1:5000',
    });
    // The local MLflow's basic-auth user goes to the functions with the URL.
    expect(
      ministackContext('us-east-1', 'http://127.0.0.1:5000', { username: 'pipelines', password: 'p4ss' }),
    ).toMatchObject({ localstackMlflowUser: 'pipelines', localstackMlflowPassword: 'p4ss' });
    const env = cdkMinistackEnv(
      { PATH: '/usr/bin', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' },
      'http://127.0.0.1:4567',
      'us-east-1',
    );
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4567',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4567',
      AWS_S3_FORCE_PATH_STYLE: 'true',
      AWS_ENVAR_ALLOWLIST: 'AWS_REGION,AWS_DEFAULT_REGION,AWS_S3_FORCE_PATH_STYLE',
      AWS_ACCESS_KEY_ID: 'test',
    });
    expect(env.PATH).toMatch(/node_modules\/node\/bin:.*node_modules\/\.bin:\/usr\/bin$/);
  });
});

describe('the mailbox', () => {
  const sender = 'mlops-alerts@example.com';

  it("reads ministack's messages, grouped by account, from the sender only", () => {
    expect(mailboxUrl('ministack', 'http://127.0.0.1:4567', sender)).toBe(
      'http://127.0.0.1:4567/_ministack/ses/messages',
    );
    const answer = {
      messages: {
        '000000000000': [
          { Source: sender, To: ['a@example.com'], Subject: '[drift] x', BodyText: 'drifted' },
          { Source: 'other@example.com', To: ['b@example.com'], Subject: 'hi', BodyText: '' },
        ],
      },
    };
    expect(parseMailbox('ministack', answer, sender)).toEqual([
      { from: sender, to: ['a@example.com'], subject: '[drift] x', body: 'drifted' },
    ]);
  });

  it("reads LocalStack's /_aws/ses list", () => {
    expect(mailboxUrl('localstack', 'http://127.0.0.1:4566', sender)).toBe(
      'http://127.0.0.1:4566/_aws/ses?email=mlops-alerts%40example.com',
    );
    const answer = {
      messages: [
        {
          Source: sender,
          Destination: { ToAddresses: ['a@example.com'] },
          Subject: '[drift] y',
          Body: { text_part: 'text' },
        },
      ],
    };
    expect(parseMailbox('localstack', answer, sender)).toEqual([
      { from: sender, to: ['a@example.com'], subject: '[drift] y', body: 'text' },
    ]);
    expect(parseMailbox('localstack', { messages: {} }, sender)).toEqual([]);
  });
});

describe('cdklocal', () => {
  it('points the CDK at LocalStack with an S3 host cdklocal accepts, whatever .local/env set', () => {
    const env = cdkLocalEnv(
      { PATH: '/usr/bin', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_PROFILE: 'prod' },
      4566,
      'us-east-1',
    );
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: 'http://localhost.localstack.cloud:4566',
      AWS_ENDPOINT_URL_S3: 'http://s3.localhost.localstack.cloud:4566',
      AWS_ENVAR_ALLOWLIST: 'AWS_REGION,AWS_DEFAULT_REGION',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
    });
    expect(env.PATH).toMatch(/node_modules\/\.bin:\/usr\/bin$/);
  });

  it('passes the context as -c key=value', () => {
    expect(contextArgs({ stage: 'dev', localstack: 'true' })).toEqual([
      '-c',
      'stage=dev',
      '-c',
      'localstack=true',
    ]);
  });

  it('mounts the onnxruntime copy where the layer would put it', () => {
    expect(lambdaDockerFlags('/home/u/p/.local/localstack/onnxruntime-linux-x64')).toBe(
      '-v /home/u/p/.local/localstack/onnxruntime-linux-x64:/opt/nodejs/node_modules:ro',
    );
    expect(() => lambdaDockerFlags('/home/u/my project/x')).toThrow(/must not contain spaces/);
  });
});

describe('docker compose', () => {
  it('reads the version, edition and failed services of /_localstack/health', () => {
    expect(
      parseHealth({
        edition: 'community',
        version: '4.9.2',
        services: { s3: 'running', lambda: 'available', ecs: 'disabled', sqs: 'error' },
      }),
    ).toEqual({ version: '4.9.2', edition: 'community', failedServices: ['sqs'] });
    expect(parseHealth('nonsense')).toEqual({ version: 'unknown', edition: 'unknown', failedServices: [] });
  });

  it('turns the failures people hit into what to do', () => {
    const taken = composeHints([
      'Error response from daemon: driver failed programming external connectivity: Bind for 127.0.0.1:5000 failed: port is already allocated',
    ]);
    expect(taken.join('\n')).toContain('npm run local:down');
    expect(
      composeHints(['localstack-1 | License activation failed! Reason: no auth token']).join('\n'),
    ).toContain('export LOCALSTACK_AUTH_TOKEN');
    expect(composeHints(['all good'])).toEqual([]);
  });
});

describe('predictApiKey', () => {
  it('takes MLOPS_PREDICT_API_KEY when set, without calling API Gateway', async () => {
    // An endpoint nothing listens on: a call would fail.
    const settings = {
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    expect(await predictApiKey('k1', settings, { MLOPS_PREDICT_API_KEY: ' abc123 ' })).toBe('abc123');
  });
});

describe('runExecution', () => {
  const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:mlops-dev-data';
  const exited = (id: number, name: string): HistoryEvent => ({
    id,
    timestamp: new Date(),
    type: 'TaskStateExited',
    stateExitedEventDetails: { name },
  });

  /**
   * Answers like Step Functions: RUNNING for `polls` describes, then `final`; the history grows by
   * one event per poll (oldest first, as moto answers whatever `reverseOrder` says).
   */
  function fakeSfn(
    final: { status: string; output?: string; error?: string; cause?: string },
    polls = 1,
    history: HistoryEvent[] = ['IngestData', 'ValidateData', 'PublishDataset'].map((name, i) =>
      exited(i + 1, name),
    ),
  ) {
    let describes = 0;
    const started: { name?: string; input: unknown }[] = [];
    const send = async (command: unknown) => {
      if (command instanceof StartExecutionCommand) {
        started.push({ name: command.input.name, input: JSON.parse(command.input.input ?? 'null') });
        return { executionArn: 'arn:aws:states:us-east-1:000000000000:execution:mlops-dev-data:e1' };
      }
      if (command instanceof DescribeExecutionCommand) {
        describes += 1;
        return describes <= polls ? { status: 'RUNNING' } : final;
      }
      if (command instanceof GetExecutionHistoryCommand) {
        return { events: history.slice(0, describes) };
      }
      throw new Error('unexpected command');
    };
    return { sfn: { send } as never, started };
  }

  it('starts a named execution with the input and returns its output, reporting each state once', async () => {
    const { sfn, started } = fakeSfn(
      { status: 'SUCCEEDED', output: '{"dataset":{"version":"sha256-1"}}' },
      2,
    );
    const lines: string[] = [];
    const result = await runExecution(sfn, {
      stateMachineArn: ARN,
      input: { dataset: 'iris' },
      timeoutMs: 10_000,
      pollMs: 1,
      onState: (line) => lines.push(line),
    });
    expect(started).toEqual([
      { name: expect.stringMatching(/^e2e-\d{8}T\d{6}-[0-9a-f]{8}$/), input: { dataset: 'iris' } },
    ]);
    expect(result.output).toEqual({ dataset: { version: 'sha256-1' } });
    expect(lines).toEqual(['✓ IngestData', '✓ ValidateData', '✓ PublishDataset']);
  });

  it('throws with the status, error and cause of a failed execution', async () => {
    const run = runExecution(
      fakeSfn({ status: 'FAILED', error: 'StepInputError', cause: 'no Production' }).sfn,
      { stateMachineArn: ARN, input: {}, timeoutMs: 10_000, pollMs: 1 },
    );
    await expect(run).rejects.toBeInstanceOf(ExecutionFailedError);
    await expect(run).rejects.toThrow(/^FAILED: StepInputError — no Production \(arn:aws:states:/);
  });

  it('names the state of a failed Lambda task on one line, and takes its cause when the execution has none', async () => {
    const history: HistoryEvent[] = [
      {
        id: 1,
        timestamp: new Date(),
        type: 'TaskStateEntered',
        stateEnteredEventDetails: { name: 'PredictBatch' },
      },
      {
        id: 2,
        previousEventId: 1,
        timestamp: new Date(),
        type: 'LambdaFunctionFailed',
        lambdaFunctionFailedEventDetails: {
          error: 'Error',
          cause: "Cannot find package\n 'onnxruntime-node'",
        },
      },
    ];
    const lines: string[] = [];
    const error = await runExecution(
      fakeSfn({ status: 'FAILED', error: 'States.TaskFailed' }, 1, history).sfn,
      {
        stateMachineArn: ARN,
        input: {},
        timeoutMs: 10_000,
        pollMs: 1,
        onState: (line) => lines.push(line),
      },
    ).catch((e: unknown) => e);
    expect(lines).toEqual([
      '→ PredictBatch',
      "✗ PredictBatch: Error: Cannot find package 'onnxruntime-node'",
    ]);
    expect(error).toMatchObject({
      status: 'FAILED',
      error: 'States.TaskFailed',
      failureCause: "Cannot find package\n 'onnxruntime-node'",
    });
  });

  it('gives up after the timeout and says the execution was left running', async () => {
    const run = runExecution(fakeSfn({ status: 'SUCCEEDED' }, Number.POSITIVE_INFINITY).sfn, {
      stateMachineArn: ARN,
      input: {},
      timeoutMs: 50,
      pollMs: 1,
    });
    await expect(run).rejects.toMatchObject({
      status: 'STILL RUNNING',
      error: 'no end after 0.05s',
      failureCause: 'the execution was left running',
    });
  });
});

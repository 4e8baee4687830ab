/** The MLflow database upgrade custom resource's handlers (lambdas/mlflow-upgrade/), against a fake ECS. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type DescribeTasksResponse,
  type EcsApi,
  ecsApi,
  isComplete,
  onEvent,
  type ProviderEvent,
  type RunTaskResponse,
  UpgradeError,
  upgradeProperties,
} from '../../lambdas/mlflow-upgrade/upgrade-task';

const TASK_DEFINITION = 'arn:aws:ecs:us-east-1:123456789012:task-definition/MlopsStackdevMlflowTask:7';
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/mlops-dev';
const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/mlops-dev/0123456789abcdef0123456789abcdef';

const PROPERTIES = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
  MlflowVersion: '3.18.0',
  Cluster: CLUSTER,
  TaskDefinition: TASK_DEFINITION,
  ContainerName: 'mlflow',
  Subnets: ['subnet-a', 'subnet-b'],
  SecurityGroups: ['sg-task'],
  AssignPublicIp: 'ENABLED',
  LogGroup: 'MlopsStack-dev-MlflowLogs',
  LogStreamPrefix: 'mlflow',
};

function event(type: ProviderEvent['RequestType'], extra: Partial<ProviderEvent> = {}): ProviderEvent {
  return {
    RequestType: type,
    RequestId: '5f0c2a4e-1111-2222-3333-444455556666',
    ResourceProperties: PROPERTIES,
    ...extra,
  };
}

/** A fake ECS: records the calls, answers RunTask and DescribeTasks as told. */
function fakeEcs(run: RunTaskResponse, describe: DescribeTasksResponse = {}) {
  const calls: { operation: string; request: unknown }[] = [];
  const ecs: EcsApi = {
    runTask: async (request) => {
      calls.push({ operation: 'RunTask', request });
      return run;
    },
    describeTasks: async (request) => {
      calls.push({ operation: 'DescribeTasks', request });
      return describe;
    },
  };
  return { ecs, calls };
}

const stopped = (
  exitCode: number | undefined,
  stoppedReason: string,
  reason?: string,
): DescribeTasksResponse => ({
  tasks: [
    {
      taskArn: TASK,
      lastStatus: 'STOPPED',
      stoppedReason,
      containers: [
        { name: 'mlflow', ...(exitCode === undefined ? {} : { exitCode }), ...(reason ? { reason } : {}) },
      ],
    },
  ],
});

describe('onEvent', () => {
  it("starts one task of the service's task definition with the db-upgrade command, on its network", async () => {
    const { ecs, calls } = fakeEcs({ tasks: [{ taskArn: TASK }] });
    const result = await onEvent(event('Create'), ecs);
    expect(calls).toEqual([
      {
        operation: 'RunTask',
        request: {
          cluster: CLUSTER,
          taskDefinition: TASK_DEFINITION,
          launchType: 'FARGATE',
          platformVersion: 'LATEST',
          count: 1,
          startedBy: 'mlflow-db-upgrade',
          clientToken: '5f0c2a4e-1111-2222-3333-444455556666',
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: ['subnet-a', 'subnet-b'],
              securityGroups: ['sg-task'],
              assignPublicIp: 'ENABLED',
            },
          },
          overrides: { containerOverrides: [{ name: 'mlflow', command: ['db-upgrade'] }] },
        },
      },
    ]);
    expect(result).toEqual({
      PhysicalResourceId: 'mlflow-db-upgrade-5f0c2a4e-1111-2222-3333-444455556666',
      Data: { TaskArn: TASK, MlflowVersion: '3.18.0' },
    });
  });

  it('keeps the physical ID on an update (no replacement), and runs the task again', async () => {
    const { ecs, calls } = fakeEcs({ tasks: [{ taskArn: TASK }] });
    const result = await onEvent(event('Update', { PhysicalResourceId: 'mlflow-db-upgrade-first' }), ecs);
    expect(result.PhysicalResourceId).toBe('mlflow-db-upgrade-first');
    expect(calls.map((c) => c.operation)).toEqual(['RunTask']);
  });

  it('changes nothing on delete', async () => {
    const { ecs, calls } = fakeEcs({});
    expect(await onEvent(event('Delete', { PhysicalResourceId: 'mlflow-db-upgrade-first' }), ecs)).toEqual({
      PhysicalResourceId: 'mlflow-db-upgrade-first',
    });
    expect(calls).toEqual([]);
  });

  it("fails with ECS's reasons when no task starts", async () => {
    const { ecs } = fakeEcs({
      failures: [{ arn: TASK_DEFINITION, reason: 'MISSING', detail: 'no capacity' }],
    });
    await expect(onEvent(event('Create'), ecs)).rejects.toThrow(
      `could not start the MLflow 3.18.0 database upgrade task: ${TASK_DEFINITION}: MISSING: no capacity`,
    );
  });

  it('names the resource property that is missing or malformed', async () => {
    const { ecs, calls } = fakeEcs({ tasks: [{ taskArn: TASK }] });
    const without = (key: string, value?: unknown) =>
      event('Create', { ResourceProperties: { ...PROPERTIES, [key]: value } });
    await expect(onEvent(without('TaskDefinition'), ecs)).rejects.toThrow(
      'resource property TaskDefinition must be a non-empty string',
    );
    await expect(onEvent(without('Subnets', []), ecs)).rejects.toThrow(
      'resource property Subnets must be a non-empty list of IDs, got []',
    );
    await expect(onEvent(without('AssignPublicIp', 'true'), ecs)).rejects.toThrow(
      'resource property AssignPublicIp must be ENABLED or DISABLED, got "true"',
    );
    expect(calls).toEqual([]);
    expect(() => upgradeProperties(undefined)).toThrow(UpgradeError);
  });
});

describe('isComplete', () => {
  const started = (extra: Partial<ProviderEvent> = {}) =>
    event('Create', { PhysicalResourceId: 'mlflow-db-upgrade-x', Data: { TaskArn: TASK }, ...extra });

  it('waits while the task is pending or running', async () => {
    for (const lastStatus of ['PROVISIONING', 'PENDING', 'RUNNING', 'DEPROVISIONING']) {
      const { ecs, calls } = fakeEcs({}, { tasks: [{ taskArn: TASK, lastStatus }] });
      expect(await isComplete(started(), ecs)).toEqual({ IsComplete: false });
      expect(calls).toEqual([{ operation: 'DescribeTasks', request: { cluster: CLUSTER, tasks: [TASK] } }]);
    }
  });

  it('completes when the task stopped with exit code 0', async () => {
    const { ecs } = fakeEcs({}, stopped(0, 'Essential container in task exited'));
    expect(await isComplete(started(), ecs)).toEqual({
      IsComplete: true,
      Data: { TaskArn: TASK, MlflowVersion: '3.18.0' },
    });
  });

  it('fails the deployment with the stopped reason, the exit code and the log stream otherwise', async () => {
    const { ecs } = fakeEcs({}, stopped(1, 'Essential container in task exited'));
    await expect(isComplete(started(), ecs)).rejects.toThrow(
      `the MLflow 3.18.0 database upgrade task ${TASK} failed: container mlflow exited with code 1; ` +
        'stopped: Essential container in task exited; output in log group MlopsStack-dev-MlflowLogs, ' +
        'stream mlflow/mlflow/0123456789abcdef0123456789abcdef',
    );
  });

  it('says so when the container never ran (the image could not be pulled, the secret not read)', async () => {
    const { ecs } = fakeEcs(
      {},
      stopped(
        undefined,
        'CannotPullContainerError: pull image manifest has been retried',
        'CannotPullContainerError',
      ),
    );
    await expect(isComplete(started(), ecs)).rejects.toThrow(
      /container mlflow did not run to an exit code \(CannotPullContainerError\); stopped: CannotPullContainerError: pull image/,
    );
  });

  it('fails when ECS no longer knows the task, and when onEvent handed over none', async () => {
    const { ecs } = fakeEcs({}, { failures: [{ arn: TASK, reason: 'MISSING' }] });
    await expect(isComplete(started(), ecs)).rejects.toThrow(`${TASK} cannot be described: ${TASK}: MISSING`);
    await expect(isComplete(started({ Data: {} }), ecs)).rejects.toThrow('isComplete got no TaskArn');
  });

  it('is complete at once on delete', async () => {
    const { ecs, calls } = fakeEcs({});
    expect(await isComplete(event('Delete', { PhysicalResourceId: 'x' }), ecs)).toEqual({ IsComplete: true });
    expect(calls).toEqual([]);
  });
});

describe('the ECS client', () => {
  afterEach(() => vi.unstubAllEnvs());

  it("posts signed JSON to the region's ECS endpoint with the operation's target", async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAEXAMPLEEXAMPLE12');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-key-example');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session-token-example');
    const requests: { url: string; init: RequestInit }[] = [];
    const fetchFake = (async (url: URL, init: RequestInit) => {
      requests.push({ url: String(url), init });
      return new Response(JSON.stringify({ tasks: [{ taskArn: TASK, lastStatus: 'RUNNING' }] }), {
        status: 200,
      });
    }) as unknown as typeof fetch;
    const ecs = ecsApi({ AWS_REGION: 'us-east-1' }, fetchFake);
    const answer = await ecs.describeTasks({ cluster: CLUSTER, tasks: [TASK] });
    expect(answer.tasks?.[0]?.lastStatus).toBe('RUNNING');
    expect(requests).toHaveLength(1);
    const [{ url, init }] = requests as [{ url: string; init: RequestInit }];
    expect(url).toBe('https://ecs.us-east-1.amazonaws.com/');
    const headers = init.headers as Record<string, string>;
    expect(headers['x-amz-target']).toBe('AmazonEC2ContainerServiceV20141113.DescribeTasks');
    expect(headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEEXAMPLE12\/\d{8}\/us-east-1\/ecs\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-security-token']).toBe('session-token-example');
    expect(JSON.parse(String(init.body))).toEqual({ cluster: CLUSTER, tasks: [TASK] });
  });

  it("reports ECS's error answer with the operation", async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAEXAMPLEEXAMPLE12');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-key-example');
    const fetchFake = (async () =>
      new Response('{"__type":"AccessDeniedException","message":"not authorized to perform: ecs:RunTask"}', {
        status: 400,
      })) as unknown as typeof fetch;
    await expect(ecsApi({ AWS_REGION: 'us-east-1' }, fetchFake).runTask({})).rejects.toThrow(
      /ECS RunTask: HTTP 400 .*not authorized to perform: ecs:RunTask/,
    );
    expect(() => ecsApi({}, fetchFake)).toThrow('AWS_REGION is not set');
  });
});

describe('the local MLflow start', () => {
  it("recognises MLflow's refusal to start on an out-of-date schema, and nothing else", async () => {
    const { needsSchemaUpgrade } = await import('../../localstack/services/mlflow-server');
    // As mlflow.store.db.utils._verify_schema words it (MLflow 3.17.2).
    const refusal =
      "mlflow.exceptions.MlflowException: Detected out-of-date database schema (found version 75868b020152, but expected dc11669786a5). Take a backup of your database, then run 'mlflow db upgrade <database_uri>' to migrate your database to the latest schema.";
    expect(needsSchemaUpgrade(`INFO starting\n${refusal}\n`)).toBe(true);
    expect(needsSchemaUpgrade('ERROR Error initializing backend store\nconnection refused')).toBe(false);
  });
});

/**
 * The MLflow database upgrade as a CloudFormation custom resource (lib/mlflow-upgrade.ts, through
 * CDK's provider framework): on create and on every update (a new MLflow version, or a new task
 * definition) `onEvent` starts a one-off ECS task of the MLflow service's own task definition with the
 * command `db-upgrade` (docker/mlflow/entrypoint.sh: `mlflow db upgrade` on the backend store);
 * `isComplete`, polled by the framework, waits for it to stop and fails the deployment, with the
 * task's stopped reason, exit code and log stream, unless the container exited 0. The ECS service
 * depends on the resource, so its new tasks start only on an upgraded schema. Deleting the resource
 * changes nothing (the database keeps its schema).
 *
 * ECS is called with signed JSON requests over `fetch` (as secret-password.ts calls Secrets
 * Manager): the project does not depend on @aws-sdk/client-ecs.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../core/mlflow/secret-password';

/** The resource properties lib/mlflow-upgrade.ts sets (CloudFormation hands them over as strings). */
export interface UpgradeProperties {
  readonly cluster: string;
  readonly taskDefinition: string;
  readonly containerName: string;
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  readonly assignPublicIp: boolean;
  /** Recorded so that a new version is an update (and re-runs the task); also in the messages. */
  readonly mlflowVersion: string;
  /** Where the task's output is (awslogs): named in a failure. */
  readonly logGroup: string;
  readonly logStreamPrefix: string;
}

/** The command the container runs instead of the server (docker/mlflow/entrypoint.sh). */
export const UPGRADE_COMMAND = ['db-upgrade'] as const;
/** `startedBy` of the upgrade tasks, to find them in the console (`aws ecs list-tasks --started-by`). */
export const STARTED_BY = 'mlflow-db-upgrade';

export class UpgradeError extends Error {
  override name = 'UpgradeError';
}

/** Reads and checks the resource properties; errors name the property. */
export function upgradeProperties(raw: Record<string, unknown> | undefined): UpgradeProperties {
  const props = raw ?? {};
  const text = (key: string): string => {
    const value = props[key];
    if (typeof value !== 'string' || value.trim() === '') {
      throw new UpgradeError(
        `resource property ${key} must be a non-empty string, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  };
  const list = (key: string): string[] => {
    const value = props[key];
    if (
      !Array.isArray(value) ||
      value.length === 0 ||
      !value.every((v) => typeof v === 'string' && v !== '')
    ) {
      throw new UpgradeError(
        `resource property ${key} must be a non-empty list of IDs, got ${JSON.stringify(value)}`,
      );
    }
    return value as string[];
  };
  const assign = text('AssignPublicIp');
  if (assign !== 'ENABLED' && assign !== 'DISABLED') {
    throw new UpgradeError(`resource property AssignPublicIp must be ENABLED or DISABLED, got "${assign}"`);
  }
  return {
    cluster: text('Cluster'),
    taskDefinition: text('TaskDefinition'),
    containerName: text('ContainerName'),
    subnets: list('Subnets'),
    securityGroups: list('SecurityGroups'),
    assignPublicIp: assign === 'ENABLED',
    mlflowVersion: text('MlflowVersion'),
    logGroup: text('LogGroup'),
    logStreamPrefix: text('LogStreamPrefix'),
  };
}

/** The two ECS calls the upgrade makes, as the JSON API takes and returns them. */
export interface EcsApi {
  runTask(request: Record<string, unknown>): Promise<RunTaskResponse>;
  describeTasks(request: { cluster: string; tasks: string[] }): Promise<DescribeTasksResponse>;
}

interface Failure {
  readonly arn?: string;
  readonly reason?: string;
  readonly detail?: string;
}

export interface EcsTask {
  readonly taskArn?: string;
  readonly lastStatus?: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  readonly containers?: readonly {
    readonly name?: string;
    readonly exitCode?: number;
    readonly reason?: string;
    readonly lastStatus?: string;
  }[];
}

export interface RunTaskResponse {
  readonly tasks?: readonly EcsTask[];
  readonly failures?: readonly Failure[];
}

export interface DescribeTasksResponse {
  readonly tasks?: readonly EcsTask[];
  readonly failures?: readonly Failure[];
}

/** The RunTask request: the service's task definition, its network, the upgrade command. */
export function runTaskRequest(props: UpgradeProperties, requestId: string): Record<string, unknown> {
  return {
    cluster: props.cluster,
    taskDefinition: props.taskDefinition,
    launchType: 'FARGATE',
    platformVersion: 'LATEST',
    count: 1,
    startedBy: STARTED_BY,
    // The CloudFormation request, so a retried request is not a second task (ECS idempotency token).
    clientToken: requestId.slice(0, 64),
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: props.subnets,
        securityGroups: props.securityGroups,
        assignPublicIp: props.assignPublicIp ? 'ENABLED' : 'DISABLED',
      },
    },
    overrides: { containerOverrides: [{ name: props.containerName, command: [...UPGRADE_COMMAND] }] },
  };
}

function describeFailures(failures: readonly Failure[]): string {
  return failures.map((f) => [f.arn, f.reason, f.detail].filter(Boolean).join(': ')).join('; ');
}

/** Starts the upgrade task; returns its ARN. */
export async function startUpgrade(
  ecs: EcsApi,
  props: UpgradeProperties,
  requestId: string,
): Promise<string> {
  const response = await ecs.runTask(runTaskRequest(props, requestId));
  const taskArn = response.tasks?.[0]?.taskArn;
  if (!taskArn) {
    const why = describeFailures(response.failures ?? []) || 'ECS returned no task';
    throw new UpgradeError(`could not start the MLflow ${props.mlflowVersion} database upgrade task: ${why}`);
  }
  return taskArn;
}

/** The awslogs stream of a task's container: `<prefix>/<container>/<task id>`. */
export function logStream(props: UpgradeProperties, taskArn: string): string {
  const taskId = taskArn.split('/').pop() ?? taskArn;
  return `${props.logStreamPrefix}/${props.containerName}/${taskId}`;
}

/**
 * Whether the upgrade task has finished: false while it runs, true once it stopped with exit code 0.
 * Throws, naming the task, its stopped reason, the container's exit code and the log stream, when
 * it stopped otherwise.
 */
export async function upgradeFinished(
  ecs: EcsApi,
  props: UpgradeProperties,
  taskArn: string,
): Promise<boolean> {
  const response = await ecs.describeTasks({ cluster: props.cluster, tasks: [taskArn] });
  const task = response.tasks?.find((t) => t.taskArn === taskArn) ?? response.tasks?.[0];
  if (!task) {
    const why = describeFailures(response.failures ?? []) || 'not found';
    throw new UpgradeError(`the MLflow database upgrade task ${taskArn} cannot be described: ${why}`);
  }
  if (task.lastStatus !== 'STOPPED') return false;
  const container = task.containers?.find((c) => c.name === props.containerName);
  if (container?.exitCode === 0) return true;
  const exit =
    container?.exitCode === undefined
      ? `container ${props.containerName} did not run to an exit code${container?.reason ? ` (${container.reason})` : ''}`
      : `container ${props.containerName} exited with code ${container.exitCode}${container.reason ? ` (${container.reason})` : ''}`;
  throw new UpgradeError(
    `the MLflow ${props.mlflowVersion} database upgrade task ${taskArn} failed: ${exit}; ` +
      `stopped: ${task.stoppedReason ?? task.stopCode ?? 'no reason given'}; ` +
      `output in log group ${props.logGroup}, stream ${logStream(props, taskArn)}`,
  );
}

type Env = Record<string, string | undefined>;

/** ECS's JSON API with Signature V4, credentials from the SDK's default chain (the function's role). */
export function ecsApi(env: Env = process.env, fetchImpl: typeof fetch = fetch): EcsApi {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new UpgradeError('AWS_REGION is not set');
  const url = new URL(env.AWS_ENDPOINT_URL_ECS?.trim() || `https://ecs.${region}.amazonaws.com`);
  const call = async <T>(operation: string, request: unknown): Promise<T> => {
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    const signer = new SignatureV4({
      service: 'ecs',
      region,
      credentials: defaultProvider(),
      sha256: Sha256,
    });
    const body = JSON.stringify(request);
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port && { port: Number(url.port) }),
      path: url.pathname,
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AmazonEC2ContainerServiceV20141113.${operation}`,
      },
      body,
    });
    const response = await fetchImpl(url, {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
      body,
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    if (!response.ok)
      throw new UpgradeError(`ECS ${operation}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
  return {
    runTask: (request) => call<RunTaskResponse>('RunTask', request),
    describeTasks: (request) => call<DescribeTasksResponse>('DescribeTasks', request),
  };
}

/** What the provider framework hands the handlers (a CloudFormation event, plus `Data` for isComplete). */
export interface ProviderEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly RequestId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties?: Record<string, unknown>;
  readonly Data?: Record<string, unknown>;
}

/** The resource's physical ID: the same for its life, so an update never replaces (deletes) it. */
export const PHYSICAL_ID_PREFIX = 'mlflow-db-upgrade';

export async function onEvent(
  event: ProviderEvent,
  ecs: EcsApi,
): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> {
  const physicalId = event.PhysicalResourceId ?? `${PHYSICAL_ID_PREFIX}-${event.RequestId}`;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalId };
  const props = upgradeProperties(event.ResourceProperties);
  const taskArn = await startUpgrade(ecs, props, event.RequestId);
  console.log(
    JSON.stringify({ message: 'started the MLflow database upgrade', taskArn, version: props.mlflowVersion }),
  );
  return { PhysicalResourceId: physicalId, Data: { TaskArn: taskArn, MlflowVersion: props.mlflowVersion } };
}

export async function isComplete(
  event: ProviderEvent,
  ecs: EcsApi,
): Promise<{ IsComplete: boolean; Data?: Record<string, string> }> {
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const props = upgradeProperties(event.ResourceProperties);
  const taskArn = event.Data?.TaskArn;
  if (typeof taskArn !== 'string' || taskArn === '') {
    throw new UpgradeError('isComplete got no TaskArn from onEvent');
  }
  const done = await upgradeFinished(ecs, props, taskArn);
  return done
    ? { IsComplete: true, Data: { TaskArn: taskArn, MlflowVersion: props.mlflowVersion } }
    : { IsComplete: false };
}

/**
 * Signed calls to the two AWS APIs the local e2e and `--destroy` need for which the project has no
 * SDK client: CloudFormation (query protocol: is the stack gone?) and EventBridge Scheduler
 * (REST-JSON: read a deployed schedule, create a one-off copy). Signed with SigV4 like the SDK
 * does (`@smithy/signature-v4`, which every `@aws-sdk/client-*` package depends on).
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export interface EmulatorAccess {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export class EmulatorApiError extends Error {
  override name = 'EmulatorApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(message);
  }
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** SHA-256 (and HMAC-SHA-256 with a secret) on node:crypto, in the shape SignatureV4 takes. */
class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

async function signedFetch(
  access: EmulatorAccess,
  service: string,
  request: {
    method: string;
    path: string;
    query?: Record<string, string>;
    headers: Record<string, string>;
    body?: string;
  },
): Promise<{ status: number; text: string }> {
  const url = new URL(access.endpoint);
  const signer = new SignatureV4({
    service,
    region: access.region,
    credentials: access.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port && { port: Number(url.port) }),
    path: request.path,
    ...(request.query && { query: request.query }),
    headers: { ...request.headers, host: url.host },
    ...(request.body !== undefined && { body: request.body }),
  });
  const query = request.query ? `?${new URLSearchParams(request.query).toString()}` : '';
  const { host: _host, ...headers } = signed.headers;
  const response = await fetch(`${url.origin}${request.path}${query}`, {
    method: request.method,
    headers,
    ...(request.body !== undefined && { body: request.body }),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, text: await response.text() };
}

/** CloudFormation DescribeStacks: the stack's status, or undefined when it does not exist. */
export async function stackStatus(access: EmulatorAccess, stackName: string): Promise<string | undefined> {
  const body = new URLSearchParams({
    Action: 'DescribeStacks',
    Version: '2010-05-15',
    StackName: stackName,
  }).toString();
  const answer = await signedFetch(access, 'cloudformation', {
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  if (answer.status === 400 && /does not exist/i.test(answer.text)) return undefined;
  if (answer.status !== 200) {
    throw new EmulatorApiError(
      `CloudFormation DescribeStacks ${stackName}: HTTP ${answer.status}`,
      answer.status,
      answer.text,
    );
  }
  const status = /<StackStatus>([^<]+)<\/StackStatus>/.exec(answer.text)?.[1];
  if (!status) return undefined;
  return status === 'DELETE_COMPLETE' ? undefined : status;
}

export interface ScheduleTarget {
  readonly Arn: string;
  readonly RoleArn: string;
  readonly Input?: string;
  readonly RetryPolicy?: unknown;
  readonly DeadLetterConfig?: unknown;
}

export interface Schedule {
  readonly Name: string;
  readonly GroupName?: string;
  readonly ScheduleExpression: string;
  readonly State?: string;
  readonly Target: ScheduleTarget;
}

async function schedulerCall<T>(
  access: EmulatorAccess,
  method: string,
  path: string,
  what: string,
  body?: unknown,
  query?: Record<string, string>,
): Promise<T> {
  const answer = await signedFetch(access, 'scheduler', {
    method,
    path,
    ...(query && { query }),
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (answer.status < 200 || answer.status > 299) {
    throw new EmulatorApiError(
      `Scheduler ${what}: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`,
      answer.status,
      answer.text,
    );
  }
  return (answer.text ? JSON.parse(answer.text) : {}) as T;
}

/** ListSchedules (one page is plenty for one stack's five). */
export async function listSchedules(
  access: EmulatorAccess,
): Promise<{ Name: string; GroupName?: string; Arn?: string }[]> {
  const page = await schedulerCall<{ Schedules?: { Name: string; GroupName?: string; Arn?: string }[] }>(
    access,
    'GET',
    '/schedules',
    'ListSchedules',
    undefined,
    { MaxResults: '100' },
  );
  return page.Schedules ?? [];
}

export function getSchedule(access: EmulatorAccess, name: string, group = 'default'): Promise<Schedule> {
  return schedulerCall<Schedule>(
    access,
    'GET',
    `/schedules/${encodeURIComponent(name)}`,
    `GetSchedule ${name}`,
    undefined,
    {
      groupName: group,
    },
  );
}

export function createSchedule(
  access: EmulatorAccess,
  name: string,
  schedule: { ScheduleExpression: string; Target: ScheduleTarget; ActionAfterCompletion?: 'DELETE' | 'NONE' },
): Promise<{ ScheduleArn?: string }> {
  return schedulerCall(access, 'POST', `/schedules/${encodeURIComponent(name)}`, `CreateSchedule ${name}`, {
    ...schedule,
    FlexibleTimeWindow: { Mode: 'OFF' },
    State: 'ENABLED',
  });
}

export async function deleteSchedule(access: EmulatorAccess, name: string): Promise<void> {
  await schedulerCall(access, 'DELETE', `/schedules/${encodeURIComponent(name)}`, `DeleteSchedule ${name}`);
}

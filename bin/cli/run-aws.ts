/**
 * `mlops run --aws`: starts the deployed state machine through the Step Functions API and follows
 * the execution to its end, printing the new history events as progress. `npm run local:e2e`
 * follows its executions on LocalStack with the same follower (localstack/deploy/execution-follower.ts);
 * this module imports nothing of the CLI but its error type, so it serves both.
 *
 * Region and credentials come from the AWS SDK's chain (env, profile, SSO, instance role). The
 * endpoint too: the SDK reads AWS_ENDPOINT_URL_SFN (its id for Step Functions) and
 * AWS_ENDPOINT_URL by itself; AWS_ENDPOINT_URL_STEPFUNCTIONS, the name LocalStack's docs use,
 * is honoured here on top.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CliError } from './output';

/** The Step Functions calls `mlops run --aws` makes; the seam its tests stand in for. */
export interface StepFunctionsApi {
  listStateMachines(
    nextToken: string | undefined,
    signal?: AbortSignal,
  ): Promise<{ stateMachines: { name?: string; stateMachineArn?: string }[]; nextToken?: string }>;
  startExecution(request: {
    stateMachineArn: string;
    name: string;
    input: string;
  }): Promise<{ executionArn: string; startDate?: Date }>;
  describeExecution(executionArn: string, signal?: AbortSignal): Promise<ExecutionDescription>;
  getExecutionHistory(
    request: { executionArn: string; nextToken?: string; reverseOrder: boolean },
    signal?: AbortSignal,
  ): Promise<{ events: HistoryEvent[]; nextToken?: string }>;
}

export type ExecutionDescription = Partial<
  Pick<DescribeExecutionOutput, 'status' | 'output' | 'error' | 'cause' | 'startDate' | 'stopDate'>
>;

/** The endpoint the client was pointed at, when not AWS's own (for the progress line). */
export function stepFunctionsEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return (
    env.AWS_ENDPOINT_URL_STEPFUNCTIONS?.trim() ||
    env.AWS_ENDPOINT_URL_SFN?.trim() ||
    env.AWS_ENDPOINT_URL?.trim() ||
    undefined
  );
}

export function createStepFunctionsClient(env: NodeJS.ProcessEnv = process.env): SFNClient {
  const endpoint = env.AWS_ENDPOINT_URL_STEPFUNCTIONS?.trim();
  return new SFNClient(endpoint ? { endpoint } : {});
}

export function sdkStepFunctionsApi(client: Pick<SFNClient, 'send'>): StepFunctionsApi {
  return {
    async listStateMachines(nextToken, signal) {
      const page = await client.send(
        new ListStateMachinesCommand({ ...(nextToken && { nextToken }) }),
        signal ? { abortSignal: signal } : {},
      );
      return {
        stateMachines: page.stateMachines ?? [],
        ...(page.nextToken && { nextToken: page.nextToken }),
      };
    },
    async startExecution(request) {
      const started = await client.send(new StartExecutionCommand(request));
      if (!started.executionArn) throw new Error('StartExecution returned no executionArn');
      return {
        executionArn: started.executionArn,
        ...(started.startDate && { startDate: started.startDate }),
      };
    },
    async describeExecution(executionArn, signal) {
      return client.send(
        new DescribeExecutionCommand({ executionArn }),
        signal ? { abortSignal: signal } : {},
      );
    },
    async getExecutionHistory(request, signal) {
      const page = await client.send(
        new GetExecutionHistoryCommand({
          executionArn: request.executionArn,
          reverseOrder: request.reverseOrder,
          maxResults: 1000,
          ...(request.nextToken && { nextToken: request.nextToken }),
        }),
        signal ? { abortSignal: signal } : {},
      );
      return { events: page.events ?? [], ...(page.nextToken && { nextToken: page.nextToken }) };
    },
  };
}

/** The ARN of the state machine with this name, reading every page of ListStateMachines. */
export async function findStateMachineArn(
  api: StepFunctionsApi,
  name: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await api.listStateMachines(nextToken, signal);
    const found = page.stateMachines.find((machine) => machine.name === name);
    if (found?.stateMachineArn) return found.stateMachineArn;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/** `cli-20250601T101500-3f9a2c1e`: sortable, unique, and says who started it. */
export function executionNameFor(now: Date = new Date(), startedBy = 'cli'): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '');
  return `${startedBy}-${stamp}-${randomBytes(4).toString('hex')}`;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

export interface FollowOptions {
  /** Called with every history event not seen before, oldest first. */
  readonly onEvent?: (event: HistoryEvent) => void;
  readonly signal?: AbortSignal;
  /** First wait between polls; doubles while nothing happens, back to this on news. @default 1000 */
  readonly minPollMs?: number;
  /** @default 10000 */
  readonly maxPollMs?: number;
  readonly wait?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
}

export interface FinishedExecution {
  readonly status: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate?: Date;
  readonly stopDate?: Date;
}

/**
 * Polls DescribeExecution until the execution ends, with backoff while nothing happens, and
 * hands over each new history event once. Aborting the signal stops following (never the
 * execution) and rejects with the signal's reason.
 */
export async function followExecution(
  api: StepFunctionsApi,
  executionArn: string,
  options: FollowOptions = {},
): Promise<FinishedExecution> {
  const minPoll = options.minPollMs ?? 1000;
  const maxPoll = options.maxPollMs ?? 10_000;
  const wait = options.wait ?? ((ms, signal) => sleep(ms, undefined, signal ? { signal } : {}));
  let lastId = 0;
  let pause = minPoll;
  const finalEvents: HistoryEvent[] = [];
  for (;;) {
    options.signal?.throwIfAborted();
    const described = await api.describeExecution(executionArn, options.signal);
    // Read after the status: once it is final, this read holds every event up to the end.
    const events = await newHistoryEvents(api, executionArn, lastId, options.signal);
    for (const event of events) {
      lastId = Math.max(lastId, event.id ?? 0);
      options.onEvent?.(event);
      if (event.type?.startsWith('Execution')) finalEvents.push(event);
    }
    const status = described.status ?? 'RUNNING';
    if (TERMINAL.has(status)) return finished(described, status, finalEvents);
    pause = events.length > 0 ? minPoll : Math.min(maxPoll, pause * 2);
    await wait(pause, options.signal);
  }
}

/**
 * History events with an id above `afterId`, oldest first. Pages are read newest first, so a long
 * execution costs one page per poll; a service that ignores `reverseOrder` (moto) is read whole.
 */
export async function newHistoryEvents(
  api: StepFunctionsApi,
  executionArn: string,
  afterId: number,
  signal?: AbortSignal,
): Promise<HistoryEvent[]> {
  const fresh: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await api.getExecutionHistory(
      { executionArn, reverseOrder: true, ...(nextToken && { nextToken }) },
      signal,
    );
    fresh.push(...page.events.filter((event) => (event.id ?? 0) > afterId));
    const ids = page.events.map((event) => event.id ?? 0);
    const newestFirst = ids.length < 2 || (ids[0] ?? 0) > (ids[ids.length - 1] ?? 0);
    // Newest first and down to what was seen: the older pages were seen too.
    if (newestFirst && ids.some((id) => id <= afterId)) break;
    nextToken = page.nextToken;
  } while (nextToken);
  return fresh.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
}

function finished(
  described: ExecutionDescription,
  status: string,
  events: readonly HistoryEvent[],
): FinishedExecution {
  // DescribeExecution carries error and cause; the final history event too (older APIs, moto).
  const last = events[events.length - 1];
  const details =
    last?.executionFailedEventDetails ??
    last?.executionTimedOutEventDetails ??
    last?.executionAbortedEventDetails;
  const error = described.error ?? details?.error ?? (status === 'SUCCEEDED' ? undefined : status);
  const cause = described.cause ?? details?.cause;
  return {
    status,
    ...(described.output !== undefined && { output: described.output }),
    ...(error !== undefined && { error }),
    ...(cause !== undefined && { cause }),
    ...(described.startDate && { startDate: described.startDate }),
    ...(described.stopDate && { stopDate: described.stopDate }),
  };
}

/** SDK errors as one clear line: bad names and inputs exit 2, the rest 1. */
export function asAwsCliError(error: unknown, what: string): unknown {
  if (error instanceof CliError) return error;
  if (!(error instanceof Error)) return error;
  const name = error.name;
  const message = error.message;
  if (/region is missing/i.test(message)) {
    return new CliError(`${what}: no AWS region: set AWS_REGION (or a profile with a region)`, 2);
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new CliError(
      `${what}: no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
      2,
    );
  }
  const input = new Set([
    'StateMachineDoesNotExist',
    'ExecutionAlreadyExists',
    'InvalidArn',
    'InvalidName',
    'InvalidExecutionInput',
    'ValidationException',
  ]);
  return new CliError(`${what}: ${name}: ${message}`, input.has(name) ? 2 : 1);
}

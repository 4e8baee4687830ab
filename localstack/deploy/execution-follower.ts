/**
 * Following a Step Functions execution through the API: the calls it needs (a seam tests stand in
 * for), polling with backoff while nothing happens, and the history read newest first. `mlops run
 * --aws` (bin/cli/run-aws.ts) follows executions on AWS with it, and `npm run local:e2e` follows
 * the deployed pipelines on LocalStack with it (`runExecution` below). It lives here, not in bin/,
 * because localstack/ never imports bin/; it imports nothing of the CLI.
 *
 * `runExecution` starts an execution and follows it, reporting states with the progress lines of
 * `mlops run`, until it ends or the check's time is up. A failed, aborted or timed-out execution
 * throws with the error and cause Step Functions recorded (the pipelines' Fail state carries the
 * step's own).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListStateMachinesCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { historyProgress } from './execution-progress';

/** The Step Functions calls `mlops run --aws` and `local:e2e` make; the seam their tests stand in for. */
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

export interface ExecutionEnd {
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
): Promise<ExecutionEnd> {
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
): ExecutionEnd {
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

export interface RunOptions {
  readonly stateMachineArn: string;
  readonly input: unknown;
  /** Give up (and leave the execution running) after this long. */
  readonly timeoutMs: number;
  /** The first wait between polls (it grows while nothing happens). @default 1000 */
  readonly pollMs?: number;
  /** A state entered (`→ Name`), left (`✓ Name 1.2s`) or failed (`✗ Name: error: cause`). */
  readonly onState?: (line: string) => void;
}

export interface FinishedExecution {
  readonly executionArn: string;
  readonly output: unknown;
  readonly seconds: number;
}

export class ExecutionFailedError extends Error {
  override name = 'ExecutionFailedError';
  constructor(
    readonly executionArn: string,
    readonly status: string,
    readonly error: string,
    readonly failureCause: string,
  ) {
    super(`${status}: ${error}${failureCause ? ` — ${failureCause}` : ''} (${executionArn})`);
  }
}

export async function runExecution(
  sfn: Pick<SFNClient, 'send'>,
  options: RunOptions,
): Promise<FinishedExecution> {
  const api = sdkStepFunctionsApi(sfn);
  const started = Date.now();
  const { executionArn } = await api.startExecution({
    stateMachineArn: options.stateMachineArn,
    name: executionNameFor(new Date(), 'e2e'),
    input: JSON.stringify(options.input),
  });
  const onState = options.onState;
  const progress = onState && historyProgress((line) => onState(line.trim()));
  // The execution's own cause, else the last failed task's (a Catch may end it without one).
  let taskCause = '';
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const done = await followExecution(api, executionArn, {
    signal: timeout,
    ...(options.pollMs !== undefined && { minPollMs: options.pollMs }),
    onEvent: (event) => {
      progress?.(event);
      taskCause =
        (event.lambdaFunctionFailedEventDetails ?? event.taskFailedEventDetails)?.cause ?? taskCause;
    },
  }).catch((error: unknown) => {
    if (!timeout.aborted) throw error;
    throw new ExecutionFailedError(
      executionArn,
      'STILL RUNNING',
      `no end after ${options.timeoutMs / 1000}s`,
      'the execution was left running',
    );
  });
  if (done.status !== 'SUCCEEDED') {
    throw new ExecutionFailedError(
      executionArn,
      done.status,
      done.error ?? 'unknown error',
      done.cause ?? taskCause,
    );
  }
  return {
    executionArn,
    output: done.output ? (JSON.parse(done.output) as unknown) : null,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * Starts a deployed state machine through the Step Functions API and follows the execution to its
 * end, reporting each state it leaves; a failed, aborted or timed-out execution throws with the
 * error and cause Step Functions recorded (the pipelines' Fail state carries the step's own).
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';

export interface FollowOptions {
  readonly stateMachineArn: string;
  readonly input: unknown;
  /** Give up (and leave the execution running) after this long. */
  readonly timeoutMs: number;
  /** @default 2000 */
  readonly pollMs?: number;
  /** A state left (`✓ Name`) or a task failed (`✗ Name: error`), as it shows up in the history. */
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
  options: FollowOptions,
): Promise<FinishedExecution> {
  const started = Date.now();
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: options.stateMachineArn,
      input: JSON.stringify(options.input),
    }),
  );
  if (!executionArn)
    throw new Error(`StartExecution of ${options.stateMachineArn} returned no execution ARN`);
  let seenEvents = 0;
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const events = await history(sfn, executionArn);
    for (const event of events.slice(seenEvents)) {
      const line = describeEvent(event);
      if (line) options.onState?.(line);
    }
    seenEvents = events.length;
    const status = execution.status ?? 'UNKNOWN';
    if (status === 'SUCCEEDED') {
      return {
        executionArn,
        output: execution.output ? (JSON.parse(execution.output) as unknown) : null,
        seconds: (Date.now() - started) / 1000,
      };
    }
    if (status !== 'RUNNING' && status !== 'PENDING_REDRIVE') {
      throw new ExecutionFailedError(
        executionArn,
        status,
        execution.error ?? 'unknown error',
        execution.cause ?? lastFailureCause(events),
      );
    }
    if (Date.now() - started > options.timeoutMs) {
      throw new ExecutionFailedError(
        executionArn,
        'STILL RUNNING',
        `no end after ${options.timeoutMs / 1000}s`,
        'the execution was left running',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2000));
  }
}

async function history(sfn: Pick<SFNClient, 'send'>, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 1000,
        includeExecutionData: false,
        nextToken,
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** One progress line for the events worth a line: states left and tasks that failed. */
export function describeEvent(event: HistoryEvent): string | undefined {
  if (event.type?.endsWith('StateExited') && event.stateExitedEventDetails?.name) {
    return `✓ ${event.stateExitedEventDetails.name}`;
  }
  const failure = event.lambdaFunctionFailedEventDetails ?? event.taskFailedEventDetails;
  if (failure) return `✗ ${failure.error ?? 'failed'}${failure.cause ? `: ${oneLine(failure.cause)}` : ''}`;
  return undefined;
}

function lastFailureCause(events: readonly HistoryEvent[]): string {
  for (const event of [...events].reverse()) {
    const failure = event.lambdaFunctionFailedEventDetails ?? event.taskFailedEventDetails;
    if (failure?.cause) return failure.cause;
  }
  return '';
}

function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

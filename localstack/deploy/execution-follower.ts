/**
 * How `npm run local:e2e` runs a deployed pipeline: starts the execution and follows it with the
 * follower of `mlops run --aws` (bin/cli/run-aws.ts: backoff while nothing happens, the history
 * read newest first, stoppable), reporting states with the same progress lines, until it ends or
 * the check's time is up. A failed, aborted or timed-out execution throws with the error and cause
 * Step Functions recorded (the pipelines' Fail state carries the step's own).
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { executionNameFor, followExecution, sdkStepFunctionsApi } from '../../bin/cli/run-aws';
import { historyProgress } from '../../bin/cli/run-progress';

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

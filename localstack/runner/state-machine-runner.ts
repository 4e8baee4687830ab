/**
 * The Docker-free local runner: executes the ASL files in `stepfunctions/` unchanged with
 * aws-local-stepfunctions, binding each Task's `Resource` (after the same `${…}` substitutions
 * CDK applies) to an in-process handler. The demo, the `mlops` CLI and the end-to-end test use it.
 *
 * `states:ListExecutions` (the `aws-sdk:sfn:listExecutions` integration the training pipeline's
 * overlap guard calls) is answered by the runner itself from the executions it is running in this
 * process: a state machine is its ASL file, `$$.StateMachine.Id` its local ARN.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An in-process stand-in for a Task's resource (a Lambda handler, or a service integration). */
export type LocalTaskHandler = (input: JsonValue) => Promise<JsonValue> | JsonValue;

export interface RunOptions {
  /** The values CDK passes as `definitionSubstitutions`. */
  substitutions: Record<string, string>;
  /** Handlers keyed by the substituted `Resource` of the Task states they stand in for. */
  handlers: Record<string, LocalTaskHandler>;
  input: JsonValue;
  /**
   * The execution's id in the context object (`$$.Execution.Id`); `$$.Execution.Input` is always
   * the run's input, which aws-local-stepfunctions does not fill in by itself.
   * @default `arn:aws:states:local:000000000000:execution:<file name>:<random id>`
   */
  executionId?: string;
  /**
   * The state machine's ARN in the context object (`$$.StateMachine.Id`), and the key the
   * runner's `listExecutions` answers by. @default `arn:aws:states:local:000000000000:stateMachine:<file name>`
   */
  stateMachineArn?: string;
  /** Called for each state entered and left, for progress displays. */
  onEvent?: (event: RunnerEvent) => void;
}

export interface RunnerEvent {
  type: 'entered' | 'exited' | 'failed' | 'retried' | 'caught';
  state: string;
  /** Index of the Map iteration the state ran in, if any. */
  iteration?: number;
  error?: string;
}

export class UnboundPlaceholderError extends Error {
  override name = 'UnboundPlaceholderError';
}

export class UnboundTaskError extends Error {
  override name = 'UnboundTaskError';
}

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** The placeholders an ASL file uses, in order of first appearance. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/** Applies the substitutions the way CloudFormation's DefinitionSubstitutions does; every one must be bound. */
export function substitute(text: string, substitutions: Record<string, string>): string {
  const missing = placeholdersOf(text).filter((name) => !(name in substitutions));
  if (missing.length > 0) {
    throw new UnboundPlaceholderError(
      `no value for placeholder(s) ${missing.map((m) => `\${${m}}`).join(', ')}`,
    );
  }
  return text.replace(PLACEHOLDER, (_, name: string) => substitutions[name] as string);
}

export function loadDefinition(file: string, substitutions: Record<string, string>): Record<string, unknown> {
  return JSON.parse(substitute(readFileSync(file, 'utf8'), substitutions)) as Record<string, unknown>;
}

interface StateDefinition {
  Type?: string;
  Resource?: string;
  Iterator?: { States?: Record<string, StateDefinition> };
  ItemProcessor?: { States?: Record<string, StateDefinition> };
  Branches?: { States?: Record<string, StateDefinition> }[];
}

/** Every Task state, nested ones in Map and Parallel states included: name → resource. */
export function taskResources(definition: { States?: Record<string, StateDefinition> }): Map<string, string> {
  const tasks = new Map<string, string>();
  const visit = (states: Record<string, StateDefinition> | undefined) => {
    for (const [name, state] of Object.entries(states ?? {})) {
      if (state.Type === 'Task' && state.Resource) tasks.set(name, state.Resource);
      visit(state.Iterator?.States);
      visit(state.ItemProcessor?.States);
      for (const branch of state.Branches ?? []) visit(branch.States);
    }
  };
  visit(definition.States);
  return tasks;
}

/** The Step Functions SDK integration the runner answers itself (see the module comment). */
export const LIST_EXECUTIONS = 'arn:aws:states:::aws-sdk:sfn:listExecutions';

interface LocalExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly startDate: string;
}

/** The executions this process is running, oldest first. */
const runningExecutions: LocalExecution[] = [];

/**
 * `states:ListExecutions` over this process's executions, as the SDK integration returns it:
 * `{ Executions: [{ ExecutionArn, StateMachineArn, Name, Status, StartDate }] }`, newest first.
 * Only `RUNNING` is known here (finished runs are not kept); another `StatusFilter` lists nothing.
 */
export function listLocalExecutions(input: JsonValue): JsonValue {
  const request = (input ?? {}) as {
    StateMachineArn?: unknown;
    StatusFilter?: unknown;
    MaxResults?: unknown;
  };
  if (typeof request.StateMachineArn !== 'string' || request.StateMachineArn === '') {
    throw Object.assign(new Error('StateMachineArn is required'), { name: 'Sfn.InvalidArnException' });
  }
  const limit = typeof request.MaxResults === 'number' && request.MaxResults > 0 ? request.MaxResults : 100;
  const status = request.StatusFilter ?? 'RUNNING';
  const executions =
    status === 'RUNNING'
      ? runningExecutions.filter((e) => e.stateMachineArn === request.StateMachineArn).reverse()
      : [];
  return {
    Executions: executions.slice(0, limit).map((e) => ({
      ExecutionArn: e.executionArn,
      StateMachineArn: e.stateMachineArn,
      Name: e.executionArn.slice(e.executionArn.lastIndexOf(':') + 1),
      Status: 'RUNNING',
      StartDate: e.startDate,
    })),
  };
}

/** Runs one execution to its end and returns its output; a failed execution throws with its error and cause. */
export async function runStateMachine(file: string, options: RunOptions): Promise<JsonValue> {
  const definition = loadDefinition(file, options.substitutions);
  const overrides: Record<string, LocalTaskHandler> = {};
  const builtIns: Record<string, LocalTaskHandler> = { [LIST_EXECUTIONS]: listLocalExecutions };
  for (const [state, resource] of taskResources(definition)) {
    const handler = options.handlers[resource] ?? builtIns[resource];
    overrides[state] =
      handler ??
      (() => {
        // Only fails if the execution actually reaches this state (e.g. a large-data branch).
        throw new UnboundTaskError(`state "${state}" uses ${resource}, which has no local handler`);
      });
  }
  const machine = new StateMachine(definition as unknown as ConstructorParameters<typeof StateMachine>[0], {
    validationOptions: { checkArn: false, checkPaths: true },
  });
  const name = basename(file, '.asl.json');
  const executionId =
    options.executionId ?? `arn:aws:states:local:000000000000:execution:${name}:${randomUUID()}`;
  const stateMachineArn = options.stateMachineArn ?? `arn:aws:states:local:000000000000:stateMachine:${name}`;
  const running: LocalExecution = {
    executionArn: executionId,
    stateMachineArn,
    startDate: new Date().toISOString(),
  };
  runningExecutions.push(running);
  try {
    const execution = machine.run(options.input, {
      overrides: { taskResourceLocalHandlers: overrides },
      context: {
        Execution: { Id: executionId, Input: options.input as never },
        StateMachine: { Id: stateMachineArn },
      } as never,
    });
    const events = options.onEvent ? forward(execution.eventLogs, options.onEvent) : Promise.resolve();
    try {
      return (await execution.result) as JsonValue;
    } finally {
      await events.catch(() => {});
    }
  } finally {
    runningExecutions.splice(runningExecutions.indexOf(running), 1);
  }
}

async function forward(logs: AsyncGenerator<unknown>, onEvent: (event: RunnerEvent) => void): Promise<void> {
  for await (const log of logs) {
    const event = toRunnerEvent(log as EventLogEntry);
    if (event) onEvent(event);
  }
}

/** The fields of aws-local-stepfunctions' event log entries used here (its EventLog type is not exported). */
interface EventLogEntry {
  type: string;
  state?: { name: string };
  index?: number;
  Error?: string;
  Cause?: string;
}

const EVENT_TYPES: Record<string, RunnerEvent['type']> = {
  StateEntered: 'entered',
  StateExited: 'exited',
  StateFailed: 'failed',
  StateRetried: 'retried',
  StateCaught: 'caught',
};

function toRunnerEvent(log: EventLogEntry): RunnerEvent | undefined {
  const type = EVENT_TYPES[log.type];
  if (!type || !log.state) return undefined;
  const event: RunnerEvent = { type, state: log.state.name };
  if (typeof log.index === 'number') event.iteration = log.index;
  if (type === 'failed') event.error = `${log.Error ?? 'Error'}: ${log.Cause ?? ''}`;
  return event;
}

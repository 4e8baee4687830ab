/**
 * The progress lines of a state machine run, one per state entered, left, failed, retried or
 * caught; `mlops run` prints them for a local run (bin/cli/run-progress.ts, from the runner's
 * events) and for a deployed one, and `npm run local:e2e` for the pipelines it follows on
 * LocalStack (`historyProgress`, from the execution history).
 *
 *   → IngestData
 *   ✓ IngestData 0.4s
 *   ✗ IngestData 0.1s: StepInputError: source.prefix: no objects under s3://…
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { RunnerEvent } from '../runner/state-machine-runner';

export type StateMark = RunnerEvent['type'];

export interface StateProgress {
  readonly mark: StateMark;
  readonly state: string;
  /** The Map iteration the state ran in. */
  readonly iteration?: number;
  readonly seconds?: number;
  readonly detail?: string;
}

const MARKS: Readonly<Record<StateMark, string>> = {
  entered: '→',
  exited: '✓',
  failed: '✗',
  retried: '↻',
  caught: '↪',
};

/** A progress line stays one line: causes can be long (and, from AWS, multi-line). */
const DETAIL_LIMIT = 300;

export function stateLine(progress: StateProgress): string {
  const where = progress.iteration === undefined ? '' : ` [${progress.iteration}]`;
  const took = progress.seconds === undefined ? '' : ` ${progress.seconds.toFixed(1)}s`;
  const detail = progress.detail ? `: ${oneLine(progress.detail)}` : '';
  return `  ${MARKS[progress.mark]} ${progress.state}${where}${took}${detail}`;
}

/**
 * The printer of a deployed execution's history events. Failures of tasks, Lambda calls and
 * Map iterations are named after the state they happened in (found through `previousEventId`).
 */
export function historyProgress(write: (line: string) => void): (event: HistoryEvent) => void {
  const seen = new Map<number, HistoryEvent>();
  const open = new Map<string, Date[]>();
  return (event) => {
    if (event.id !== undefined) seen.set(event.id, event);
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) {
      const state = event.stateEnteredEventDetails?.name ?? '?';
      if (event.timestamp) open.set(state, [...(open.get(state) ?? []), event.timestamp]);
      write(stateLine({ mark: 'entered', state }));
      return;
    }
    if (type.endsWith('StateExited')) {
      const state = event.stateExitedEventDetails?.name ?? '?';
      const starts = open.get(state) ?? [];
      // With several open entries (Map iterations running at once) the pairing is unknown: no duration.
      const seconds =
        starts.length === 1 && event.timestamp && starts[0]
          ? (event.timestamp.getTime() - starts[0].getTime()) / 1000
          : undefined;
      open.set(state, starts.slice(1));
      write(stateLine({ mark: 'exited', state, ...(seconds !== undefined && { seconds }) }));
      return;
    }
    if (isStepFailure(type)) {
      const details = failureDetails(event);
      const state = stateOf(event, seen) ?? type;
      const index = event.mapIterationFailedEventDetails?.index;
      const error = details?.error ?? type;
      const cause = details?.cause ? readableCause(details.cause) : '';
      write(
        stateLine({
          mark: 'failed',
          state,
          ...(index !== undefined && { iteration: index }),
          detail: cause ? `${error}: ${cause}` : error,
        }),
      );
    }
  };
}

/** A failure inside the execution (the execution's own end is reported once, by the caller). */
function isStepFailure(type: string): boolean {
  return !type.startsWith('Execution') && (type.endsWith('Failed') || type.endsWith('TimedOut'));
}

function failureDetails(event: HistoryEvent): { error?: string; cause?: string } | undefined {
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || typeof value !== 'object' || value === null) continue;
    const { error, cause } = value as { error?: unknown; cause?: unknown };
    if (typeof error === 'string' || typeof cause === 'string') {
      return {
        ...(typeof error === 'string' && { error }),
        ...(typeof cause === 'string' && { cause }),
      };
    }
  }
  return undefined;
}

/** The state an event happened in: the nearest StateEntered before it in its `previousEventId` chain. */
function stateOf(event: HistoryEvent, seen: ReadonlyMap<number, HistoryEvent>): string | undefined {
  let current: HistoryEvent | undefined = event;
  for (let hops = 0; current && hops < 50; hops += 1) {
    if (current.type?.endsWith('StateEntered')) return current.stateEnteredEventDetails?.name;
    if (current.mapIterationFailedEventDetails?.name) return current.mapIterationFailedEventDetails.name;
    current = current.previousEventId === undefined ? undefined : seen.get(current.previousEventId);
  }
  return undefined;
}

/**
 * A Lambda task's cause is the function's error as JSON (`errorType`, `errorMessage`, `trace`):
 * people get the message, never the stack trace.
 */
export function readableCause(cause: string): string {
  const trimmed = cause.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  try {
    const parsed = JSON.parse(trimmed) as { errorMessage?: unknown; errorType?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON after all: shown as it is.
  }
  return trimmed;
}

function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ').trim();
  return line.length > DETAIL_LIMIT ? `${line.slice(0, DETAIL_LIMIT - 1)}…` : line;
}

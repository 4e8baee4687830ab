/**
 * `mlops run`'s progress on stderr for a local run: the runner's events as the same lines a
 * deployed execution's history gives (localstack/deploy/execution-progress.ts).
 */
import { stateLine } from '../../localstack/deploy/execution-progress';
import type { RunnerEvent } from '../../localstack/runner/state-machine-runner';

/**
 * The printer of a local run's events. A state whose error was caught is not also shown as left
 * (the runner reports it as exited), so the lines read failed → caught → the Catch's next state.
 */
export function localProgress(
  write: (line: string) => void,
  now: () => number = () => performance.now(),
): (event: RunnerEvent) => void {
  const entered = new Map<string, number>();
  const failed = new Set<string>();
  return (event) => {
    const key = `${event.state}#${event.iteration ?? ''}`;
    const at = now();
    const base = { state: event.state, ...(event.iteration !== undefined && { iteration: event.iteration }) };
    if (event.type === 'entered') {
      entered.set(key, at);
      failed.delete(key);
      write(stateLine({ mark: 'entered', ...base }));
      return;
    }
    if (event.type === 'exited' && failed.has(key)) return;
    if (event.type === 'failed') failed.add(key);
    const started = entered.get(key);
    const seconds = started === undefined || event.type === 'caught' ? undefined : (at - started) / 1000;
    const detail =
      event.type === 'failed'
        ? event.error
        : event.type === 'caught'
          ? 'caught, going on with the Catch'
          : event.type === 'retried'
            ? 'retrying'
            : undefined;
    write(
      stateLine({
        mark: event.type,
        ...base,
        ...(seconds !== undefined && event.type !== 'retried' && { seconds }),
        ...(detail && { detail }),
      }),
    );
  };
}

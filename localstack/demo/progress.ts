/**
 * The demo's progress display on stderr: one line per step and per state a pipeline leaves, each
 * with its duration, so a reader sees where the time goes. stdout stays free for `--json`.
 */
import type { RunnerEvent } from '../runner/state-machine-runner';

export interface Progress {
  /** Runs one numbered step, printing its start, its states and its duration; rethrows its error. */
  step<T>(title: string, work: () => Promise<T>): Promise<T>;
  /** A line of detail under the current step. */
  note(line: string): void;
  /** Feeds a pipeline's state events to the display (pass as `runPipeline`'s `onEvent`). */
  readonly onEvent: (event: RunnerEvent) => void;
}

export function createProgress(write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {
  let stepNumber = 0;
  const entered = new Map<string, number>();
  const key = (event: RunnerEvent) => `${event.state}#${event.iteration ?? ''}`;

  function onEvent(event: RunnerEvent): void {
    const at = performance.now();
    if (event.type === 'entered') {
      entered.set(key(event), at);
      return;
    }
    const started = entered.get(key(event));
    const took = started === undefined ? '' : ` ${seconds(at - started)}`;
    const where = event.iteration === undefined ? '' : ` [${event.iteration}]`;
    const mark = { exited: '✓', failed: '✗', retried: '↻', caught: '↪' }[event.type];
    write(`     ${mark} ${event.state}${where}${took}${event.error ? ` (${event.error})` : ''}`);
  }

  const progress: Progress = {
    async step(title, work) {
      stepNumber += 1;
      write(`${stepNumber}. ${title}`);
      const started = performance.now();
      try {
        const result = await work();
        write(`   done in ${seconds(performance.now() - started)}`);
        return result;
      } catch (error) {
        write(`   failed after ${seconds(performance.now() - started)}`);
        throw error;
      }
    },
    note(line) {
      write(`   ${line}`);
    },
    onEvent,
  };
  return progress;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

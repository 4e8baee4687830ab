/**
 * One e-mail per breach episode: the first run over the threshold opens an episode and alerts,
 * later breaching runs stay quiet, and the first run back under the threshold closes the episode
 * with a recovery e-mail. The state lives in a durable store (S3 in AWS and locally) so that
 * separate monitoring executions agree on it.
 */
export interface AlertEpisodeState {
  readonly inBreach: boolean;
  /** When the current (or last) episode opened. */
  readonly since?: string;
  readonly lastValue?: number;
  readonly lastRunAt?: string;
  readonly alertsSent: number;
}

export type AlertDecision = 'breach' | 'recovery' | 'none';

export const NO_EPISODE: AlertEpisodeState = { inBreach: false, alertsSent: 0 };

export function decideAlert(previous: AlertEpisodeState, drifted: boolean): AlertDecision {
  if (drifted && !previous.inBreach) return 'breach';
  if (!drifted && previous.inBreach) return 'recovery';
  return 'none';
}

/** The state to store after a run, once any e-mail it called for has been sent. */
export function nextEpisodeState(
  previous: AlertEpisodeState,
  run: { drifted: boolean; value: number; at: string },
): AlertEpisodeState {
  const decision = decideAlert(previous, run.drifted);
  return {
    inBreach: run.drifted,
    since: decision === 'breach' ? run.at : previous.since,
    lastValue: run.value,
    lastRunAt: run.at,
    alertsSent: previous.alertsSent + (decision === 'none' ? 0 : 1),
  };
}

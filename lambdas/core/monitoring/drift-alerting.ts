import { decideAlert, nextEpisodeState } from './alert-episode';
import type { AlertSender } from './alert-sender';
import { composeDriftEmail, type DriftEmailFacts } from './drift-email';
import type { EpisodeStore } from './episode-store';

export interface DriftAlertInput extends Omit<DriftEmailFacts, 'kind'> {
  readonly drifted: boolean;
}

export interface DriftAlertOutcome {
  readonly decision: ReturnType<typeof decideAlert>;
  readonly messageId?: string;
  readonly episodeSince?: string;
}

/**
 * Applies one monitoring run's verdict: sends the breach or recovery e-mail when the episode
 * changes, then records the new state. The state is saved only after a successful send, so a
 * failed send is retried by the next run instead of being lost.
 */
export async function alertOnDrift(
  input: DriftAlertInput,
  deps: { store: EpisodeStore; sender: AlertSender },
): Promise<DriftAlertOutcome> {
  const key = input.modelName;
  const previous = await deps.store.load(key);
  const next = nextEpisodeState(previous, {
    drifted: input.drifted,
    value: input.value,
    at: input.timestamp,
  });
  const decision = decideAlert(previous, input.drifted);
  let messageId: string | undefined;
  if (decision !== 'none') {
    messageId = await deps.sender.send(composeDriftEmail({ ...input, kind: decision }));
  }
  await deps.store.save(key, next);
  return {
    decision,
    ...(messageId ? { messageId } : {}),
    ...(next.since ? { episodeSince: next.since } : {}),
  };
}

/**
 * Moving an alias and remembering it: the alias first (it is what serving follows), then the
 * history tag on the model and the time on the version. Promote and rollback both end here.
 */
import {
  type AliasHistoryEntry,
  appendAliasHistory,
  historyTagKey,
  promotedTagKey,
  serializeAliasHistory,
} from './alias-history';
import { HistoryNotRecordedError } from './errors';
import type { RegistryClient } from './registry-client';

export interface AliasMove {
  readonly model: string;
  readonly alias: string;
  /** The history as read before the move. */
  readonly history: readonly AliasHistoryEntry[];
  readonly entry: AliasHistoryEntry;
}

/**
 * Sets the alias and records the move; returns the history as written. The history is
 * read-modify-write on one tag, so two moves of the same alias at the same instant can lose one
 * entry; the alias itself is always the last one set, as in MLflow.
 */
export async function moveAlias(client: RegistryClient, move: AliasMove): Promise<AliasHistoryEntry[]> {
  const { model, alias, entry } = move;
  await client.setRegisteredModelAlias(model, alias, entry.version);
  const history = appendAliasHistory(move.history, entry);
  try {
    await client.setRegisteredModelTag(model, historyTagKey(alias), serializeAliasHistory(history));
    await client.setModelVersionTag({
      name: model,
      version: entry.version,
      key: promotedTagKey(alias),
      value: entry.at,
    });
  } catch (error) {
    throw new HistoryNotRecordedError(model, alias, entry.version, { cause: error });
  }
  return history;
}

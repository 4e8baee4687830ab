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

export interface AliasChange {
  readonly model: string;
  readonly alias: string;
  /** The version the alias points at now. */
  readonly version: string;
  /** The version it pointed at before (null: it was not set). */
  readonly previous: string | null;
  /** False when the alias already pointed at the version: nothing was written. */
  readonly changed: boolean;
  /** ISO time of the move (of the check, for a no-op). */
  readonly at: string;
  readonly runId: string | null;
  /** The alias history as it stands afterwards, newest last. */
  readonly history: readonly AliasHistoryEntry[];
  /** One line for people. */
  readonly message: string;
}

export interface AliasMoveOptions {
  /** @default () => new Date() */
  readonly now?: () => Date;
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

/** A move as promote and rollback decide it, before it is written. */
export interface AliasChangeRequest {
  readonly model: string;
  readonly alias: string;
  /** The history as read before the move. */
  readonly history: readonly AliasHistoryEntry[];
  readonly action: AliasHistoryEntry['action'];
  readonly version: string;
  readonly previous: string | null;
  /** ISO time of the move. */
  readonly at: string;
  /** Why and who, as given: trimmed here, and left out of the history when blank. */
  readonly reason?: string | undefined;
  readonly actor?: string | undefined;
  /** The run of the version moved to, for the answer. */
  readonly runId: string | null;
  /** One line for people. */
  readonly message: string;
}

/** Records the entry, moves the alias as `moveAlias` does, and says what changed. */
export async function changeAlias(client: RegistryClient, request: AliasChangeRequest): Promise<AliasChange> {
  const { model, alias, action, version, previous, at, runId, message } = request;
  const reason = request.reason?.trim();
  const actor = request.actor?.trim();
  const entry: AliasHistoryEntry = {
    action,
    version,
    at,
    previous,
    ...(reason && { reason }),
    ...(actor && { actor }),
  };
  const history = await moveAlias(client, { model, alias, history: request.history, entry });
  return { model, alias, version, previous, changed: true, at, runId, history, message };
}

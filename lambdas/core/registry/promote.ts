/** `promote`: point an alias at a version, after checking the version can take it, and remember the move. */
import { type AliasHistoryEntry, historyTagKey, parseAliasHistory } from './alias-history';
import { moveAlias } from './alias-move';
import { VersionNotReadyError } from './errors';
import { checkAlias, checkModelName, DEFAULT_ALIAS, parseVersion } from './registry-arguments';
import type { RegistryClient } from './registry-client';
import { aliasVersion, getModel, getVersion, tagValue } from './registry-lookups';

export interface PromoteRequest {
  readonly model: string;
  readonly version: string | number;
  /** @default 'Production' */
  readonly alias?: string;
  /** Why, for the history (cut to 200 characters). */
  readonly reason?: string;
  /** Who: a user name, `training-pipeline`, … (cut to 100 characters). */
  readonly actor?: string;
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

export async function promote(
  client: RegistryClient,
  request: PromoteRequest,
  options: AliasMoveOptions = {},
): Promise<AliasChange> {
  const model = checkModelName(request.model);
  const version = parseVersion(request.version);
  const alias = checkAlias(request.alias ?? DEFAULT_ALIAS);
  const at = (options.now ?? (() => new Date()))().toISOString();

  const registered = await getModel(client, model);
  const target = await getVersion(client, model, version);
  if (target.status !== undefined && target.status !== 'READY') {
    throw new VersionNotReadyError(model, version, target.status);
  }
  const history = parseAliasHistory(model, alias, tagValue(registered.tags, historyTagKey(alias)));
  const previous = aliasVersion(registered, alias);
  const runId = target.run_id || null;
  if (previous === version) {
    return {
      model,
      alias,
      version,
      previous,
      changed: false,
      at,
      runId,
      history,
      message: `${model} alias ${alias} already points at version ${version}; nothing changed`,
    };
  }
  const entry: AliasHistoryEntry = {
    action: 'promote',
    version,
    at,
    previous,
    ...(request.reason?.trim() && { reason: request.reason.trim() }),
    ...(request.actor?.trim() && { actor: request.actor.trim() }),
  };
  const written = await moveAlias(client, { model, alias, history, entry });
  return {
    model,
    alias,
    version,
    previous,
    changed: true,
    at,
    runId,
    history: written,
    message: `${model} alias ${alias}: ${previous === null ? 'set to' : `version ${previous} →`} version ${version}`,
  };
}

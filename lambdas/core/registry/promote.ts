/** `promote`: point an alias at a version, after checking the version can take it, and remember the move. */
import { historyTagKey, parseAliasHistory } from './alias-history';
import { type AliasChange, type AliasMoveOptions, changeAlias } from './alias-move';
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
  return changeAlias(client, {
    model,
    alias,
    history,
    action: 'promote',
    version,
    previous,
    at,
    reason: request.reason,
    actor: request.actor,
    runId,
    message: `${model} alias ${alias}: ${previous === null ? 'set to' : `version ${previous} →`} version ${version}`,
  });
}

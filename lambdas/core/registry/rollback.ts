/** `rollback`: move an alias back to the version it pointed at before, as its history says. */
import { historyTagKey, parseAliasHistory, rollbackTarget } from './alias-history';
import { type AliasChange, type AliasMoveOptions, changeAlias } from './alias-move';
import { AliasNotSetError, PreviousVersionDeletedError } from './errors';
import { checkAlias, checkModelName, DEFAULT_ALIAS } from './registry-arguments';
import type { RegistryClient } from './registry-client';
import { aliasVersion, findVersion, getModel, tagValue } from './registry-lookups';

export interface RollbackRequest {
  readonly model: string;
  /** @default 'Production' */
  readonly alias?: string;
  readonly reason?: string;
  readonly actor?: string;
}

export async function rollback(
  client: RegistryClient,
  request: RollbackRequest,
  options: AliasMoveOptions = {},
): Promise<AliasChange> {
  const model = checkModelName(request.model);
  const alias = checkAlias(request.alias ?? DEFAULT_ALIAS);
  const at = (options.now ?? (() => new Date()))().toISOString();

  const registered = await getModel(client, model);
  const current = aliasVersion(registered, alias);
  if (current === null) throw new AliasNotSetError(model, alias);
  const history = parseAliasHistory(model, alias, tagValue(registered.tags, historyTagKey(alias)));
  const version = rollbackTarget(model, alias, history, current);
  // A deleted version cannot be served; going further back instead would be a guess.
  const target = await findVersion(client, model, version);
  if (!target) throw new PreviousVersionDeletedError(model, alias, current, version);

  return changeAlias(client, {
    model,
    alias,
    history,
    action: 'rollback',
    version,
    previous: current,
    at,
    reason: request.reason?.trim() || `rollback from version ${current}`,
    actor: request.actor,
    runId: target.run_id || null,
    message: `${model} alias ${alias} rolled back: version ${current} → version ${version}`,
  });
}

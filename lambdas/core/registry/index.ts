/**
 * Alias management on top of the MLflow client: promote a version to an alias, roll the alias
 * back (its history is kept in MLflow as a registered-model tag), and the status of the registry
 * beside what a predict API has loaded. No Lambda types: the CLI, the training pipeline's
 * promotion step and the demo call the same functions.
 */
export {
  type AliasHistoryEntry,
  aliasVersionStack,
  appendAliasHistory,
  HISTORY_LIMITS,
  HISTORY_TAG_PREFIX,
  historyTagKey,
  PROMOTED_TAG_PREFIX,
  parseAliasHistory,
  promotedTagKey,
  rollbackTarget,
  serializeAliasHistory,
} from './alias-history';
export type { AliasChange, AliasMoveOptions } from './alias-move';
export {
  type AliasComparison,
  type ApiStatusBody,
  type ApiStatusOptions,
  type ApiStatusReport,
  compareAliases,
  fetchApiStatus,
  statusUrl,
} from './api-status';
export {
  AliasHistoryCorruptError,
  AliasHistoryMismatchError,
  AliasNotSetError,
  HistoryNotRecordedError,
  InvalidRegistryArgumentError,
  ModelNotFoundError,
  NoPreviousVersionError,
  PreviousVersionDeletedError,
  RegistryError,
  VersionNotFoundError,
  VersionNotReadyError,
} from './errors';
export { type PromoteRequest, promote } from './promote';
export { checkAlias, checkModelName, DEFAULT_ALIAS, parseVersion } from './registry-arguments';
export type { RegistryClient } from './registry-client';
export { type RollbackRequest, rollback } from './rollback';
export {
  type AliasSummary,
  type ApiComparison,
  type ModelStatus,
  type RegistryStatus,
  type StatusRequest,
  status,
  type VersionSummary,
} from './status';

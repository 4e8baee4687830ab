/**
 * Checks of the model name, version and alias before MLflow is asked, with the rules MLflow's own
 * server applies (mlflow/utils/validation.py), so a typo fails in one clear line rather than as an
 * HTTP 400 from the server.
 */
import { isAliasName, isReservedAliasName, PRODUCTION_ALIAS } from '../settings';
import { InvalidRegistryArgumentError } from './errors';

export const DEFAULT_ALIAS = PRODUCTION_ALIAS;

/** An alias the predict function can follow (ALIAS_NAME_PATTERN) and MLflow does not reserve. */
export function checkAlias(alias: string): string {
  if (!isAliasName(alias)) {
    throw new InvalidRegistryArgumentError(
      'alias',
      `alias must be 1 to 255 letters, digits, '_' or '-', got '${alias}'`,
    );
  }
  if (isReservedAliasName(alias)) {
    throw new InvalidRegistryArgumentError('alias', `alias '${alias}' is reserved by MLflow`);
  }
  return alias;
}

/** A version as MLflow numbers them: 1, 2, 3, … (given as text on the command line). */
export function parseVersion(version: string | number): string {
  const text = String(version).trim();
  if (!/^[1-9]\d*$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new InvalidRegistryArgumentError('version', `version must be a positive integer, got '${version}'`);
  }
  return text;
}

/** MLflow refuses empty names and names with '/' or ':' (they would break `models:/` URIs). */
export function checkModelName(model: string): string {
  if (model.trim() === '') throw new InvalidRegistryArgumentError('model', 'model name must not be empty');
  if (/[/:]/.test(model)) {
    throw new InvalidRegistryArgumentError('model', `model name must not contain '/' or ':', got '${model}'`);
  }
  return model;
}

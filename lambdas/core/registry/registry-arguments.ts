/**
 * Checks of the model name, version and alias before MLflow is asked, with the rules MLflow's own
 * server applies (mlflow/utils/validation.py), so a typo fails in one clear line rather than as an
 * HTTP 400 from the server.
 */
import { InvalidRegistryArgumentError } from './errors';

export const DEFAULT_ALIAS = 'Production';

/**
 * ASCII letters, digits, `_` and `-`, up to 255 characters. MLflow also accepts non-ASCII letters
 * (Python's `\w`), but the predict function only follows ASCII aliases, so an alias it could not
 * serve is refused here.
 */
const ALIAS_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
/** MLflow reserves `latest` and `v<digits>` (they address versions in `models:/` URIs). */
const RESERVED_VERSION_ALIAS = /^[vV]\d+$/;

export function checkAlias(alias: string): string {
  if (!ALIAS_PATTERN.test(alias)) {
    throw new InvalidRegistryArgumentError(
      'alias',
      `alias must be 1 to 255 letters, digits, '_' or '-', got '${alias}'`,
    );
  }
  if (alias.toLowerCase() === 'latest' || RESERVED_VERSION_ALIAS.test(alias)) {
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

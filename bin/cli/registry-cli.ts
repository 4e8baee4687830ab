/**
 * What the promote, rollback and status commands share: the MLflow client from the environment,
 * the mapping of registry and MLflow errors to one-line CLI errors, and the history table.
 */
import { userInfo } from 'node:os';
import { MlflowClient, MlflowConfigError, MlflowError } from '../../lambdas/core/mlflow';
import {
  type AliasHistoryEntry,
  InvalidRegistryArgumentError,
  ModelNotFoundError,
  RegistryError,
  VersionNotFoundError,
} from '../../lambdas/core/registry';
import { CliError, table } from './output';

/** The registry client from `MLFLOW_TRACKING_URI` and friends; a missing or bad variable is exit 2. */
export function registryClientFromEnv(env: NodeJS.ProcessEnv = process.env): MlflowClient {
  try {
    return MlflowClient.fromEnv(env);
  } catch (error) {
    if (error instanceof MlflowConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

/**
 * Runs a registry call with its errors as CLI errors: a bad argument, or a model or version that
 * does not exist, is exit 2 (the caller named it); a refusal or MLflow failing is exit 1.
 */
export async function asCliErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (
      error instanceof InvalidRegistryArgumentError ||
      error instanceof ModelNotFoundError ||
      error instanceof VersionNotFoundError
    ) {
      throw new CliError(error.message, 2);
    }
    if (error instanceof RegistryError || error instanceof MlflowError) throw new CliError(error.message, 1);
    throw error;
  }
}

/** Who ran the command, for the alias history; left out when the OS cannot say. */
export function currentActor(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    // No passwd entry for the uid (some containers): fall back to the environment.
    return process.env.USER || process.env.LOGNAME || undefined;
  }
}

/** `2025-01-02T03:04:05.678Z` → `2025-01-02 03:04:05Z`; `-` for none. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** The newest `count` history entries, oldest first, as a table. */
export function historyTable(history: readonly AliasHistoryEntry[], count = 5): string {
  return table(
    ['AT', 'ACTION', 'VERSION', 'PREVIOUS', 'ACTOR', 'REASON'],
    history
      .slice(-count)
      .map((entry) => [
        shortTime(entry.at),
        entry.action,
        entry.version,
        entry.previous ?? '-',
        entry.actor ?? '-',
        entry.reason ?? '-',
      ]),
  );
}

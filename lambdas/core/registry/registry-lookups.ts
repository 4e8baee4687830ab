/** Reads shared by promote, rollback and status, turning MLflow's "not found" into the registry's errors. */
import { MlflowApiError, type ModelVersion, orUndefinedIfMissing, type RegisteredModel } from '../mlflow';
import { ModelNotFoundError, VersionNotFoundError } from './errors';
import type { RegistryClient } from './registry-client';

export async function getModel(client: RegistryClient, model: string): Promise<RegisteredModel> {
  try {
    return await client.getRegisteredModel(model);
  } catch (error) {
    if (error instanceof MlflowApiError && error.isNotFound) throw new ModelNotFoundError(model);
    throw error;
  }
}

/** The version, or `VersionNotFoundError` listing the versions that do exist. */
export async function getVersion(
  client: RegistryClient,
  model: string,
  version: string,
): Promise<ModelVersion> {
  const found = await findVersion(client, model, version);
  if (found) return found;
  throw new VersionNotFoundError(model, version, await latestVersionNumbers(client, model));
}

/** The version, or undefined when MLflow has no such version (deleted or never made). */
export async function findVersion(
  client: RegistryClient,
  model: string,
  version: string,
): Promise<ModelVersion | undefined> {
  return orUndefinedIfMissing(client.getModelVersion(model, version));
}

/** The model's newest versions, newest first. */
export async function latestVersions(
  client: RegistryClient,
  model: string,
  count = 5,
): Promise<ModelVersion[]> {
  const literal = filterLiteral(model);
  // A name with both quote kinds cannot be written in MLflow's filter syntax; listing is then skipped.
  if (literal === undefined) return [];
  const page = await client.searchModelVersions({
    filter: `name = ${literal}`,
    order_by: ['version_number DESC'],
    max_results: count,
  });
  return page.model_versions;
}

export async function latestVersionNumbers(
  client: RegistryClient,
  model: string,
  count = 5,
): Promise<string[]> {
  return (await latestVersions(client, model, count)).map((version) => version.version);
}

/** The version an alias points at, from the model's alias list (no extra call). */
export function aliasVersion(model: RegisteredModel, alias: string): string | null {
  return model.aliases.find((entry) => entry.alias === alias)?.version ?? null;
}

export function tagValue(tags: readonly { key: string; value: string }[], key: string): string | undefined {
  return tags.find((tag) => tag.key === key)?.value;
}

/** A string as an MLflow filter literal, or undefined when it holds both quote kinds (not expressible). */
export function filterLiteral(value: string): string | undefined {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  return undefined;
}

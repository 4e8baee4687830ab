/**
 * Finding a version that is already registered, so a retried or re-run registration returns it
 * instead of creating a duplicate: by the run it was registered from (`run_id`), or by a tag such
 * as the training pipeline's fingerprint. Only usable versions count: a version that failed to
 * register is ignored, and of several the first registered wins.
 */
import type { ModelVersion } from '../mlflow';
import type { RegistryClient } from './registry-client';
import { filterLiteral } from './registry-lookups';

export class ExistingVersionLookupError extends Error {
  override name = 'ExistingVersionLookupError';
}

/** The first usable version of `model` registered from MLflow run `runId`, if any. */
export async function versionFromRun(
  client: Pick<RegistryClient, 'searchModelVersions'>,
  model: string,
  runId: string,
): Promise<ModelVersion | undefined> {
  return firstUsable(client, model, `run_id = ${literal(runId, 'runId')}`);
}

/** The first usable version of `model` whose tag `key` is `value`, if any. */
export async function versionWithTag(
  client: Pick<RegistryClient, 'searchModelVersions'>,
  model: string,
  key: string,
  value: string,
): Promise<ModelVersion | undefined> {
  if (!/^[A-Za-z0-9_.-]+$/.test(key)) {
    throw new ExistingVersionLookupError(`tag key must be letters, digits, '_', '.' or '-' (got '${key}')`);
  }
  return firstUsable(client, model, `tags.\`${key}\` = ${literal(value, `tag ${key}`)}`);
}

async function firstUsable(
  client: Pick<RegistryClient, 'searchModelVersions'>,
  model: string,
  condition: string,
): Promise<ModelVersion | undefined> {
  const page = await client.searchModelVersions({
    filter: `name = ${literal(model, 'model')} AND ${condition}`,
    order_by: ['version_number ASC'],
    max_results: 20,
  });
  return page.model_versions.find((version) => version.status !== 'FAILED_REGISTRATION');
}

function literal(value: string, field: string): string {
  const quoted = filterLiteral(value);
  if (quoted === undefined) {
    throw new ExistingVersionLookupError(
      `${field} cannot hold both ' and " in an MLflow search (got ${value})`,
    );
  }
  return quoted;
}

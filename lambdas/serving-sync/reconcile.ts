/**
 * The reconciler: MLflow's webhooks are not durable (in-process retries, a 60 s cache of the
 * webhook list), so every minute each served model's aliases in the registry and its manifests
 * in the bucket are compared, and every alias found on either side is published again
 * (publishAliasManifest, via `reconciler`): a missed move is written, a deleted alias loses its
 * manifest, an alias already in step costs one GET. One alias failing does not stop the others;
 * the summary says which failed and why.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { MlflowApiError, type MlflowClient } from '../core/mlflow';
import { manifestPrefix } from '../core/serving-manifest';
import { ALIAS_NAME_PATTERN } from '../core/settings';
import type { Publisher } from './sync-config';

export interface ReconcileDeps {
  readonly mlflow: MlflowClient;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly servedModels: readonly string[];
  readonly publish: Publisher;
}

export interface AliasOutcome {
  readonly alias: string;
  readonly action: 'written' | 'unchanged' | 'deleted' | 'absent' | 'failed';
  readonly version: string | null;
  readonly error?: string;
}

export interface ReconcileSummary {
  readonly models: readonly {
    readonly model: string;
    readonly aliases: readonly AliasOutcome[];
    readonly error?: string;
  }[];
  readonly written: number;
  readonly deleted: number;
  readonly failed: number;
}

export async function reconcile(deps: ReconcileDeps): Promise<ReconcileSummary> {
  const models: ReconcileSummary['models'][number][] = [];
  for (const model of deps.servedModels) {
    let registered: string[];
    let stored: string[];
    try {
      [registered, stored] = await Promise.all([
        registryAliases(deps.mlflow, model),
        manifestAliases(deps.s3, deps.bucket, model),
      ]);
    } catch (error) {
      models.push({ model, aliases: [], error: (error as Error).message });
      continue;
    }
    const names = [...new Set([...registered, ...stored])]
      .filter((alias) => ALIAS_NAME_PATTERN.test(alias))
      .sort();
    const aliases: AliasOutcome[] = [];
    for (const alias of names) {
      try {
        const result = await deps.publish({ model, alias, via: 'reconciler' });
        aliases.push({
          alias,
          action: result.action,
          version: 'manifest' in result ? result.manifest.version : null,
        });
      } catch (error) {
        aliases.push({ alias, action: 'failed', version: null, error: (error as Error).message });
      }
    }
    models.push({ model, aliases });
  }
  const count = (action: AliasOutcome['action']) =>
    models.reduce((sum, entry) => sum + entry.aliases.filter((alias) => alias.action === action).length, 0);
  return {
    models,
    written: count('written'),
    deleted: count('deleted'),
    failed: count('failed') + models.filter((entry) => entry.error !== undefined).length,
  };
}

/** The model's aliases in the registry; none when the model is not registered (yet). */
async function registryAliases(mlflow: MlflowClient, model: string): Promise<string[]> {
  try {
    return (await mlflow.getRegisteredModel(model)).aliases.map((entry) => entry.alias);
  } catch (error) {
    if (error instanceof MlflowApiError && error.isNotFound) return [];
    throw error;
  }
}

/** The aliases with a manifest under `serving/<model>/`. */
async function manifestAliases(s3: S3Client, bucket: string, model: string): Promise<string[]> {
  const prefix = manifestPrefix(model);
  const aliases: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const object of page.Contents ?? []) {
      const rest = object.Key?.slice(prefix.length) ?? '';
      if (rest.endsWith('.json') && !rest.includes('/')) aliases.push(rest.slice(0, -'.json'.length));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return aliases;
}

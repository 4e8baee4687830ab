/**
 * After `mlops promote` or `mlops rollback` moved an alias: the serving manifest of that alias is
 * written at once (publishAliasManifest, via `cli`), so the predict API follows without waiting
 * for the webhook or the reconciler. The bucket is `--bucket`, else SERVING_BUCKET, else the local
 * stack's (`.local/env`) when the CLI talks to the local MLflow; with none of them the move is left
 * to the deployed stack's webhook and reconciler, and the CLI says so.
 */
import type { MlflowClient } from '../../lambdas/core/mlflow';
import { type PublishResult, publishAliasManifest } from '../../lambdas/core/serving-manifest';
import { s3ClientFromEnv } from '../../lambdas/serving-sync/sync-config';
import { readEnvFile } from '../../localstack/services/services';

export interface ServingTarget {
  readonly bucket: string;
  /** The environment the S3 client is built from (the local endpoint and keys for the local stack). */
  readonly env: NodeJS.ProcessEnv;
  /** Where the bucket came from, for the message. */
  readonly from: '--bucket' | 'SERVING_BUCKET' | 'local';
}

export function servingTarget(
  bucketOption: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ServingTarget | undefined {
  if (bucketOption?.trim()) return { bucket: bucketOption.trim(), env, from: '--bucket' };
  if (env.SERVING_BUCKET?.trim()) return { bucket: env.SERVING_BUCKET.trim(), env, from: 'SERVING_BUCKET' };
  const local = readEnvFile();
  if (!local?.SERVING_BUCKET || !local.AWS_ENDPOINT_URL) return undefined;
  const uri = env.MLFLOW_TRACKING_URI?.trim();
  if (uri && uri.replace(/\/+$/, '') !== local.MLFLOW_TRACKING_URI) return undefined;
  return {
    bucket: local.SERVING_BUCKET,
    env: {
      ...env,
      AWS_ENDPOINT_URL: local.AWS_ENDPOINT_URL,
      AWS_REGION: local.AWS_REGION,
      AWS_ACCESS_KEY_ID: local.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: local.AWS_SECRET_ACCESS_KEY,
    },
    from: 'local',
  };
}

export type ServingOutcome =
  | {
      readonly published: true;
      readonly bucket: string;
      readonly action: PublishResult['action'];
      readonly version: string | null;
    }
  | { readonly published: false; readonly bucket: string | null; readonly reason: string };

/** Publishes the alias's manifest; a failure is reported, not thrown: the alias has moved either way. */
export async function publishAfterMove(
  mlflow: MlflowClient,
  target: ServingTarget | undefined,
  move: { readonly model: string; readonly alias: string; readonly actor?: string; readonly at: string },
): Promise<ServingOutcome> {
  if (!target) {
    return {
      published: false,
      bucket: null,
      reason:
        'no serving bucket (--bucket, SERVING_BUCKET or a local stack): a deployed stack picks the move up through its MLflow webhook or reconciler',
    };
  }
  const s3 = s3ClientFromEnv(target.env);
  try {
    const result = await publishAliasManifest(
      { mlflow, s3, bucket: target.bucket },
      { model: move.model, alias: move.alias, via: 'cli', movedBy: move.actor ?? null, movedAt: move.at },
    );
    return {
      published: true,
      bucket: target.bucket,
      action: result.action,
      version: 'manifest' in result ? result.manifest.version : null,
    };
  } catch (error) {
    return { published: false, bucket: target.bucket, reason: (error as Error).message };
  } finally {
    s3.destroy();
  }
}

/** One line for people. */
export function describeServing(model: string, alias: string, outcome: ServingOutcome): string {
  if (!outcome.published) {
    return outcome.bucket === null
      ? `serving manifest not written: ${outcome.reason}`
      : `serving manifest of ${model}@${alias} NOT written to s3://${outcome.bucket}: ${outcome.reason} (the reconciler retries)`;
  }
  const where = `s3://${outcome.bucket}/serving/${encodeURIComponent(model)}/${alias}.json`;
  switch (outcome.action) {
    case 'written':
      return `serving manifest ${where}: now version ${outcome.version}`;
    case 'unchanged':
      return `serving manifest ${where}: already version ${outcome.version}`;
    case 'deleted':
      return `serving manifest ${where}: removed (the alias is gone)`;
    case 'absent':
      return `serving manifest ${where}: none (the alias is not set)`;
  }
}

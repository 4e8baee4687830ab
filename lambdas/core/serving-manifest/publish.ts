/**
 * Makes the manifest of one alias equal to the registry: resolves the alias in MLflow, copies the
 * version's model files into the serving bucket (once per version, checked by sha256), then
 * writes the manifest; an alias gone from the registry loses its manifest.
 *
 * Every writer (CLI, pipeline, webhook, reconciler) calls this, and it always writes what the
 * registry says *now* rather than what an event said: a late webhook for an older move then
 * rewrites the current state instead of rolling the alias back.
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { MlflowClient } from '../mlflow';
import { readModelDirectory, signatureToMlflow } from '../model-format';
import { ModelProblem } from '../serving/errors';
import { MlflowRegistry } from '../serving/mlflow-registry';
import {
  MANIFEST_FORMAT,
  ManifestError,
  type ManifestFile,
  type ManifestWriter,
  modelFilesPrefix,
  type ServingManifest,
} from './manifest';
import { deleteManifest, readManifest, storedSha256, writeManifest } from './manifest-store';

export interface PublishRequest {
  readonly model: string;
  readonly alias: string;
  readonly via: ManifestWriter;
  /** Who moved the alias, when the writer knows (the CLI's user, `training-pipeline`). */
  readonly movedBy?: string | null;
  /** When the alias moved, when the writer knows; else the time of writing. */
  readonly movedAt?: string;
}

export interface PublishContext {
  readonly mlflow: MlflowClient;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly now?: () => Date;
}

export type PublishResult =
  | { readonly action: 'written'; readonly manifest: ServingManifest; readonly previous: string | null }
  | { readonly action: 'unchanged'; readonly manifest: ServingManifest }
  | { readonly action: 'deleted'; readonly previous: string }
  | { readonly action: 'absent' };

export async function publishAliasManifest(
  context: PublishContext,
  request: PublishRequest,
): Promise<PublishResult> {
  const { s3, bucket } = context;
  const { model, alias } = request;
  const registry = new MlflowRegistry(context.mlflow);
  const current = await readManifest(s3, bucket, model, alias);
  const existing = current.status === 'found' ? current.manifest : undefined;

  let ref: Awaited<ReturnType<MlflowRegistry['resolveAlias']>>;
  try {
    ref = await registry.resolveAlias(model, alias);
  } catch (error) {
    if (!(error instanceof ModelProblem && error.code === 'ALIAS_NOT_FOUND')) throw error;
    if (!existing) return { action: 'absent' };
    await deleteManifest(s3, bucket, model, alias);
    return { action: 'deleted', previous: existing.version };
  }
  if (existing?.version === ref.version) return { action: 'unchanged', manifest: existing };

  const files = await registry.downloadModel(ref);
  let signature: ServingManifest['signature'] = null;
  try {
    const directory = readModelDirectory(files);
    signature = directory.signature ? signatureToMlflow(directory.signature) : null;
  } catch (error) {
    throw new ManifestError(
      `${model} version ${ref.version} (alias ${alias}) is not a servable ONNX model directory: ${(error as Error).message}`,
    );
  }
  const copied: ManifestFile[] = [];
  const prefix = modelFilesPrefix(model, ref.version);
  for (const [path, bytes] of [...files.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const key = `${prefix}${path}`;
    if ((await storedSha256(s3, bucket, key)) !== sha256) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, Metadata: { sha256 } }));
    }
    copied.push({ path, uri: `s3://${bucket}/${key}`, sha256, bytes: bytes.byteLength });
  }
  const now = (context.now ?? (() => new Date()))().toISOString();
  const manifest: ServingManifest = {
    format: MANIFEST_FORMAT,
    model,
    alias,
    version: ref.version,
    run_id: ref.runId || null,
    source: ref.source,
    files: copied,
    signature,
    moved_at: request.movedAt ?? now,
    moved_by: request.movedBy ?? null,
    via: request.via,
    written_at: now,
  };
  await writeManifest(s3, bucket, manifest);
  return { action: 'written', manifest, previous: existing?.version ?? null };
}

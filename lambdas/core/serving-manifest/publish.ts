/**
 * Makes the manifest of one alias equal to the registry: resolves the alias in MLflow, copies the
 * version's model files into the serving bucket (once per version, checked by sha256), then
 * writes the manifest; an alias gone from the registry loses its manifest.
 *
 * A version's copy is recorded (`versionCopyKey`), so moving an alias back to a version copied
 * before (a rollback, a flip-flop in the UI) reads that record instead of the model from MLflow.
 *
 * Every writer (CLI, pipeline, webhook, reconciler) calls this, and it always writes what the
 * registry says *now* rather than what an event said: a late webhook for an older move then
 * rewrites the current state instead of rolling the alias back.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { z } from 'zod';
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
  parseS3Uri,
  type ServingManifest,
  ServingManifestSchema,
} from './manifest';
import { deleteManifest, httpStatus, readManifest, storedSha256, writeManifest } from './manifest-store';

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

  const indexed = await reusableCopy(s3, bucket, model, ref);
  const { files: copied, signature } = indexed ?? (await copyVersion(context, registry, model, alias, ref));
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

type VersionRef = Awaited<ReturnType<MlflowRegistry['resolveAlias']>>;

/** What a version's copy consists of: its files in the serving bucket and its signature. */
const VersionCopySchema = ServingManifestSchema.pick({
  model: true,
  version: true,
  source: true,
  files: true,
  signature: true,
});
type VersionCopy = z.infer<typeof VersionCopySchema>;

/**
 * Where the list of a version's copied files is kept (`models/<model>/<version>/.copy.json`),
 * written after the copies: a later move to the same version (a rollback, an alias moved back and
 * forth) then writes its manifest without downloading the model from MLflow again.
 */
export function versionCopyKey(model: string, version: string): string {
  return `${modelFilesPrefix(model, version)}.copy.json`;
}

/** The recorded copy of this version, if there is one for the same source and its model.onnx is still there unchanged. */
async function reusableCopy(
  s3: S3Client,
  bucket: string,
  model: string,
  ref: VersionRef,
): Promise<Pick<VersionCopy, 'files' | 'signature'> | undefined> {
  let copy: VersionCopy;
  try {
    const answer = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: versionCopyKey(model, ref.version) }),
    );
    const text = (await answer.Body?.transformToString()) ?? '';
    const parsed = VersionCopySchema.safeParse(JSON.parse(text));
    if (!parsed.success) return undefined;
    copy = parsed.data;
  } catch (error) {
    if (httpStatus(error) === 404 || (error as { name?: string }).name === 'NoSuchKey') return undefined;
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (copy.model !== model || copy.version !== ref.version || copy.source !== ref.source) return undefined;
  const onnx = copy.files.find((file) => file.path === 'model.onnx');
  if (!onnx || (await storedSha256(s3, bucket, parseS3Uri(onnx.uri).key)) !== onnx.sha256) return undefined;
  return { files: copy.files, signature: copy.signature };
}

/** Downloads the version from MLflow, copies its files (those not already there) and records the copy. */
async function copyVersion(
  context: PublishContext,
  registry: MlflowRegistry,
  model: string,
  alias: string,
  ref: VersionRef,
): Promise<Pick<VersionCopy, 'files' | 'signature'>> {
  const { s3, bucket } = context;
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
  const copy: VersionCopy = { model, version: ref.version, source: ref.source, files: copied, signature };
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: versionCopyKey(model, ref.version),
      Body: JSON.stringify(copy),
      ContentType: 'application/json',
    }),
  );
  return { files: copied, signature };
}

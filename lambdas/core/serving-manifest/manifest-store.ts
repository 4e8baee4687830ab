/**
 * Reading and writing manifests in S3. Reads are conditional (`If-None-Match` on the last ETag),
 * so following an alias costs one small request that usually answers 304.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { manifestKey, parseManifest, type ServingManifest, serializeManifest } from './manifest';

export type ManifestRead =
  | { readonly status: 'found'; readonly manifest: ServingManifest; readonly etag: string }
  | { readonly status: 'unchanged' }
  | { readonly status: 'missing' };

/** The manifest of `model`/`alias`; `unchanged` when its ETag is still `etag`. */
export async function readManifest(
  s3: S3Client,
  bucket: string,
  model: string,
  alias: string,
  etag?: string,
): Promise<ManifestRead> {
  const key = manifestKey(model, alias);
  try {
    const answer = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ...(etag ? { IfNoneMatch: etag } : {}) }),
    );
    const bytes = await answer.Body?.transformToByteArray();
    if (!bytes) return { status: 'missing' };
    return {
      status: 'found',
      manifest: parseManifest(bytes, `s3://${bucket}/${key}`),
      etag: answer.ETag ?? '',
    };
  } catch (error) {
    const status = httpStatus(error);
    if (status === 304) return { status: 'unchanged' };
    if (status === 404 || isNamed(error, 'NoSuchKey')) return { status: 'missing' };
    throw error;
  }
}

/** Writes the manifest; returns the object's S3 version id (the bucket is versioned on AWS). */
export async function writeManifest(
  s3: S3Client,
  bucket: string,
  manifest: ServingManifest,
): Promise<string | undefined> {
  const answer = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: manifestKey(manifest.model, manifest.alias),
      Body: serializeManifest(manifest),
      ContentType: 'application/json',
      // Readers poll with If-None-Match; a cache in between must not answer for S3.
      CacheControl: 'no-cache',
    }),
  );
  return answer.VersionId;
}

/** Removes the manifest of an alias that no longer exists (a delete marker in the history). */
export async function deleteManifest(
  s3: S3Client,
  bucket: string,
  model: string,
  alias: string,
): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey(model, alias) }));
}

/** The sha256 recorded on an object we wrote, or undefined when it is absent or has none. */
export async function storedSha256(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.Metadata?.sha256;
  } catch (error) {
    if (httpStatus(error) === 404 || isNamed(error, 'NotFound')) return undefined;
    throw error;
  }
}

export function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNamed(error: unknown, name: string): boolean {
  return (error as { name?: string } | undefined)?.name === name;
}

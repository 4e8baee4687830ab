/**
 * Where the lifecycle's steps leave what the next step reads (the train and test splits, the
 * quarantined rows, each candidate's result): the steps hand each other URIs, never the data, so
 * a Step Functions state stays far below its 256 KB limit whatever the dataset's size.
 *
 * Three stores: S3 (the pipeline), a directory (the CLI, kept for inspection) and memory (tests
 * and one-process runs). A URI names its store: `s3://bucket/key`, `file:///abs/path`, `memory://key`.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LifecycleError } from './errors';

export type BlobUri = string;

export interface BlobStore {
  /** Stores `bytes` under `key` (a relative path like `runs/abc/train.json`) and returns its URI. */
  put(key: string, bytes: Uint8Array): Promise<BlobUri>;
  /** Reads what a `put` (of this store or, for S3, any writer) left at `uri`. */
  get(uri: BlobUri): Promise<Uint8Array>;
}

export class BlobNotFoundError extends LifecycleError {
  override name = 'BlobNotFoundError';
  constructor(readonly uri: BlobUri) {
    super(`${uri} does not exist`);
  }
}

export function memoryBlobStore(): BlobStore {
  const blobs = new Map<string, Uint8Array>();
  return {
    async put(key, bytes) {
      const uri = `memory://${key}`;
      blobs.set(uri, bytes);
      return uri;
    },
    async get(uri) {
      const bytes = blobs.get(uri);
      if (!bytes) throw new BlobNotFoundError(uri);
      return bytes;
    },
  };
}

export function fileBlobStore(root: string): BlobStore {
  const base = resolve(root);
  return {
    async put(key, bytes) {
      const path = join(base, key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
      return pathToFileURL(path).href;
    },
    async get(uri) {
      if (!uri.startsWith('file://')) throw new LifecycleError(`${uri} is not a file:// URI`);
      try {
        return new Uint8Array(await readFile(fileURLToPath(uri)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(uri);
        throw error;
      }
    },
  };
}

export interface S3BlobStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Prepended to every key, e.g. `training-runs/`. @default '' */
  readonly prefix?: string;
}

export function s3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const prefix = options.prefix ?? '';
  return {
    async put(key, bytes) {
      const objectKey = `${prefix}${key}`;
      await options.client.send(
        new PutObjectCommand({ Bucket: options.bucket, Key: objectKey, Body: bytes }),
      );
      return `s3://${options.bucket}/${objectKey}`;
    },
    async get(uri) {
      const { bucket, key } = parseS3Uri(uri);
      try {
        const object = await options.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') throw new BlobNotFoundError(uri);
        throw error;
      }
    },
  };
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) throw new LifecycleError(`${uri} is not an s3://bucket/key URI`);
  return { bucket: match[1], key: match[2] };
}

/** Reading and writing the S3 objects steps hand each other by pointer. */
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { S3Pointer } from '../step-io';
import { StepInputError } from './step-errors';

export async function getBytes(s3: S3Client, pointer: S3Pointer): Promise<Uint8Array> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
    return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') {
      throw new StepInputError(`s3://${pointer.bucket}/${pointer.key}`, 'no such object');
    }
    throw error;
  }
}

export async function putBytes(
  s3: S3Client,
  pointer: S3Pointer,
  bytes: Uint8Array | string,
  contentType?: string,
): Promise<S3Pointer> {
  await s3.send(
    new PutObjectCommand({
      Bucket: pointer.bucket,
      Key: pointer.key,
      Body: bytes,
      ...(contentType ? { ContentType: contentType } : {}),
    }),
  );
  return { bucket: pointer.bucket, key: pointer.key };
}

export async function getJson(s3: S3Client, pointer: S3Pointer): Promise<unknown> {
  const text = new TextDecoder().decode(await getBytes(s3, pointer));
  try {
    return JSON.parse(text);
  } catch {
    throw new StepInputError(`s3://${pointer.bucket}/${pointer.key}`, 'is not JSON');
  }
}

export function putJson(s3: S3Client, pointer: S3Pointer, value: unknown): Promise<S3Pointer> {
  return putBytes(s3, pointer, `${JSON.stringify(value, null, 2)}\n`, 'application/json');
}

export async function objectExists(s3: S3Client, pointer: S3Pointer): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
    return true;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if ((error as { name?: string }).name === 'NotFound' || status === 404) return false;
    throw error;
  }
}

export async function copyObject(s3: S3Client, from: S3Pointer, to: S3Pointer): Promise<S3Pointer> {
  await s3.send(
    new CopyObjectCommand({
      Bucket: to.bucket,
      Key: to.key,
      // The source is `bucket/key` with the key URL-encoded (slashes kept).
      CopySource: `${from.bucket}/${from.key.split('/').map(encodeURIComponent).join('/')}`,
    }),
  );
  return { bucket: to.bucket, key: to.key };
}

/** Every key under `prefix`, in S3's (lexicographic) order; "folder" keys ending in `/` are left out. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? [])
      if (object.Key && !object.Key.endsWith('/')) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

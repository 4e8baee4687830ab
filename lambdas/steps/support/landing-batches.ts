/**
 * Batches in the landing bucket: `landing/<dataset>/<batch>/` prefixes (a date, by convention),
 * each holding data files and possibly the batch's `input_schema.json`. The newest batch is the
 * last prefix in S3's (lexicographic) order, which is the newest date for `YYYY-MM-DD` names.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { CONTRACT_FILE, DATA_FORMATS, type DataFormat, dataFormatOf } from '../../core/data';
import type { S3Prefix } from '../step-io';
import type { StepContext } from './step-context';
import { StepInputError } from './step-errors';

/** The child "folders" directly under `prefix` (each ending in `/`), in S3's order. */
export async function childPrefixes(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const children: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
    );
    for (const common of page.CommonPrefixes ?? []) if (common.Prefix) children.push(common.Prefix);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return children;
}

/**
 * The newest LastModified of the objects under a prefix (data files and contract alike), ISO 8601:
 * when the batch finished landing. Fails naming `source.prefix` when nothing is there.
 */
export async function newestLastModified(s3: S3Client, bucket: string, prefix: string): Promise<string> {
  let newest: Date | undefined;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      if (object.LastModified && (!newest || object.LastModified > newest)) newest = object.LastModified;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  if (!newest) throw new StepInputError('source.prefix', `no objects under s3://${bucket}/${prefix}`);
  return newest.toISOString();
}

/**
 * The newest batch of a dataset: the last child prefix of `landing/<dataset>/`, or that prefix
 * itself when files sit directly in it. Fails naming `field` when the dataset has no batch.
 */
export async function newestLandingBatch(
  context: StepContext,
  dataset: string,
  field: string,
): Promise<S3Prefix> {
  const bucket = context.config.buckets.landing;
  const root = `landing/${dataset}/`;
  const batches = await childPrefixes(context.s3, bucket, root);
  const newest = batches.at(-1);
  if (newest) return { bucket, prefix: newest };
  const direct = await context.s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: root, MaxKeys: 1 }),
  );
  if ((direct.KeyCount ?? 0) > 0) return { bucket, prefix: root };
  throw new StepInputError(field, `no batch under s3://${bucket}/${root}: nothing has landed for ${dataset}`);
}

/**
 * The format of a data object by its extension, or null for anything else a batch may hold: its
 * `input_schema.json`, "folder" keys, `_SUCCESS` markers, files of other kinds.
 */
export function dataObjectFormat(key: string): DataFormat | null {
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (name === '' || name === CONTRACT_FILE || name.startsWith('_') || name.startsWith('.')) return null;
  const extension = /\.[^.]+$/.exec(name.toLowerCase())?.[0];
  if (!extension) return null;
  try {
    const format = dataFormatOf(name);
    return DATA_FORMATS.includes(format) ? format : null;
  } catch {
    return null;
  }
}

/** A prefix given in a request must be one: a non-empty bucket and a prefix ending in `/`. */
export function checkedPrefix(value: unknown, field: string): S3Prefix {
  const candidate = value as Partial<S3Prefix> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.bucket !== 'string' ||
    candidate.bucket === '' ||
    typeof candidate.prefix !== 'string'
  ) {
    throw new StepInputError(field, 'must be { bucket, prefix }');
  }
  if (candidate.prefix !== '' && !candidate.prefix.endsWith('/'))
    throw new StepInputError(`${field}.prefix`, `must end with '/', got '${candidate.prefix}'`);
  return { bucket: candidate.bucket, prefix: candidate.prefix };
}

/** A candidate's model directory (MLflow onnx flavor) as S3 objects under a prefix, between steps. */

import type { ModelFiles } from '../../core/model-format';
import type { S3Prefix } from '../step-io';
import { getBytes, listKeys, putBytes } from './s3-objects';
import type { StepContext } from './step-context';
import { StepInputError } from './step-errors';

export function candidateModelPrefix(context: StepContext, runId: string, candidate: string): S3Prefix {
  return { bucket: context.config.buckets.curated, prefix: `training-runs/${runId}/${candidate}/model/` };
}

export async function writeModelFiles(context: StepContext, at: S3Prefix, files: ModelFiles): Promise<void> {
  await Promise.all(
    [...files].map(([path, bytes]) =>
      putBytes(context.s3, { bucket: at.bucket, key: `${at.prefix}${path}` }, bytes),
    ),
  );
}

export async function readModelFilesFrom(context: StepContext, at: S3Prefix): Promise<ModelFiles> {
  const keys = await listKeys(context.s3, at.bucket, at.prefix);
  if (keys.length === 0)
    throw new StepInputError('model', `no model files under s3://${at.bucket}/${at.prefix}`);
  const files = new Map<string, Uint8Array>();
  await Promise.all(
    keys.map(async (key) =>
      files.set(key.slice(at.prefix.length), await getBytes(context.s3, { bucket: at.bucket, key })),
    ),
  );
  return files;
}

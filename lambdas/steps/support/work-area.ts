/**
 * The data pipeline's scratch objects, `work/<runId>/…` in the curated bucket. The steps hand
 * each other pointers to the rows; what every later step needs besides (the contract, the
 * validation counts, the split's metadata) sits under fixed names beside them.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { type DataContract, parseContract } from '../../core/data';
import type { S3Pointer } from '../step-io';
import { getJson, putJson } from './s3-objects';
import type { StepContext } from './step-context';

export type WorkFile = 'contract.json' | 'validation.json' | 'split.json' | (string & {});

export function workObject(context: StepContext, runId: string, file: WorkFile): S3Pointer {
  return { bucket: context.config.buckets.curated, key: `work/${runId}/${file}` };
}

export async function readWorkContract(context: StepContext, runId: string): Promise<DataContract> {
  const pointer = workObject(context, runId, 'contract.json');
  return parseContract(await getJson(context.s3, pointer), `s3://${pointer.bucket}/${pointer.key}`);
}

export function writeWorkJson(context: StepContext, runId: string, file: WorkFile, value: unknown) {
  return putJson(context.s3, workObject(context, runId, file), value);
}

export function readWorkJson(s3: S3Client, context: StepContext, runId: string, file: WorkFile) {
  return getJson(s3, workObject(context, runId, file));
}

/**
 * `d-20250601t031500z-1a2b3c`: sortable by time, unique, short enough for a SageMaker job name.
 * The prefix names the pipeline: data, training, inference, monitoring.
 */
export function newRunId(prefix: 'd' | 't' | 'i' | 'm'): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '').toLowerCase();
  return `${prefix}-${stamp}-${Math.random().toString(36).slice(2, 8)}`;
}

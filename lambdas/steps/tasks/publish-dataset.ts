/**
 * Publish: the split files to `datasets/<name>/<version>/` of the curated bucket, where the
 * version is the content digest of the valid rows, and the manifest last — a version with a
 * manifest is complete. Publishing content that is already there writes nothing new and reuses
 * that version (`created: false`, `reused: true`).
 *
 * `latest.json` moves only forward: to a batch newer than the one it names, by the batches' own
 * order (prefix, then landing time; support/batch-order.ts), never by when this run happened. An
 * older batch is published (or found) but left out of `latest.json` (`latest: 'kept'`).
 */
import { contractVersion } from '../../core/data';
import type { DatasetRef, PublishDatasetInput, PublishDatasetOutput } from '../step-io';
import { latestDecision, parseBatchOrder } from '../support/batch-order';
import {
  type DatasetManifest,
  datasetRefOf,
  latestPointer,
  MANIFEST_FORMAT,
  manifestPointer,
  readManifest,
  versionPrefix,
} from '../support/dataset-manifest';
import { copyObject, getJson, objectExists, putJson } from '../support/s3-objects';
import type { StepContext } from '../support/step-context';
import { StepInputError } from '../support/step-errors';
import { readWorkContract, readWorkJson } from '../support/work-area';
import type { SplitMetadata } from './split-dataset';
import type { ValidationCounts } from './validate-data';

export async function publishDataset(
  input: PublishDatasetInput,
  context: StepContext,
): Promise<PublishDatasetOutput> {
  const [contract, split, validation] = await Promise.all([
    readWorkContract(context, input.runId),
    readWorkJson(context.s3, context, input.runId, 'split.json') as Promise<SplitMetadata>,
    readWorkJson(context.s3, context, input.runId, 'validation.json') as Promise<ValidationCounts>,
  ]);
  if (typeof split.version !== 'string') throw new StepInputError('split.json version', 'is missing');
  const manifestAt = manifestPointer(context, input.dataset, split.version);
  let created = false;
  let ref: DatasetRef;
  if (await objectExists(context.s3, manifestAt)) {
    ref = datasetRefOf(await readManifest(context, manifestAt), manifestAt);
  } else {
    const prefix = versionPrefix(input.dataset, split.version);
    const at = (file: string) => ({ bucket: context.config.buckets.curated, key: `${prefix}${file}` });
    const [train, test, reference] = await Promise.all([
      copyObject(context.s3, input.split.train, at('train.parquet')),
      copyObject(context.s3, input.split.test, at('test.parquet')),
      copyObject(context.s3, input.split.reference, at('reference.parquet')),
    ]);
    const manifest: DatasetManifest = {
      format: MANIFEST_FORMAT,
      name: input.dataset,
      version: split.version,
      digest: split.digest,
      publishedAt: new Date().toISOString(),
      runId: input.runId,
      source: input.source,
      batch: input.batch,
      contract,
      contractVersion: contractVersion(contract),
      split: { method: split.method, seed: split.seed, testFraction: split.testFraction },
      levels: Object.fromEntries(Object.entries(split.levels).map(([name, levels]) => [name, [...levels]])),
      classes: split.classes ? [...split.classes] : null,
      files: { train, test, reference },
      rows: {
        input: validation.input,
        valid: validation.valid,
        quarantined: validation.rejected,
        train: input.split.rows.train,
        test: input.split.rows.test,
        reference: input.split.rows.reference,
      },
    };
    await putJson(context.s3, manifestAt, manifest);
    created = true;
    ref = datasetRefOf(manifest, manifestAt);
  }
  const latestAt = latestPointer(context, input.dataset);
  const current = (await objectExists(context.s3, latestAt))
    ? ((await getJson(context.s3, latestAt)) as { version?: unknown; batch?: unknown })
    : null;
  const where = `s3://${latestAt.bucket}/${latestAt.key}`;
  if (current !== null && typeof current.version !== 'string') {
    throw new StepInputError(`${where} version`, 'is missing');
  }
  const latest = latestDecision(
    current === null
      ? null
      : { version: current.version as string, batch: parseBatchOrder(current.batch, `${where} batch`) },
    { version: ref.version, batch: parseBatchOrder(input.batch, 'batch') },
  );
  if (latest === 'moved') await putJson(context.s3, latestAt, { ...ref, batch: input.batch ?? null });
  return { dataset: ref, created, reused: !created, latest };
}

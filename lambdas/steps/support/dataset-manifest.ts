/**
 * The manifest of a published dataset version (`datasets/<name>/<version>/manifest.json`): its
 * files, row counts, the contract, and what a trainer needs to decode the splits exactly as the
 * data pipeline split them (category levels, class order, seed). `datasets/<name>/latest.json`
 * holds the `DatasetRef` of the newest publication.
 *
 * The training steps rebuild the core's `PreparedDataset` from it, so the core's `loadSplit`,
 * `selectAndRegister` and `promoteVersion` run on the published data unchanged.
 */
import { z } from 'zod';
import { type DataContract, featureNames, parseContract } from '../../core/data';
import type { PreparedDataset } from '../../core/lifecycle/prepare-dataset';
import type { DatasetRef, S3Pointer } from '../step-io';
import { getJson, objectExists } from './s3-objects';
import type { StepContext } from './step-context';
import { StepInputError } from './step-errors';

export const MANIFEST_FORMAT = 'mlops-dataset-manifest-v1';

const pointer = z.object({ bucket: z.string().min(1), key: z.string().min(1) });

const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  name: z.string().min(1),
  version: z.string().min(1),
  digest: z.string().min(1),
  publishedAt: z.string(),
  runId: z.string(),
  source: z.string(),
  /** The landing batch it was published from (support/batch-order.ts); absent for bundled data and older manifests. */
  batch: z
    .object({ prefix: z.string().min(1), landedAt: z.string().min(1) })
    .nullable()
    .optional(),
  contract: z.unknown(),
  contractVersion: z.string(),
  split: z.object({
    method: z.enum(['random', 'time']),
    seed: z.number().int().nullable(),
    testFraction: z.number(),
  }),
  levels: z.record(z.string(), z.array(z.string())),
  classes: z.array(z.string()).nullable(),
  files: z.object({ train: pointer, test: pointer, reference: pointer }),
  rows: z.object({
    input: z.number().int(),
    valid: z.number().int(),
    quarantined: z.number().int(),
    train: z.number().int(),
    test: z.number().int(),
    reference: z.number().int(),
  }),
});

export type DatasetManifest = z.infer<typeof manifestSchema>;

export function versionPrefix(name: string, version: string): string {
  return `datasets/${name}/${version}/`;
}

export function latestPointer(context: StepContext, name: string): S3Pointer {
  return { bucket: context.config.buckets.curated, key: `datasets/${name}/latest.json` };
}

export function manifestPointer(context: StepContext, name: string, version: string): S3Pointer {
  return { bucket: context.config.buckets.curated, key: `${versionPrefix(name, version)}manifest.json` };
}

export async function readManifest(context: StepContext, at: S3Pointer): Promise<DatasetManifest> {
  const parsed = manifestSchema.safeParse(await getJson(context.s3, at));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StepInputError(
      `s3://${at.bucket}/${at.key} ${issue?.path.join('.') ?? ''}`.trim(),
      issue?.message ?? 'bad manifest',
    );
  }
  return parsed.data;
}

export function datasetRefOf(manifest: DatasetManifest, at: S3Pointer): DatasetRef {
  return {
    name: manifest.name,
    version: manifest.version,
    manifest: at,
    train: manifest.files.train,
    test: manifest.files.test,
    reference: manifest.files.reference,
    rowCount: manifest.rows.valid,
  };
}

/** The core's view of a published version (for loadSplit, selectAndRegister, promoteVersion). */
export function preparedDatasetOf(manifest: DatasetManifest, runKey: string): PreparedDataset {
  const contract: DataContract = parseContract(
    manifest.contract,
    `${manifest.name}@${manifest.version} manifest`,
  );
  const uri = (p: S3Pointer) => `s3://${p.bucket}/${p.key}`;
  return {
    runKey,
    name: manifest.name,
    source: manifest.source,
    version: manifest.version,
    digest: manifest.digest,
    contract,
    contractVersion: manifest.contractVersion,
    task: contract.task,
    target: contract.target,
    features: featureNames(contract),
    classes: manifest.classes,
    levels: manifest.levels,
    seed: manifest.split.seed ?? 42,
    testFraction: manifest.split.testFraction,
    split: manifest.split.method,
    rows: {
      input: manifest.rows.input,
      valid: manifest.rows.valid,
      quarantined: manifest.rows.quarantined,
      train: manifest.rows.train,
      test: manifest.rows.test,
    },
    rejections: [],
    splits: { train: uri(manifest.files.train), test: uri(manifest.files.test) },
    quarantine: null,
  };
}

/** Reads the manifest a `DatasetRef` points at and returns the core's view of it. */
export async function loadPrepared(
  context: StepContext,
  dataset: DatasetRef,
  runKey: string,
): Promise<PreparedDataset> {
  return preparedDatasetOf(await readManifest(context, dataset.manifest), runKey);
}

/** The manifest of `name@version`, or of the newest published version of `name`; names the field at fault. */
export async function resolveManifest(
  context: StepContext,
  name: string,
  version?: string,
): Promise<S3Pointer> {
  if (version) {
    const at = manifestPointer(context, name, version);
    if (!(await objectExists(context.s3, at))) {
      throw new StepInputError(
        'dataset.version',
        `${name}@${version} is not published (no s3://${at.bucket}/${at.key})`,
      );
    }
    return at;
  }
  const latest = latestPointer(context, name);
  if (!(await objectExists(context.s3, latest))) {
    throw new StepInputError('dataset.name', `no published version of ${name}: run the data pipeline first`);
  }
  const ref = (await getJson(context.s3, latest)) as Partial<DatasetRef>;
  if (!ref.manifest?.bucket || !ref.manifest.key) {
    throw new StepInputError(`s3://${latest.bucket}/${latest.key} manifest`, 'is missing');
  }
  return ref.manifest;
}

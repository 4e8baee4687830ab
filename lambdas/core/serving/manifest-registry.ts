/**
 * `ModelRegistry` over serving manifests (lambdas/core/serving-manifest): an alias resolves to
 * the version its manifest in the serving bucket names, and a version's files are the copies the
 * manifest lists, each checked against its sha256 before the model is loaded. Nothing here calls
 * MLflow: serving starts and follows aliases with the registry down.
 *
 * Following an alias costs one conditional GET per check (`If-None-Match` on the last ETag); an
 * unchanged manifest answers 304 and the reference resolved last time is returned as is.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ManifestError, manifestKey, parseS3Uri, type ServingManifest } from '../serving-manifest/manifest';
import { httpStatus, readManifest } from '../serving-manifest/manifest-store';
import { describeError, ModelProblem, type ModelProblemCode } from './errors';
import type { ModelFiles, ModelRegistry, ModelVersionRef } from './registry';

/**
 * Files of an MLflow model directory serving never reads (the Python environment, and the
 * registry's copy of the name); skipping them saves round trips on every model load.
 */
const UNUSED_FILES: ReadonlySet<string> = new Set([
  'conda.yaml',
  'python_env.yaml',
  'requirements.txt',
  'registered_model_meta',
]);

/** Guards memory: a model directory is read whole into the function's memory. */
const MAX_MODEL_BYTES = 512 * 1024 * 1024;

export interface ManifestRegistryOptions {
  readonly s3: S3Client;
  /** The serving bucket (SERVING_BUCKET). */
  readonly bucket: string;
}

interface Resolved {
  readonly etag: string;
  readonly ref: ModelVersionRef;
}

export class ManifestRegistry implements ModelRegistry {
  /** The last manifest read per model and alias, with its ETag for the next conditional GET. */
  private readonly resolved = new Map<string, Resolved>();
  /** The manifest each reference came from, so `downloadModel` reads the files it lists. */
  private readonly manifests = new WeakMap<ModelVersionRef, ServingManifest>();
  /** Calls made to S3, for tests that count requests per alias check. */
  readonly calls = { manifestReads: 0, fileReads: 0 };

  constructor(private readonly options: ManifestRegistryOptions) {}

  async resolveAlias(name: string, alias: string): Promise<ModelVersionRef> {
    const { s3, bucket } = this.options;
    const cacheKey = `${name}\u0000${alias}`;
    const last = this.resolved.get(cacheKey);
    const where = `s3://${bucket}/${manifestKey(name, alias)}`;
    this.calls.manifestReads++;
    let read: Awaited<ReturnType<typeof readManifest>>;
    try {
      read = await readManifest(s3, bucket, name, alias, last?.etag);
    } catch (error) {
      if (error instanceof ManifestError) {
        throw new ModelProblem('MANIFEST_INVALID', error.message, false, { cause: error });
      }
      throw s3Problem(error, 'REGISTRY_ERROR', `reading ${where}: `);
    }
    if (read.status === 'unchanged' && last) return last.ref;
    if (read.status === 'missing' || read.status === 'unchanged') {
      this.resolved.delete(cacheKey);
      throw new ModelProblem(
        'ALIAS_NOT_FOUND',
        `alias '${alias}' of model '${name}' is not published: no serving manifest at ${where}`,
      );
    }
    const { manifest, etag } = read;
    if (manifest.model !== name || manifest.alias !== alias) {
      throw new ModelProblem(
        'MANIFEST_INVALID',
        `${where} names model '${manifest.model}' alias '${manifest.alias}', not '${name}' alias '${alias}'`,
      );
    }
    const onnx = manifest.files.find((file) => file.path === 'model.onnx');
    const ref: ModelVersionRef = {
      name,
      version: manifest.version,
      runId: manifest.run_id ?? '',
      source: manifest.source,
      revision: etag,
      manifest: {
        version: manifest.version,
        run_id: manifest.run_id,
        moved_at: manifest.moved_at,
        moved_by: manifest.moved_by,
        via: manifest.via,
        written_at: manifest.written_at,
        model_onnx_sha256: onnx?.sha256 ?? '',
      },
    };
    this.manifests.set(ref, manifest);
    this.resolved.set(cacheKey, { etag, ref });
    return ref;
  }

  async downloadModel(version: ModelVersionRef): Promise<ModelFiles> {
    const manifest = this.manifests.get(version);
    if (!manifest) {
      throw new ModelProblem(
        'ARTIFACT_DOWNLOAD_FAILED',
        `version ${version.version} of '${version.name}' was not resolved from a serving manifest`,
      );
    }
    const files = manifest.files.filter((file) => !UNUSED_FILES.has(file.path));
    const total = files.reduce((sum, file) => sum + file.bytes, 0);
    if (total > MAX_MODEL_BYTES) {
      throw new ModelProblem(
        'MODEL_UNSUPPORTED',
        `the model directory is over ${MAX_MODEL_BYTES >> 20} MiB`,
        true,
      );
    }
    const contents = await Promise.all(
      files.map(async (file) => {
        const bytes = await this.readFile(file.uri, version.version);
        const actual = createHash('sha256').update(bytes).digest('hex');
        if (actual !== file.sha256) {
          // Permanent for this manifest revision: the store retries only when the manifest changes.
          throw new ModelProblem(
            'CHECKSUM_MISMATCH',
            `${file.path} of version ${version.version} (${file.uri}) has sha256 ${actual}, but the manifest says ${file.sha256}; the version is not loaded`,
            true,
          );
        }
        return bytes;
      }),
    );
    return new Map(files.map((file, i) => [file.path, contents[i] ?? new Uint8Array()]));
  }

  private async readFile(uri: string, version: string): Promise<Uint8Array> {
    const { bucket, key } = parseS3Uri(uri);
    this.calls.fileReads++;
    try {
      const answer = await this.options.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = await answer.Body?.transformToByteArray();
      if (!bytes) throw new Error('the object has no body');
      return bytes;
    } catch (error) {
      throw s3Problem(error, 'ARTIFACT_DOWNLOAD_FAILED', `downloading ${uri} (version ${version}): `);
    }
  }
}

/** An S3 call that got no HTTP answer at all is an unreachable store; any other failure keeps `fallback`. */
function s3Problem(error: unknown, fallback: ModelProblemCode, prefix: string): ModelProblem {
  const code: ModelProblemCode = httpStatus(error) === undefined ? 'REGISTRY_UNREACHABLE' : fallback;
  return new ModelProblem(code, `${prefix}${describeError(error)}`, false, { cause: error });
}

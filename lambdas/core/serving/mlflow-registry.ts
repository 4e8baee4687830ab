/**
 * `ModelRegistry` over the project's MLflow client: aliases and model versions from the tracking
 * server, artifacts straight from S3 when the version lives at an `s3://` location, else through
 * the server's artifact proxy. Client errors become the `ModelProblem` codes `/status` shows.
 */
import {
  MlflowApiError,
  type MlflowClient,
  MlflowUnavailableError,
  UnsupportedArtifactUriError,
} from '../mlflow';
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

export class MlflowRegistry implements ModelRegistry {
  constructor(private readonly client: MlflowClient) {}

  async resolveAlias(name: string, alias: string): Promise<ModelVersionRef> {
    try {
      const version = await this.client.getModelVersionByAlias(name, alias);
      return { name, version: version.version, runId: version.run_id ?? '', source: version.source ?? '' };
    } catch (error) {
      if (error instanceof MlflowApiError && error.isNotFound) {
        throw new ModelProblem(
          'ALIAS_NOT_FOUND',
          `alias '${alias}' of model '${name}' is not in the registry`,
        );
      }
      throw problemOf(error, 'REGISTRY_ERROR');
    }
  }

  async downloadModel(version: ModelVersionRef): Promise<ModelFiles> {
    try {
      const location = await this.artifactLocation(version);
      const store = await this.client.artifactStore(location);
      const listed = (await store.listFiles('')).filter((file) => !UNUSED_FILES.has(file.path));
      if (listed.length === 0) {
        throw new ModelProblem('ARTIFACT_DOWNLOAD_FAILED', `no model files at ${location}`);
      }
      const total = listed.reduce((sum, file) => sum + (file.file_size ?? 0), 0);
      if (total > MAX_MODEL_BYTES) {
        throw new ModelProblem(
          'MODEL_UNSUPPORTED',
          `the model directory is over ${MAX_MODEL_BYTES >> 20} MiB`,
          true,
        );
      }
      const contents = await Promise.all(listed.map((file) => store.get(file.path)));
      return new Map(listed.map((file, i) => [file.path, contents[i] ?? new Uint8Array()]));
    } catch (error) {
      if (error instanceof ModelProblem) throw error;
      if (error instanceof UnsupportedArtifactUriError) {
        throw new ModelProblem('ARTIFACT_DOWNLOAD_FAILED', error.message, true, { cause: error });
      }
      throw problemOf(error, 'ARTIFACT_DOWNLOAD_FAILED', `downloading version ${version.version}: `);
    }
  }

  /** `s3://` and `mlflow-artifacts:` sources are locations already; `models:/` and `runs:/` ask the server. */
  private async artifactLocation(version: ModelVersionRef): Promise<string> {
    if (version.source.startsWith('s3://') || version.source.startsWith('mlflow-artifacts:'))
      return version.source;
    return this.client.getModelVersionDownloadUri(version.name, version.version);
  }
}

function problemOf(error: unknown, fallback: ModelProblemCode, prefix = ''): ModelProblem {
  const code: ModelProblemCode = error instanceof MlflowUnavailableError ? 'REGISTRY_UNREACHABLE' : fallback;
  return new ModelProblem(code, `${prefix}${describeError(error)}`, false, { cause: error });
}

/**
 * The seam between the serving core and a model registry. The predict Lambda reads serving
 * manifests from S3 (`manifest-registry.ts`); the manifest publisher reads MLflow
 * (`mlflow-registry.ts`); tests and the fuzz suite plug in a registry over local files.
 *
 * Implementations throw `ModelProblem` with a code the status report can show:
 * `ALIAS_NOT_FOUND`, `REGISTRY_UNREACHABLE`, `REGISTRY_ERROR`, `ARTIFACT_DOWNLOAD_FAILED`,
 * `MANIFEST_INVALID`, `CHECKSUM_MISMATCH`.
 */

/** Where a served version came from, when a serving manifest named it (shown by `/status`). */
export interface ServedManifest {
  readonly version: string;
  readonly run_id: string | null;
  readonly moved_at: string;
  readonly moved_by: string | null;
  readonly via: string;
  readonly written_at: string;
  /** sha256 of the version's model.onnx as the manifest records it. */
  readonly model_onnx_sha256: string;
}

/** A registered model version as an alias points at it. */
export interface ModelVersionRef {
  readonly name: string;
  readonly version: string;
  readonly runId: string;
  /** The version's `source` as the registry reports it (`models:/m-…`, `s3://…`, `runs:/…`, …). */
  readonly source: string;
  /**
   * Changes whenever the registry's record of the alias is rewritten (a manifest's ETag); a
   * version that failed for good is tried again only under a new revision.
   */
  readonly revision?: string;
  /** The manifest that named this version, for registries that read manifests. */
  readonly manifest?: ServedManifest;
}

/** The files of a model directory, by path relative to the directory (`MLmodel`, `model.onnx`, …). */
export type ModelFiles = ReadonlyMap<string, Uint8Array>;

export interface ModelRegistry {
  resolveAlias(name: string, alias: string): Promise<ModelVersionRef>;
  /**
   * Downloads the version's model directory. It takes the whole reference rather than the bare
   * `source` because MLflow 3 sources (`models:/m-…`) must be turned into an artifact location
   * with the version's download URI first, and a manifest's files are listed in the manifest.
   */
  downloadModel(version: ModelVersionRef): Promise<ModelFiles>;
}

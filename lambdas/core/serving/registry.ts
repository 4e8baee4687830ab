/**
 * The seam between the serving core and a model registry. The predict Lambda plugs MLflow in
 * (`mlflow-registry.ts`); tests and the fuzz suite plug in a registry over local files.
 *
 * Implementations throw `ModelProblem` with a code the status report can show:
 * `ALIAS_NOT_FOUND`, `REGISTRY_UNREACHABLE`, `REGISTRY_ERROR`, `ARTIFACT_DOWNLOAD_FAILED`.
 */

/** A registered model version as an alias points at it. */
export interface ModelVersionRef {
  readonly name: string;
  readonly version: string;
  readonly runId: string;
  /** The version's `source` as the registry reports it (`models:/m-…`, `s3://…`, `runs:/…`, …). */
  readonly source: string;
}

/** The files of a model directory, by path relative to the directory (`MLmodel`, `model.onnx`, …). */
export type ModelFiles = ReadonlyMap<string, Uint8Array>;

export interface ModelRegistry {
  resolveAlias(name: string, alias: string): Promise<ModelVersionRef>;
  /**
   * Downloads the version's model directory. It takes the whole reference rather than the bare
   * `source` because MLflow 3 sources (`models:/m-…`) must be turned into an artifact location
   * with the version's download URI first.
   */
  downloadModel(version: ModelVersionRef): Promise<ModelFiles>;
}

/**
 * The MLflow REST client: tracking (experiments, runs, batched logging, dataset inputs),
 * artifacts (through the server's proxy or straight in S3) and the model registry (models,
 * versions, aliases), with typed errors and retries.
 */
export {
  type ArtifactLocation,
  childLocation,
  formatArtifactUri,
  joinArtifactPath,
  parseArtifactUri,
  UnsupportedArtifactUriError,
} from './artifact-location';
export type { ArtifactFile, ArtifactStore } from './artifact-store';
export {
  type CreateExperimentRequest,
  type CreateLoggedModelRequest,
  type CreateModelVersionRequest,
  type CreateRegisteredModelRequest,
  type CreateRunRequest,
  DATASET_CONTEXT_TAG,
  type DatasetInputRequest,
  type DatasetRequest,
  datasetInput,
  type ListArtifactsRequest,
  type LogInputsRequest,
  MlflowClient,
  type MlflowClientOptions,
  type ModelOutputRequest,
  type ModelVersionTagRequest,
  type SearchExperimentsRequest,
  type SearchModelVersionsRequest,
  type SearchRegisteredModelsRequest,
  type SearchRunsRequest,
  type UpdateModelVersionRequest,
  type UpdateRunRequest,
} from './client';
export { type Environment, mlflowClientOptionsFromEnv } from './config';
export {
  MlflowApiError,
  MlflowConfigError,
  MlflowError,
  MlflowResponseError,
  MlflowUnavailableError,
  orUndefinedIfMissing,
} from './errors';
export {
  type KeyValue,
  keyValues,
  LOG_BATCH_LIMITS,
  type LogBatchChunk,
  type LogBatchRequest,
  type MetricInput,
  splitLogBatch,
} from './log-batch';
export type {
  Dataset,
  DatasetInput,
  Experiment,
  FileInfo,
  ListArtifactsResponse,
  LoggedModel,
  LoggedModelStatus,
  Metric,
  ModelVersion,
  Param,
  RegisteredModel,
  RegisteredModelAlias,
  Run,
  RunInfo,
  RunStatus,
  RunTag,
  SearchExperimentsResponse,
  SearchModelVersionsResponse,
  SearchRegisteredModelsResponse,
  SearchRunsResponse,
} from './schemas';
export type { CallOptions, MlflowAuth, RetryOptions } from './transport';

/**
 * The training lifecycle: prepare a dataset, train and log each candidate to MLflow, register the
 * best as a model version, and optionally promote it — as separate steps for the training state
 * machine, and composed in `trainAndRegister` for the CLI.
 */
export {
  BlobNotFoundError,
  type BlobStore,
  type BlobUri,
  fileBlobStore,
  memoryBlobStore,
  parseS3Uri,
  type S3BlobStoreOptions,
  s3BlobStore,
} from './blob-store';
export {
  type CandidateRanking,
  type CandidateResult,
  type FailedCandidateResult,
  rankCandidateResults,
  type SucceededCandidateResult,
} from './candidate-ranking';
export { type CandidateRunDeps, type CandidateRunRequest, trainAndLogCandidate } from './candidate-run';
export { type DatasetSource, type ResolvedTrainingDataset, resolveTrainingDataset } from './dataset-source';
export {
  CandidateFailedError,
  DatasetRejectedError,
  type DatasetRejectionCode,
  LifecycleError,
  NoCandidateSucceededError,
  type RowRejection,
  TrainingRequestError,
} from './errors';
export {
  HoldoutMismatchError,
  type OnnxPrediction,
  onnxHoldoutMetrics,
  predictWithOnnx,
} from './onnx-holdout';
export {
  DEFAULT_MAX_QUARANTINED_SHARE,
  DEFAULT_TEST_FRACTION,
  DEFAULT_TRAINING_SEED,
  loadSplit,
  type PreparedDataset,
  type PrepareRequest,
  prepareDataset,
  type SplitMethod,
} from './prepare-dataset';
export { type PromoteRequest, promoteVersion, scoreVersion } from './promote-version';
export {
  CHALLENGER_ALIAS,
  decidePromotion,
  PRODUCTION_ALIAS,
  PROMOTION_MODES,
  type ProductionStanding,
  type PromotionAlias,
  type PromotionDecision,
  type PromotionMode,
} from './promotion-gate';
export {
  type RegisteredVersion,
  type RegisterRequest,
  RegistrationError,
  selectAndRegister,
} from './register-best';
export {
  compareScores,
  DEFAULT_SELECTION_METRIC,
  metricNamesFor,
  resolveSelectionMetric,
  type SelectionMetric,
  tieBreakerOf,
} from './selection-metric';
export { MODEL_ARTIFACT_PATH, TAGS, type TrackingClient } from './tracking-client';
export {
  type CandidateSummary,
  defaultModelName,
  type TrainDeps,
  type TrainingProgress,
  type TrainRequest,
  type TrainResult,
  trainAndRegister,
} from './train-and-register';
export { alignCategoryLevels, type CategoryLevels, categoryLevelsOf, toTrainingData } from './trainer-input';

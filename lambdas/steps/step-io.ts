/**
 * The JSON each pipeline step takes and returns: the contract between the state machines in
 * `stepfunctions/*.asl.json` and the steps (catalogue.ts gives each step its input and output
 * type). The ASL files build each Task's input with `Parameters` and store its output with
 * `ResultPath`, so a field renamed here must be renamed there too (stepfunctions/README.md lists
 * them side by side).
 *
 * Anything that may grow with the data travels as an S3 pointer, never inline: a state's input
 * and output are limited to 256 KB.
 */
import type { CHALLENGER_ALIAS, PRODUCTION_ALIAS } from '../core/settings';
import type { BatchOrder, LatestDecision } from './support/batch-order';

/** One S3 object. */
export interface S3Pointer {
  readonly bucket: string;
  readonly key: string;
}

/** A set of S3 objects under a prefix (the prefix ends with `/`). */
export interface S3Prefix {
  readonly bucket: string;
  readonly prefix: string;
}

/** Every step that starts a unit of work names it; intermediate objects live under it. */
export type RunId = string;

/** A published, immutable dataset version (`datasets/<name>/<version>/` in the curated bucket). */
export interface DatasetRef {
  readonly name: string;
  /** Content digest of the curated files (`sha256-<hex prefix>`), so equal data gives equal versions. */
  readonly version: string;
  /** `manifest.json`: files, row counts, the data contract version and the source. */
  readonly manifest: S3Pointer;
  readonly train: S3Pointer;
  readonly test: S3Pointer;
  /** The reference set drift is measured against. */
  readonly reference: S3Pointer;
  readonly rowCount: number;
}

export interface ContractRef {
  readonly name: string;
  readonly version: string;
}

// --- data pipeline (stepfunctions/data-pipeline.asl.json) ------------------------------------

/** Where a data pipeline run reads its rows from. */
export type DataSource =
  /** Objects under a prefix of the landing bucket (or another readable bucket). */
  | { readonly type: 's3'; readonly bucket?: string; readonly prefix: string }
  /** A dataset that ships with the project (e.g. `iris`), for demos and first runs. */
  | { readonly type: 'bundled'; readonly name: string };

export interface DataPipelineInput {
  readonly dataset: string;
  readonly source: DataSource;
}

export interface IngestDataInput {
  readonly dataset: string;
  readonly source: DataSource;
}
export interface IngestDataOutput {
  readonly runId: RunId;
  /** The rows as read, normalised to one CSV under `work/<runId>/` of the curated bucket. */
  readonly raw: S3Pointer;
  readonly rowCount: number;
  /** e.g. `s3://landing/landing/iris/2025-06-01/` or `bundled:iris`. */
  readonly source: string;
  /** The landing batch's own order (prefix, newest LastModified); null for a bundled dataset. */
  readonly batch: BatchOrder | null;
}

export interface ValidateDataInput {
  readonly dataset: string;
  readonly runId: RunId;
  readonly raw: S3Pointer;
}
export interface ValidateDataOutput {
  readonly valid: S3Pointer;
  /** Rows that broke the data contract, with a reason column; null when there are none. */
  readonly rejected: S3Pointer | null;
  readonly validRows: number;
  readonly rejectedRows: number;
  readonly contract: ContractRef;
}

export interface QuarantineRowsInput {
  readonly dataset: string;
  readonly runId: RunId;
  readonly rejected: S3Pointer;
  readonly contract: ContractRef;
}
export interface QuarantineRowsOutput {
  /** `quarantine/<dataset>/<runId>/rows.jsonl` in the quarantine bucket: `{row, reasons, record}` per line. */
  readonly quarantined: S3Pointer;
  readonly rows: number;
  /** Rejected rows per reason code (`missing_value`, `out_of_range`, …). */
  readonly reasons: Readonly<Record<string, number>>;
}

export interface SplitDatasetInput {
  readonly dataset: string;
  readonly runId: RunId;
  readonly valid: S3Pointer;
}
export interface SplitDatasetOutput {
  readonly train: S3Pointer;
  readonly test: S3Pointer;
  readonly reference: S3Pointer;
  readonly rows: { readonly train: number; readonly test: number; readonly reference: number };
}

export interface PublishDatasetInput {
  readonly dataset: string;
  readonly runId: RunId;
  readonly split: SplitDatasetOutput;
  readonly contract: ContractRef;
  readonly source: string;
  /** From ingest: decides whether `latest.json` moves to this version (support/batch-order.ts). */
  readonly batch: BatchOrder | null;
}
export interface PublishDatasetOutput {
  readonly dataset: DatasetRef;
  /** False when the same content was already published (same digest): nothing new was written. */
  readonly created: boolean;
  /** The opposite of `created`: the version already existed and was reused as it is. */
  readonly reused: boolean;
  /**
   * What happened to `datasets/<name>/latest.json`: `moved` here, `unchanged` (it already named
   * this version), or `kept` on a newer batch (this one is older: published, not made the latest).
   */
  readonly latest: LatestDecision;
}

// --- training pipeline (stepfunctions/training-pipeline.asl.json) ----------------------------

/** As the core parses it (`lambdas/core/training/candidate-specs.ts`); missing params take their defaults. */
export interface CandidateSpec {
  /** Unique within one training run, e.g. `logreg-c1`. */
  readonly name: string;
  /** A trainer family the core knows: `logistic_regression`, `ridge`, `random_forest`, `gradient_boosting`. */
  readonly family: string;
  readonly params?: Readonly<Record<string, number | string | boolean>>;
}

export interface SelectionMetric {
  readonly name: string;
  readonly higherIsBetter: boolean;
}

export interface TrainingPipelineInput {
  /** Defaults to the newest published version of the configured dataset. */
  readonly dataset?: { readonly name: string; readonly version?: string };
  /** Defaults to the project's candidate grid. */
  readonly candidates?: readonly CandidateSpec[];
  readonly reason?: 'schedule' | 'drift' | 'manual';
  /** The drift report that triggered a retraining, when `reason` is `drift`. */
  readonly drift?: S3Pointer;
}

export interface PlanTrainingInput {
  readonly request: TrainingPipelineInput;
}
export interface PlanTrainingOutput {
  readonly runId: RunId;
  readonly experimentName: string;
  readonly dataset: DatasetRef;
  readonly candidates: readonly CandidateSpec[];
  readonly selection: SelectionMetric;
  /** The whole plan as JSON (`training-runs/<runId>/plan.json`): the SageMaker trainer's input. */
  readonly plan: S3Pointer;
  /** Where the SageMaker trainer writes its `CandidateResult[]` (`training-runs/<runId>/candidates.json`). */
  readonly sageMakerResults: S3Pointer;
  /** What makes two runs "the same input" (support/training-fingerprint.ts); tagged on the version registered. */
  readonly fingerprint: string;
  /** The version an earlier run with this fingerprint registered: training is skipped and it is reused. */
  readonly reuse: ReusedTraining | null;
}

/** A version already registered for the same input, and its best candidate as select-best reported it. */
export interface ReusedTraining {
  readonly registered: RegisterModelOutput;
  readonly best: SucceededCandidate;
}

export interface TrainCandidateInput {
  readonly runId: RunId;
  readonly experimentName: string;
  readonly dataset: DatasetRef;
  readonly candidate: CandidateSpec;
}
export interface TrainCandidateOutput {
  /** An MLflow model directory (onnx flavor) under `training-runs/<runId>/<candidateId>/model/`. */
  readonly model: S3Prefix;
  readonly trainingSeconds: number;
  /** The candidate's MLflow run, created before training (a failed candidate leaves it FAILED). */
  readonly mlflowRunId: string;
}

export interface EvaluateCandidateInput {
  readonly runId: RunId;
  readonly dataset: DatasetRef;
  readonly candidate: CandidateSpec;
  readonly model: S3Prefix;
  /** Marked FAILED when the evaluation fails. */
  readonly mlflowRunId: string;
}
export interface EvaluateCandidateOutput {
  /** Holdout metrics, e.g. `{ accuracy: 0.96, f1_macro: 0.95 }`. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly report: S3Pointer;
}

export interface LogCandidateRunInput {
  readonly runId: RunId;
  readonly experimentName: string;
  readonly dataset: DatasetRef;
  readonly candidate: CandidateSpec;
  readonly training: TrainCandidateOutput;
  readonly evaluation: EvaluateCandidateOutput;
}

export interface SucceededCandidate {
  readonly status: 'succeeded';
  readonly candidateId: string;
  readonly algorithm: string;
  readonly mlflowRunId: string;
  /** The LoggedModel's artifact location: the registered version's source. */
  readonly modelUri: string;
  /** MLflow 3's LoggedModel id, linked from the registered version. */
  readonly modelId?: string;
  readonly metrics: Readonly<Record<string, number>>;
}
/** Built by the state machine's `CandidateFailed` Pass state from the caught error. */
export interface FailedCandidate {
  readonly status: 'failed';
  readonly candidateId: string;
  readonly error: string;
  readonly cause: string;
}
export type CandidateResult = SucceededCandidate | FailedCandidate;
export type LogCandidateRunOutput = SucceededCandidate;

export interface CollectSageMakerResultsInput {
  readonly runId: RunId;
  readonly results: S3Pointer;
}
export type CollectSageMakerResultsOutput = readonly CandidateResult[];

export interface SelectBestInput {
  readonly runId: RunId;
  readonly candidates: readonly CandidateResult[];
  readonly selection: SelectionMetric;
}
export interface SelectBestOutput {
  readonly best: SucceededCandidate;
  /** Succeeded candidates, best first. */
  readonly ranking: readonly { readonly candidateId: string; readonly value: number }[];
  readonly failed: number;
}

export interface RegisterModelInput {
  readonly runId: RunId;
  readonly best: SucceededCandidate;
  readonly dataset: DatasetRef;
  /** Recorded on the version (`mlops.selection.metric` / `.value`). */
  readonly selection: SelectionMetric;
  /** The plan's training fingerprint, tagged on the version (`mlops.training_fingerprint`). */
  readonly fingerprint?: string;
}
export interface RegisteredModel {
  readonly name: string;
  readonly version: string;
  readonly mlflowRunId: string;
  readonly source: string;
}
export interface RegisterModelOutput extends RegisteredModel {
  /** True when an existing version (same fingerprint, or same best run) was returned instead of a new one. */
  readonly reused: boolean;
}

/**
 * The state machine's `PromotionMode` setting (`production`: Production only when the new version
 * wins); promote-model maps it to the core's PROMOTION_MODES (`production-if-better`).
 */
export type { PromotionMode } from '../core/settings';

import type { PromotionMode } from '../core/settings';

export interface PromoteModelInput {
  /** `challenger` sets the alias; `production` sets Production only when the new version wins. */
  readonly mode: Exclude<PromotionMode, 'none'>;
  readonly model: RegisteredModel;
  /** The holdout both the new and the current Production version are scored on. */
  readonly holdout: S3Pointer;
  /** The dataset the holdout belongs to: its manifest says how to decode the holdout. */
  readonly dataset: DatasetRef;
  readonly selection: SelectionMetric;
}
export interface PromoteModelOutput {
  /** The alias now pointing at the new version; `Challenger` when it did not beat Production. */
  readonly alias: typeof CHALLENGER_ALIAS | typeof PRODUCTION_ALIAS;
  readonly promotedToProduction: boolean;
  /** Null in `challenger` mode: nothing is scored to set Challenger. */
  readonly candidateScore: number | null;
  /** Null when there was no Production version to beat. */
  readonly productionVersion: string | null;
  readonly productionScore: number | null;
  readonly reason: string;
}

/**
 * The SageMaker training branch: the container (docker/trainer/Dockerfile, entry
 * `lambdas/sagemaker-trainer/main.ts`) gets these hyperparameters, trains every candidate of
 * the plan with the same core code as the Lambda branch and writes `CandidateResult[]` to
 * `PlanTrainingOutput.sageMakerResults`. SageMaker hands every value over as a string.
 */
export interface SageMakerTrainerHyperparameters {
  /** Where PlanTraining wrote the plan (`PlanTrainingOutput.plan`). */
  readonly plan_bucket: string;
  readonly plan_key: string;
  /** Candidates trained at once, a whole number of 1 or more: the Map's `MaxConcurrency`. @default '1' */
  readonly max_concurrency?: string;
}

// --- inference pipeline (stepfunctions/inference-pipeline.asl.json) --------------------------

export interface ModelVersionRef {
  readonly name: string;
  readonly version: string;
  readonly alias: string;
  readonly mlflowRunId: string;
}

export interface InferencePipelineInput {
  /** Defaults to the newest batch under `landing/<dataset>/` of the landing bucket. */
  readonly input?: S3Prefix;
}

export interface PlanInferenceInput {
  readonly request: InferencePipelineInput;
  /** Up to this many objects are listed in `objects` for the inline Map. */
  readonly inlineObjectLimit: number;
}
export interface PlanInferenceOutput {
  readonly runId: RunId;
  readonly input: S3Prefix;
  readonly objectCount: number;
  /** The input objects when `objectCount <= inlineObjectLimit`, else empty (the Distributed Map lists them). */
  readonly objects: readonly { readonly Key: string }[];
  /** `predictions/<runId>/` in the predictions bucket. */
  readonly output: S3Prefix;
  /** Resolved once, so every batch of a run scores with the same versions even if an alias moves. */
  readonly models: {
    readonly production: ModelVersionRef;
    readonly challenger: ModelVersionRef | null;
  };
}

export interface PredictBatchInput {
  readonly runId: RunId;
  readonly object: S3Pointer;
  readonly output: S3Prefix;
  readonly models: PlanInferenceOutput['models'];
}
export interface PredictBatchOutput {
  readonly object: S3Pointer;
  /** Rows scored: those that meet the model's data contract. */
  readonly rows: number;
  /** Rows left out because they break the model's data contract. */
  readonly rejectedRows: number;
  /**
   * Production's predictions, `<output.prefix>production/<object path>.parquet`: `row_id` (the
   * input's 1-based row number), `label` and `probability_<class>` (a regressor: `prediction`),
   * `model_version`, `alias`. Null when no row was scored.
   */
  readonly predictions: S3Pointer | null;
  /** The Challenger's predictions for the same rows (`…/challenger/…`, same columns); null when there is no Challenger. */
  readonly shadow: S3Pointer | null;
  /** Per-batch counts and agreement, read back by compare-predictions (`<output.prefix>summaries/`); null when skipped. */
  readonly summary: S3Pointer | null;
  /** Why the object was not scored (not a data file: a folder key, `input_schema.json`, …); null when scored. */
  readonly skipped: string | null;
}

export interface ComparePredictionsInput {
  readonly runId: RunId;
  readonly output: S3Prefix;
  readonly models: PlanInferenceOutput['models'];
}
export interface ComparePredictionsOutput {
  readonly mlflowRunId: string;
  readonly objects: number;
  readonly rows: number;
  /** Share of rows where Production and Challenger agree; null without a Challenger. */
  readonly agreementRate: number | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly report: S3Pointer;
}

// --- monitoring pipeline (stepfunctions/monitoring-pipeline.asl.json) ------------------------

export interface MonitoringPipelineInput {
  /** Defaults to the newest landing batch of the dataset. */
  readonly current?: S3Prefix;
  /**
   * Defaults to the dataset version Production was trained on (its `mlops.dataset.*` tags), else
   * the newest published version of the configured dataset; its reference split is the baseline.
   */
  readonly dataset?: { readonly name: string; readonly version?: string };
  /**
   * An inference run's output (`predictions/<runId>/`; its `production/` files are read) or a
   * prefix ending in `production/`. Defaults to the newest inference run's.
   */
  readonly predictions?: S3Prefix;
}

export interface ComputeDriftInput {
  readonly request: MonitoringPipelineInput;
  readonly threshold: number;
}
export interface ComputeDriftOutput {
  readonly runId: RunId;
  /** ISO 8601 time of the run. */
  readonly timestamp: string;
  readonly modelName: string;
  readonly modelVersion: string | null;
  /** The headline metric compared with the threshold (`DRIFT_METRIC`, default `share_drifted`). */
  readonly metric: string;
  /** Null when no feature could be compared (e.g. an empty window): then `drifted` is false. */
  readonly value: number | null;
  readonly threshold: number;
  readonly drifted: boolean;
  /** Drifted columns, most drifted first (feature names and `prediction`). */
  readonly driftedColumns: readonly string[];
  /**
   * The run's whole outcome, per-column statistics (KS, PSI, Wasserstein, Jensen-Shannon) included:
   * `drift/<runId>/report.json` in the monitoring bucket.
   */
  readonly report: S3Pointer;
  /** The MLflow UI page of the run's self-contained HTML report (`drift_report.html`). */
  readonly reportUrl: string | null;
  /** One JSON line per column and a summary line, `drift/metrics/dt=<YYYY-MM-DD>/run-<time>.jsonl`. */
  readonly metrics: S3Pointer;
  /** The run in the `monitoring-<model>` MLflow experiment (statistics, `drift_report.html`, `drift_result.json`). */
  readonly mlflowRunId: string;
}

export interface SendDriftAlertInput {
  readonly drift: ComputeDriftOutput;
}
export interface SendDriftAlertOutput {
  /** `breach` and `recovery` send an e-mail once per episode; `none` sends nothing. */
  readonly decision: 'breach' | 'recovery' | 'none';
  readonly messageId: string | null;
  readonly episodeSince: string | null;
}

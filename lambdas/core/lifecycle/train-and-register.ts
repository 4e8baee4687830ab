/**
 * A whole training run in one call — prepare, train and log every candidate, select and
 * register the best, optionally promote it — composed from the same step functions the training
 * state machine calls one by one (prepareDataset, trainAndLogCandidate, selectAndRegister,
 * promoteVersion), so the CLI and the pipeline cannot drift apart.
 */
import type { DataContract } from '../data';
import { promotionModeOf } from '../settings';
import {
  type CandidateSpec,
  defaultCandidates,
  FAMILY_TASKS,
  parseCandidateSpec,
} from '../training/candidate-specs';
import { CandidateSpecError } from '../training/errors';
import type { Task } from '../training/model-types';
import { type BlobStore, memoryBlobStore } from './blob-store';
import type { CandidateResult } from './candidate-ranking';
import { trainAndLogCandidate } from './candidate-run';
import type { DatasetSource } from './dataset-source';
import { CandidateFailedError, TrainingRequestError } from './errors';
import { modelExperiment } from './mlflow-native';
import { type PreparedDataset, prepareDataset, type SplitMethod } from './prepare-dataset';
import { promoteVersion } from './promote-version';
import { PROMOTION_MODES, type PromotionDecision, type PromotionMode } from './promotion-gate';
import { selectAndRegister } from './register-best';
import { resolveSelectionMetric } from './selection-metric';
import type { TrackingClient } from './tracking-client';

export interface TrainRequest {
  readonly dataset: DatasetSource;
  readonly contract?: DataContract;
  /** @default the dataset's name */
  readonly experiment?: string;
  /** @default `<dataset>-classifier` or `<dataset>-regressor` */
  readonly modelName?: string;
  /** Specs or their JSON form; @default one per family that does the task, default hyper-parameters. */
  readonly candidates?: readonly (CandidateSpec | unknown)[];
  /** @default 42 */
  readonly seed?: number;
  /** @default f1_macro (classification), rmse (regression) */
  readonly metric?: string;
  /** @default 'none' */
  readonly promote?: PromotionMode;
  /** @default 0.2 */
  readonly testFraction?: number;
  /** @default `time` when the contract has a time column, else `random` (see prepare-dataset.ts) */
  readonly split?: SplitMethod;
  /** @default 0.1 (see prepare-dataset.ts) */
  readonly maxQuarantinedShare?: number;
}

export type TrainingProgress =
  | { readonly type: 'prepared'; readonly dataset: PreparedDataset }
  | {
      readonly type: 'candidate-started';
      readonly index: number;
      readonly total: number;
      readonly name: string;
    }
  | {
      readonly type: 'candidate-finished';
      readonly index: number;
      readonly total: number;
      readonly result: CandidateResult;
      /** Wall time of the whole candidate step: training, scoring and logging. */
      readonly seconds: number;
    }
  | { readonly type: 'registered'; readonly model: string; readonly version: string }
  | { readonly type: 'promoted'; readonly decision: PromotionDecision };

export interface TrainDeps {
  readonly mlflow: TrackingClient;
  /** Where the splits go between steps. @default in memory */
  readonly store?: BlobStore;
  readonly onProgress?: (event: TrainingProgress) => void;
}

export interface CandidateSummary {
  readonly name: string;
  readonly family: string;
  readonly status: 'succeeded' | 'failed';
  /** Null only when the candidate failed before its MLflow run existed. */
  readonly run_id: string | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly training_seconds: number | null;
  readonly error?: string;
}

export interface TrainResult {
  readonly model: string;
  readonly version: string;
  readonly run_id: string;
  readonly metric: { readonly name: string; readonly value: number };
  readonly best: string;
  readonly candidates: readonly CandidateSummary[];
  readonly dataset: {
    readonly name: string;
    readonly version: string;
    readonly digest: string;
    /** Valid rows trained and tested on. */
    readonly rows: number;
    readonly quarantined: number;
    readonly train_rows: number;
    readonly test_rows: number;
    readonly split: SplitMethod;
    /** The first rejected rows, with column and reason. */
    readonly rejections: PreparedDataset['rejections'];
    readonly quarantine: string | null;
  };
  readonly promotion: PromotionDecision | null;
}

export async function trainAndRegister(request: TrainRequest, deps: TrainDeps): Promise<TrainResult> {
  const promote = promotionModeOf(request.promote ?? 'none');
  if (promote === undefined) {
    throw new TrainingRequestError(
      'promote',
      `must be one of ${PROMOTION_MODES.join(', ')}, got '${request.promote}'`,
    );
  }
  const givenSpecs = request.candidates?.map(parseSpec);
  const store = deps.store ?? memoryBlobStore();
  const progress = deps.onProgress ?? (() => {});

  const prepared = await prepareDataset(
    {
      dataset: request.dataset,
      ...(request.contract && { contract: request.contract }),
      ...(request.seed !== undefined && { seed: request.seed }),
      ...(request.testFraction !== undefined && { testFraction: request.testFraction }),
      ...(request.split && { split: request.split }),
      ...(request.maxQuarantinedShare !== undefined && { maxQuarantinedShare: request.maxQuarantinedShare }),
    },
    store,
  );
  progress({ type: 'prepared', dataset: prepared });
  const metric = resolveSelectionMetric(prepared.task, request.metric);
  const specs = checkSpecs(givenSpecs ?? defaultCandidates(prepared.task), prepared.task);
  const modelName = request.modelName ?? defaultModelName(prepared.name, prepared.task);
  // Named after the model, as the training pipeline names it (MLFLOW_EXPERIMENT_NAME, else the model).
  const experiment = await modelExperiment(deps.mlflow, request.experiment ?? modelName);

  const results: CandidateResult[] = [];
  for (const [index, spec] of specs.entries()) {
    progress({ type: 'candidate-started', index, total: specs.length, name: spec.name });
    const started = performance.now();
    let result: CandidateResult;
    try {
      result = await trainAndLogCandidate(
        { prepared, candidate: spec, experimentId: experiment.experiment_id },
        { mlflow: deps.mlflow, store },
      );
    } catch (error) {
      // One failed candidate does not stop the others (as in the state machine's Map); the run fails if all do.
      if (!(error instanceof CandidateFailedError)) throw error;
      const cause =
        error.cause instanceof Error ? `${error.cause.name}: ${error.cause.message}` : error.message;
      result = {
        status: 'failed',
        name: spec.name,
        family: spec.family,
        error: cause,
        ...(error.runId !== null && { runId: error.runId }),
      };
    }
    results.push(result);
    progress({
      type: 'candidate-finished',
      index,
      total: specs.length,
      result,
      seconds: (performance.now() - started) / 1000,
    });
  }

  const registered = await selectAndRegister(
    { prepared, results, modelName, metric },
    { mlflow: deps.mlflow },
  );
  progress({ type: 'registered', model: registered.model, version: registered.version });
  let promotion: PromotionDecision | null = null;
  if (promote !== 'none') {
    promotion = await promoteVersion(
      { model: registered.model, version: registered.version, mode: promote, metric, prepared },
      { mlflow: deps.mlflow, store },
    );
    progress({ type: 'promoted', decision: promotion });
  }

  return {
    model: registered.model,
    version: registered.version,
    run_id: registered.runId,
    metric: registered.metric,
    best: registered.best.name,
    candidates: results.map(summarize),
    dataset: {
      name: prepared.name,
      version: prepared.version,
      digest: prepared.digest,
      rows: prepared.rows.valid,
      quarantined: prepared.rows.quarantined,
      train_rows: prepared.rows.train,
      test_rows: prepared.rows.test,
      split: prepared.split,
      rejections: prepared.rejections,
      quarantine: prepared.quarantine,
    },
    promotion,
  };
}

export function defaultModelName(dataset: string, task: Task): string {
  return `${dataset}-${task === 'classification' ? 'classifier' : 'regressor'}`;
}

function parseSpec(input: unknown, index: number): CandidateSpec {
  try {
    return parseCandidateSpec(input);
  } catch (error) {
    if (error instanceof CandidateSpecError) {
      throw new TrainingRequestError(
        `candidates[${index}].${error.field}`,
        error.message.replace(/^[^:]*: /, ''),
      );
    }
    throw error;
  }
}

/** Every spec must fit the task and have its own name (the name is the MLflow run's). */
function checkSpecs(specs: readonly CandidateSpec[], task: Task): readonly CandidateSpec[] {
  if (specs.length === 0) throw new TrainingRequestError('candidates', 'at least one candidate is needed');
  const seen = new Set<string>();
  specs.forEach((spec, index) => {
    if (seen.has(spec.name))
      throw new TrainingRequestError(`candidates[${index}].name`, `'${spec.name}' is used twice`);
    seen.add(spec.name);
    if (!FAMILY_TASKS[spec.family].includes(task)) {
      throw new TrainingRequestError(
        `candidates[${index}].family`,
        `${spec.family} does not do ${task}; the dataset's task is ${task}`,
      );
    }
  });
  return specs;
}

function summarize(result: CandidateResult): CandidateSummary {
  if (result.status === 'succeeded') {
    return {
      name: result.name,
      family: result.family,
      status: 'succeeded',
      run_id: result.runId,
      metrics: result.metrics,
      training_seconds: result.trainingSeconds,
    };
  }
  return {
    name: result.name,
    family: result.family,
    status: 'failed',
    run_id: result.runId ?? null,
    metrics: {},
    training_seconds: null,
    error: result.error,
  };
}

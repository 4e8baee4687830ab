/**
 * Step 2 of a training run, once per candidate: train it on the prepared training split, score it
 * on the holdout, and record everything in one MLflow run — hyper-parameters as params, holdout
 * metrics, tags (candidate, family, task, dataset name / version / digest, and MLflow's source and
 * user), the dataset as a run input with its digest, and the model directory (onnx flavor, input
 * example from the test split, the data contract) as the run's LoggedModel (mlflow-native.ts).
 *
 * The run is created before training, so a candidate that fails still leaves a FAILED run with
 * the reason in its `mlops.error` tag.
 */

import { type DatasetInputRequest, datasetInput, keyValues } from '../mlflow';
import { buildModelDirectory, type ModelFiles } from '../model-format';
import { type CandidateSpec, parseCandidateSpec } from '../training/candidate-specs';
import type { FittedModel } from '../training/model-types';
import { modelInputs } from '../training/preprocessing';
import { evaluate, trainCandidate } from '../training/train-candidate';
import type { TrainingData } from '../training/training-data';
import type { BlobStore } from './blob-store';
import type { SucceededCandidateResult } from './candidate-ranking';
import { CandidateFailedError } from './errors';
import { localRunSource, logModelDirectory, type RunSource, runSourceTags } from './mlflow-native';
import { loadSplit, type PreparedDataset } from './prepare-dataset';
import { datasetTags, MODEL_ARTIFACT_PATH, TAGS, type TrackingClient } from './tracking-client';
import { exampleRows } from './trainer-input';

/** The flavor our model directories are in (MLmodel's `flavors`), the LoggedModel's type. */
const MODEL_FLAVOR = 'onnx';

/** Rows of the test split logged as the model's input example. */
const INPUT_EXAMPLE_ROWS = 5;
/** MLflow keeps tag values up to 8000 characters; an error message need not be longer. */
const MAX_ERROR_TAG = 4000;

export interface CandidateRunRequest {
  readonly prepared: PreparedDataset;
  /** A typed spec, or its JSON form (`{ name, family, params? }`) from a state machine's input. */
  readonly candidate: CandidateSpec | unknown;
  readonly experimentId: string;
  /** Extra run tags (e.g. the pipeline execution). */
  readonly tags?: Readonly<Record<string, string>>;
  /** Who and what started the run; @default the `mlops train` command and the current user. */
  readonly source?: RunSource;
}

export interface CandidateRunDeps {
  readonly mlflow: TrackingClient;
  readonly store: BlobStore;
}

/**
 * Trains, evaluates and logs one candidate. Throws CandidateFailedError (naming the candidate,
 * the stage and the MLflow run, which is then marked FAILED) when any part fails.
 */
export async function trainAndLogCandidate(
  request: CandidateRunRequest,
  deps: CandidateRunDeps,
): Promise<SucceededCandidateResult> {
  const { prepared } = request;
  const spec = parseCandidateSpec(request.candidate);
  const run = await deps.mlflow.createRun({
    experiment_id: request.experimentId,
    run_name: spec.name,
    tags: keyValues({
      ...runSourceTags(request.source ?? localRunSource('mlops train')),
      ...candidateRunTags(prepared, spec),
      ...request.tags,
    }),
  });
  const runId = run.info.run_id;
  let stage: CandidateFailedError['stage'] = 'train';
  try {
    const [train, test] = await Promise.all([
      loadSplit(prepared, 'train', deps.store),
      loadSplit(prepared, 'test', deps.store),
    ]);
    const started = performance.now();
    const model = trainCandidate(spec, train, prepared.seed);
    const trainingSeconds = (performance.now() - started) / 1000;
    stage = 'evaluate';
    const metrics: Record<string, number> = { ...evaluate(model, test) };

    stage = 'log';
    await deps.mlflow.logBatch({
      run_id: runId,
      params: keyValues(candidateParams(prepared, spec)),
      metrics: [
        ...Object.entries(metrics).map(([key, value]) => ({ key, value })),
        { key: 'training_seconds', value: trainingSeconds },
        { key: 'train_rows', value: train.rows },
        { key: 'test_rows', value: test.rows },
      ],
    });
    await deps.mlflow.logInputs({ run_id: runId, datasets: [candidateDatasetInput(prepared)] });
    const logged = await logModelDirectory(deps.mlflow, {
      experimentId: request.experimentId,
      runId,
      files: candidateModelDirectory({ model, test, prepared, spec, runId }),
      modelType: MODEL_FLAVOR,
    });
    await deps.mlflow.endRun(runId, 'FINISHED');
    return {
      status: 'succeeded',
      name: spec.name,
      family: spec.family,
      runId,
      modelUri: logged.modelUri,
      modelId: logged.modelId,
      metrics,
      trainingSeconds,
    };
  } catch (error) {
    const failure = new CandidateFailedError(spec.name, stage, runId, { cause: error });
    await recordRunFailure(deps.mlflow, runId, failure.message);
    throw failure;
  }
}

// What a candidate's run records, shared with the training pipeline's steps (lambdas/steps/support/
// candidate-mlflow-run.ts), which log the same run over three Lambdas: runs from the CLI and the
// pipeline compare.

/** The run's tags: the candidate, and the dataset version and contract it was trained on. */
export function candidateRunTags(prepared: PreparedDataset, spec: CandidateSpec): Record<string, string> {
  return {
    [TAGS.candidate]: spec.name,
    [TAGS.family]: spec.family,
    [TAGS.task]: prepared.task,
    ...datasetTags(prepared),
    [TAGS.datasetSource]: prepared.source,
    [TAGS.trainingRun]: prepared.runKey,
  };
}

/** The spec's hyper-parameters (defaults filled in by the spec parser) and the split settings. */
export function candidateParams(prepared: PreparedDataset, spec: CandidateSpec): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.params))
    if (value !== undefined) params[key] = String(value);
  return {
    ...params,
    seed: String(prepared.seed),
    test_fraction: String(prepared.testFraction),
    split: prepared.split,
  };
}

/**
 * The dataset as the run's input: its version is the digest, its contract the schema. `source` is
 * where the rows were read from: by default where the dataset came from.
 */
export function candidateDatasetInput(
  prepared: PreparedDataset,
  source: string = prepared.source,
): DatasetInputRequest {
  return datasetInput(
    {
      name: prepared.name,
      digest: prepared.version,
      source_type: sourceType(source),
      source: JSON.stringify({ uri: source }),
      schema: JSON.stringify({
        mlflow_colspec: prepared.contract.columns.map((column) => ({
          name: column.name,
          type: mlflowType(column.type),
        })),
      }),
      profile: JSON.stringify({
        num_rows: prepared.rows.valid,
        quarantined_rows: prepared.rows.quarantined,
        train_rows: prepared.rows.train,
        test_rows: prepared.rows.test,
      }),
    },
    'training',
  );
}

export interface CandidateModelRequest {
  readonly model: FittedModel;
  /** The test split: its first rows are the input example. */
  readonly test: TrainingData;
  readonly prepared: PreparedDataset;
  readonly spec: CandidateSpec;
  readonly runId: string;
}

/** The candidate's MLflow model directory (onnx flavor), naming its dataset and candidate in MLmodel. */
export function candidateModelDirectory(request: CandidateModelRequest): ModelFiles {
  const { prepared, spec } = request;
  return buildModelDirectory({
    model: request.model,
    ...(request.test.raw
      ? { inputExample: exampleRows(request.test.raw, modelInputs(request.model), INPUT_EXAMPLE_ROWS) }
      : {}),
    dataContract: prepared.contract,
    runId: request.runId,
    artifactPath: MODEL_ARTIFACT_PATH,
    metadata: {
      dataset_name: prepared.name,
      dataset_version: prepared.version,
      contract_version: prepared.contractVersion,
      candidate: spec.name,
      family: spec.family,
    },
  });
}

/** Best effort: the failure being reported matters more than a failure to record it. */
export async function recordRunFailure(
  mlflow: Pick<TrackingClient, 'logBatch' | 'endRun'>,
  runId: string,
  message: string,
): Promise<void> {
  await mlflow
    .logBatch({ run_id: runId, tags: [{ key: TAGS.error, value: message.slice(0, MAX_ERROR_TAG) }] })
    .catch(() => {});
  await mlflow.endRun(runId, 'FAILED').catch(() => {});
}

function sourceType(source: string): string {
  if (source.startsWith('s3://')) return 's3';
  if (source.startsWith('bundled:')) return 'code';
  if (source.startsWith('frame:')) return 'code';
  return 'local';
}

/** Contract types in MLflow's column-spec vocabulary. */
function mlflowType(type: string): string {
  switch (type) {
    case 'number':
      return 'double';
    case 'integer':
      return 'long';
    case 'category':
      return 'string';
    default:
      return type;
  }
}

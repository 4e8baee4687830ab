/**
 * The MLflow run of one candidate, spread over the train / evaluate / log steps: train-candidate
 * creates it (so a candidate that fails still leaves a FAILED run with its reason), log-candidate-run
 * fills and finishes it. Tags, params and the dataset input are the core's (`trainAndLogCandidate`
 * logs the same), so runs from the CLI and the pipeline compare.
 */
import {
  candidateDatasetInput,
  candidateParams,
  candidateRunTags,
  recordRunFailure,
} from '../../core/lifecycle/candidate-run';
import { pipelineRunSource, runSourceTags } from '../../core/lifecycle/mlflow-native';
import type { PreparedDataset } from '../../core/lifecycle/prepare-dataset';
import { TAGS } from '../../core/lifecycle/tracking-client';
import { type DatasetInputRequest, type KeyValue, keyValues, type MlflowClient } from '../../core/mlflow';
import type { CandidateSpec } from '../../core/training/candidate-specs';

/** The runs' source and user in MLflow's UI. */
const TRAINING_PIPELINE = 'training-pipeline';

/** Tag naming the pipeline's training run (the state machine's `plan.runId`). */
export const PIPELINE_RUN_TAG = 'mlops.pipeline_run';

export function pipelineCandidateRunTags(
  prepared: PreparedDataset,
  spec: CandidateSpec,
  pipelineRun: string,
): KeyValue[] {
  return keyValues({
    ...runSourceTags(pipelineRunSource(TRAINING_PIPELINE, pipelineRun)),
    ...candidateRunTags(prepared, spec),
    [TAGS.trainingRun]: pipelineRun,
    [PIPELINE_RUN_TAG]: pipelineRun,
  });
}

export function pipelineCandidateParams(prepared: PreparedDataset, spec: CandidateSpec): KeyValue[] {
  return keyValues(candidateParams(prepared, spec));
}

/** The published dataset version as the run's input, read from its curated prefix. */
export function datasetRunInput(prepared: PreparedDataset): DatasetInputRequest {
  return candidateDatasetInput(prepared, prepared.splits.train.replace(/train\.parquet$/, ''));
}

/** Records `<stage>: <error>` on the run and marks it FAILED, best effort. */
export async function markRunFailed(
  mlflow: MlflowClient,
  runId: string,
  stage: string,
  error: unknown,
): Promise<void> {
  const message = `${stage}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  await recordRunFailure(mlflow, runId, message);
}

/**
 * Log one candidate to its MLflow run: hyper-parameters, holdout metrics, training time and row
 * counts, the dataset version as a run input, and the model directory as the run's LoggedModel;
 * then finish the run. Its result is the Map item's `SucceededCandidate`.
 */

import { logModelDirectory } from '../../core/lifecycle/mlflow-native';
import type { PreparedDataset } from '../../core/lifecycle/prepare-dataset';
import { MlflowApiError, type MlflowClient } from '../../core/mlflow';
import { parseCandidateSpec } from '../../core/training';
import type { LogCandidateRunInput, LogCandidateRunOutput } from '../step-io';
import { datasetRunInput, markRunFailed, pipelineCandidateParams } from '../support/candidate-mlflow-run';
import { loadPrepared } from '../support/dataset-manifest';
import { readModelFilesFrom } from '../support/model-files';
import type { StepContext } from '../support/step-context';

export async function logCandidateRun(
  input: LogCandidateRunInput,
  context: StepContext,
): Promise<LogCandidateRunOutput> {
  const mlflow = context.mlflow();
  const runId = input.training.mlflowRunId;
  try {
    const spec = parseCandidateSpec(input.candidate);
    const prepared = await loadPrepared(context, input.dataset, input.runId);
    const metrics = input.evaluation.metrics;
    await mlflow.logBatch({
      run_id: runId,
      params: pipelineCandidateParams(prepared, spec),
      metrics: [
        ...Object.entries(metrics).map(([key, value]) => ({ key, value })),
        { key: 'training_seconds', value: input.training.trainingSeconds },
        { key: 'train_rows', value: prepared.rows.train },
        { key: 'test_rows', value: prepared.rows.test },
      ],
    });
    await logDatasetInput(mlflow, runId, prepared);
    const run = await mlflow.getRun(runId);
    const logged = await logModelDirectory(mlflow, {
      experimentId: run.info.experiment_id,
      runId,
      files: await readModelFilesFrom(context, input.training.model),
      modelType: 'onnx',
    });
    await mlflow.endRun(runId, 'FINISHED');
    return {
      status: 'succeeded',
      candidateId: spec.name,
      algorithm: spec.family,
      mlflowRunId: runId,
      modelUri: logged.modelUri,
      modelId: logged.modelId,
      metrics,
    };
  } catch (error) {
    await markRunFailed(mlflow, runId, 'log', error);
    throw error;
  }
}

/**
 * MLflow creates the dataset row of an input on first use, without guarding against a concurrent
 * creator: two candidates of one Map logging the same dataset at once can get a unique-key
 * violation (HTTP 400) for the one that lost. Its second attempt finds the row and links it.
 */
async function logDatasetInput(
  mlflow: MlflowClient,
  runId: string,
  prepared: PreparedDataset,
): Promise<void> {
  const request = { run_id: runId, datasets: [datasetRunInput(prepared)] };
  try {
    await mlflow.logInputs(request);
  } catch (error) {
    if (
      !(
        error instanceof MlflowApiError &&
        /UniqueViolation|UNIQUE constraint|already exists/i.test(error.message)
      )
    ) {
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 300));
    await mlflow.logInputs(request);
  }
}

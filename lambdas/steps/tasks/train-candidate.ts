/**
 * Train one candidate on the published training split and export it as an MLflow model
 * directory (onnx flavor, input example from the test split, the data contract), left under
 * `training-runs/<runId>/<candidate>/model/` for the evaluate and log steps. The candidate's
 * MLflow run is created first, so a candidate that fails here still leaves a FAILED run.
 */
import { s3BlobStore } from '../../core/lifecycle/blob-store';
import { candidateModelDirectory } from '../../core/lifecycle/candidate-run';
import { modelExperiment } from '../../core/lifecycle/mlflow-native';
import { loadSplit } from '../../core/lifecycle/prepare-dataset';
import { trainCandidate as fitCandidate, parseCandidateSpec } from '../../core/training';
import type { TrainCandidateInput, TrainCandidateOutput } from '../step-io';
import { markRunFailed, pipelineCandidateRunTags } from '../support/candidate-mlflow-run';
import { loadPrepared } from '../support/dataset-manifest';
import { candidateModelPrefix, writeModelFiles } from '../support/model-files';
import type { StepContext } from '../support/step-context';

export async function trainCandidate(
  input: TrainCandidateInput,
  context: StepContext,
): Promise<TrainCandidateOutput> {
  const spec = parseCandidateSpec(input.candidate);
  const prepared = await loadPrepared(context, input.dataset, input.runId);
  const mlflow = context.mlflow();
  const experiment = await modelExperiment(mlflow, input.experimentName);
  const run = await mlflow.createRun({
    experiment_id: experiment.experiment_id,
    run_name: spec.name,
    tags: pipelineCandidateRunTags(prepared, spec, input.runId),
  });
  const mlflowRunId = run.info.run_id;
  try {
    const store = s3BlobStore({ client: context.s3, bucket: context.config.buckets.curated });
    const [train, test] = await Promise.all([
      loadSplit(prepared, 'train', store),
      loadSplit(prepared, 'test', store),
    ]);
    const started = performance.now();
    const model = fitCandidate(spec, train, prepared.seed);
    const trainingSeconds = (performance.now() - started) / 1000;
    const files = candidateModelDirectory({ model, test, prepared, spec, runId: mlflowRunId });
    const modelAt = candidateModelPrefix(context, input.runId, spec.name);
    await writeModelFiles(context, modelAt, files);
    return { model: modelAt, trainingSeconds, mlflowRunId };
  } catch (error) {
    await markRunFailed(mlflow, mlflowRunId, 'train', error);
    throw error;
  }
}

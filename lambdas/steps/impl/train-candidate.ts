/**
 * Train one candidate on the published training split and export it as an MLflow model
 * directory (onnx flavor, input example from the test split, the data contract), left under
 * `training-runs/<runId>/<candidate>/model/` for the evaluate and log steps. The candidate's
 * MLflow run is created first, so a candidate that fails here still leaves a FAILED run.
 */
import { loadSplit, MODEL_ARTIFACT_PATH, s3BlobStore } from '../../core/lifecycle';
import { exampleRows } from '../../core/lifecycle/trainer-input';
import { buildModelDirectory } from '../../core/model-format';
import { trainCandidate as fitCandidate, parseCandidateSpec } from '../../core/training';
import type { TrainCandidateInput, TrainCandidateOutput } from '../contracts';
import { candidateRunTags, markRunFailed } from './candidate-mlflow-run';
import { loadPrepared } from './dataset-manifest';
import { candidateModelPrefix, writeModelFiles } from './model-files';
import type { StepContext } from './step-context';

/** Rows of the test split logged as the model's input example. */
const INPUT_EXAMPLE_ROWS = 5;

export async function trainCandidate(
  input: TrainCandidateInput,
  context: StepContext,
): Promise<TrainCandidateOutput> {
  const spec = parseCandidateSpec(input.candidate);
  const prepared = await loadPrepared(context, input.dataset, input.runId);
  const mlflow = context.mlflow();
  const experiment = await mlflow.getOrCreateExperiment(input.experimentName);
  const run = await mlflow.createRun({
    experiment_id: experiment.experiment_id,
    run_name: spec.name,
    tags: candidateRunTags(prepared, spec, input.runId),
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
    const files = buildModelDirectory({
      model,
      inputExample: exampleRows(test, INPUT_EXAMPLE_ROWS),
      dataContract: prepared.contract,
      runId: mlflowRunId,
      artifactPath: MODEL_ARTIFACT_PATH,
      metadata: {
        dataset_name: prepared.name,
        dataset_version: prepared.version,
        contract_version: prepared.contractVersion,
        candidate: spec.name,
        family: spec.family,
      },
    });
    const modelAt = candidateModelPrefix(context, input.runId, spec.name);
    await writeModelFiles(context, modelAt, files);
    return { model: modelAt, trainingSeconds, mlflowRunId };
  } catch (error) {
    await markRunFailed(mlflow, mlflowRunId, 'train', error);
    throw error;
  }
}

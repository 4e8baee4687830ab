/**
 * The MLflow run of one candidate, spread over the train / evaluate / log steps: train-candidate
 * creates it (so a candidate that fails still leaves a FAILED run with its reason), log-candidate-run
 * fills and finishes it. Tags, params and the dataset input are the ones the core's
 * `trainAndLogCandidate` logs (same `TAGS` keys), so runs from the CLI and the pipeline compare.
 */
import type { PreparedDataset } from '../../core/lifecycle';
import { TAGS } from '../../core/lifecycle';
import { type DatasetInputRequest, datasetInput, type KeyValue, type MlflowClient } from '../../core/mlflow';
import type { CandidateSpec } from '../../core/training/candidate-specs';

/** MLflow keeps tag values up to 8000 characters; an error message need not be longer. */
const MAX_ERROR_TAG = 4000;
/** Tag naming the pipeline's training run (the state machine's `plan.runId`). */
export const PIPELINE_RUN_TAG = 'mlops.pipeline_run';

export function candidateRunTags(
  prepared: PreparedDataset,
  spec: CandidateSpec,
  pipelineRun: string,
): KeyValue[] {
  return keyValues({
    [TAGS.candidate]: spec.name,
    [TAGS.family]: spec.family,
    [TAGS.task]: prepared.task,
    [TAGS.datasetName]: prepared.name,
    [TAGS.datasetVersion]: prepared.version,
    [TAGS.datasetDigest]: prepared.digest,
    [TAGS.datasetSource]: prepared.source,
    [TAGS.quarantinedRows]: String(prepared.rows.quarantined),
    [TAGS.contractVersion]: prepared.contractVersion,
    [TAGS.trainingRun]: pipelineRun,
    [PIPELINE_RUN_TAG]: pipelineRun,
  });
}

/** The spec's hyper-parameters (defaults filled in by the spec parser) and the split settings. */
export function candidateParams(prepared: PreparedDataset, spec: CandidateSpec): KeyValue[] {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.params))
    if (value !== undefined) params[key] = String(value);
  return keyValues({
    ...params,
    seed: String(prepared.seed),
    test_fraction: String(prepared.testFraction),
    split: prepared.split,
  });
}

/** The published dataset version as the run's input: its digest is the version. */
export function datasetRunInput(prepared: PreparedDataset): DatasetInputRequest {
  return datasetInput(
    {
      name: prepared.name,
      digest: prepared.version,
      source_type: 's3',
      source: JSON.stringify({ uri: prepared.splits.train.replace(/train\.parquet$/, '') }),
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

/** Best effort: the failure being reported matters more than a failure to record it. */
export async function markRunFailed(
  mlflow: MlflowClient,
  runId: string,
  stage: string,
  error: unknown,
): Promise<void> {
  const message = `${stage}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  await mlflow
    .logBatch({ run_id: runId, tags: [{ key: TAGS.error, value: message.slice(0, MAX_ERROR_TAG) }] })
    .catch(() => {});
  await mlflow.endRun(runId, 'FAILED').catch(() => {});
}

export function keyValues(record: Readonly<Record<string, string>>): KeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}

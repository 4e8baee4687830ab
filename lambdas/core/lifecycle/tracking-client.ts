/**
 * The part of the MLflow client the lifecycle uses: `MlflowClient` satisfies it as is, and unit
 * tests stub it without a server.
 */
import type { MlflowClient } from '../mlflow';
import type { PreparedDataset } from './prepare-dataset';

export type TrackingClient = Pick<
  MlflowClient,
  | 'getOrCreateExperiment'
  | 'setExperimentTag'
  | 'createRun'
  | 'logBatch'
  | 'logInputs'
  | 'endRun'
  | 'artifactStore'
  | 'createLoggedModel'
  | 'finalizeLoggedModel'
  | 'logOutputs'
  | 'getOrCreateRegisteredModel'
  | 'createModelVersion'
  | 'getModelVersion'
  | 'setModelVersionTag'
  | 'setRegisteredModelAlias'
  | 'getModelVersionByAlias'
  | 'getModelVersionDownloadUri'
>;

/** Tag keys the lifecycle sets on runs and model versions (searchable: `tags."mlops.dataset.version" = '…'`). */
export const TAGS = {
  candidate: 'mlops.candidate',
  family: 'mlops.family',
  task: 'mlops.task',
  datasetName: 'mlops.dataset.name',
  datasetVersion: 'mlops.dataset.version',
  datasetDigest: 'mlops.dataset.digest',
  datasetSource: 'mlops.dataset.source',
  quarantinedRows: 'mlops.dataset.quarantined_rows',
  contractVersion: 'mlops.contract.version',
  trainingRun: 'mlops.training_run',
  error: 'mlops.error',
  selectionMetric: 'mlops.selection.metric',
  selectionValue: 'mlops.selection.value',
  promotion: 'mlops.promotion',
} as const;

/**
 * The tags that say which data a run or a model version was trained on: its name, version and
 * digest, the rows left out, and the contract's version.
 */
export function datasetTags(
  prepared: Pick<PreparedDataset, 'name' | 'version' | 'digest' | 'rows' | 'contractVersion'>,
): Record<string, string> {
  return {
    [TAGS.datasetName]: prepared.name,
    [TAGS.datasetVersion]: prepared.version,
    [TAGS.datasetDigest]: prepared.digest,
    [TAGS.quarantinedRows]: String(prepared.rows.quarantined),
    [TAGS.contractVersion]: prepared.contractVersion,
  };
}

/** The artifact path a candidate's model directory is logged under, in its run. */
export const MODEL_ARTIFACT_PATH = 'model';

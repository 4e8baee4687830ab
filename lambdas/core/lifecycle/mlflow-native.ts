/**
 * What MLflow 3's UI reads to show a run the way it shows one logged from Python: the run's source
 * and user tags, the model as a LoggedModel linked to the run (the run's "Logged models" column and
 * the version's model link), and the experiment's kind, so it opens in the classic-ML view rather
 * than the GenAI one. The CLI and the training pipeline's steps both log through here.
 */
import { userInfo } from 'node:os';
import type { Experiment, KeyValue, MlflowClient } from '../mlflow';

/** MLflow's run tags (mlflow/utils/mlflow_tags.py). */
export const MLFLOW_TAGS = {
  sourceName: 'mlflow.source.name',
  sourceType: 'mlflow.source.type',
  user: 'mlflow.user',
  experimentKind: 'mlflow.experimentKind',
} as const;

/** The kind MLflow 3's UI gives experiments of trained models (its classic runs view). */
export const CUSTOM_MODEL_DEVELOPMENT = 'custom_model_development';

/** The model's name inside its run, as `mlflow.<flavor>.log_model(name=…)` gives it. */
export const LOGGED_MODEL_NAME = 'model';

/** Where a run comes from: MLflow's `LOCAL` for a person's command, `JOB` for a pipeline. */
export interface RunSource {
  readonly name: string;
  readonly type: 'LOCAL' | 'JOB';
  readonly user: string;
}

export function runSourceTags(source: RunSource): Record<string, string> {
  return {
    [MLFLOW_TAGS.sourceName]: source.name,
    [MLFLOW_TAGS.sourceType]: source.type,
    [MLFLOW_TAGS.user]: source.user,
  };
}

/** A command a person ran (`mlops train`), as the operating-system user who ran it. */
export function localRunSource(command: string): RunSource {
  return { name: command, type: 'LOCAL', user: currentUser() };
}

/** A pipeline's step: the state machine's run names the source; the pipeline is the user. */
export function pipelineRunSource(pipeline: string, pipelineRun: string): RunSource {
  return { name: `${pipeline}:${pipelineRun}`, type: 'JOB', user: pipeline };
}

function currentUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    // No passwd entry for the uid (some containers): what the shell says, if anything.
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/**
 * The experiment of that name, created if need be, marked as a model-development experiment; one
 * created before (by us or by hand) without a kind gets it, one a person set to another kind keeps it.
 */
export async function modelExperiment(
  mlflow: Pick<MlflowClient, 'getOrCreateExperiment' | 'setExperimentTag'>,
  name: string,
): Promise<Experiment> {
  const kind: KeyValue = { key: MLFLOW_TAGS.experimentKind, value: CUSTOM_MODEL_DEVELOPMENT };
  const experiment = await mlflow.getOrCreateExperiment(name, { tags: [kind] });
  if (!experiment.tags.some((tag) => tag.key === MLFLOW_TAGS.experimentKind)) {
    await mlflow.setExperimentTag(experiment.experiment_id, kind.key, kind.value);
  }
  return experiment;
}

export interface LogModelRequest {
  readonly experimentId: string;
  readonly runId: string;
  /** The model directory's files by relative path (`MLmodel`, `model.onnx`, …). */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The flavor, shown as the model's type. */
  readonly modelType: string;
  readonly params?: Readonly<Record<string, string>>;
}

export interface LoggedModelRef {
  readonly modelId: string;
  /** Where its files are: the registered version's source. */
  readonly modelUri: string;
}

/**
 * Logs a model directory the way MLflow 3's `log_model` does: a PENDING LoggedModel linked to the
 * run, its files uploaded to the model's own artifact location, then READY and recorded as the
 * run's output. A failed upload marks the model UPLOAD_FAILED before the error goes on.
 */
export async function logModelDirectory(
  mlflow: Pick<MlflowClient, 'createLoggedModel' | 'finalizeLoggedModel' | 'logOutputs' | 'artifactStore'>,
  request: LogModelRequest,
): Promise<LoggedModelRef> {
  const model = await mlflow.createLoggedModel({
    experiment_id: request.experimentId,
    name: LOGGED_MODEL_NAME,
    model_type: request.modelType,
    source_run_id: request.runId,
    ...(request.params && {
      params: Object.entries(request.params).map(([key, value]) => ({ key, value })),
    }),
  });
  const { model_id: modelId, artifact_uri: modelUri } = model.info;
  try {
    const store = await mlflow.artifactStore(modelUri);
    await Promise.all([...request.files].map(([path, bytes]) => store.put(path, bytes)));
  } catch (error) {
    await mlflow.finalizeLoggedModel(modelId, 'LOGGED_MODEL_UPLOAD_FAILED').catch(() => {});
    throw error;
  }
  await mlflow.finalizeLoggedModel(modelId, 'LOGGED_MODEL_READY');
  await mlflow.logOutputs(request.runId, [{ model_id: modelId, step: 0 }]);
  return { modelId, modelUri };
}

/**
 * Step 3 of a training run: rank the candidates' results (small JSON from step 2) by the
 * selection metric and register the best one's `model` artifact as a new version of the
 * registered model, tagged with the dataset, the selection metric and value, and the candidate.
 */
import type { ModelVersion } from '../mlflow';
import {
  type CandidateResult,
  type FailedCandidateResult,
  rankCandidateResults,
  type SucceededCandidateResult,
} from './candidate-ranking';
import { LifecycleError } from './errors';
import type { PreparedDataset } from './prepare-dataset';
import type { SelectionMetric } from './selection-metric';
import { datasetTags, TAGS, type TrackingClient } from './tracking-client';

/** MLflow OSS registers synchronously; a registry that does not is given this long to finish. */
const READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 500;

export interface RegisterRequest {
  readonly prepared: Pick<
    PreparedDataset,
    'name' | 'version' | 'digest' | 'task' | 'contractVersion' | 'rows'
  >;
  readonly results: readonly CandidateResult[];
  readonly modelName: string;
  readonly metric: SelectionMetric;
  /** More tags for the version (the training pipeline's fingerprint); the lifecycle's own win on a clash. */
  readonly extraTags?: Readonly<Record<string, string>>;
}

export interface RegisteredVersion {
  readonly model: string;
  readonly version: string;
  readonly runId: string;
  /** The version's source: `models:/<id>` of the best run's LoggedModel (its artifact location for older results). */
  readonly source: string;
  readonly metric: { readonly name: string; readonly value: number };
  readonly best: SucceededCandidateResult;
  readonly ranking: readonly { readonly name: string; readonly value: number }[];
  readonly failed: readonly FailedCandidateResult[];
}

export class RegistrationError extends LifecycleError {
  override name = 'RegistrationError';
}

export async function selectAndRegister(
  request: RegisterRequest,
  deps: { readonly mlflow: TrackingClient },
): Promise<RegisteredVersion> {
  const { prepared, metric, modelName } = request;
  const { best, ranking, failed } = rankCandidateResults(request.results, metric);
  const value = best.metrics[metric.name];
  if (value === undefined || Number.isNaN(value)) {
    throw new RegistrationError(`no candidate has a value of ${metric.name} to be selected by`);
  }
  await deps.mlflow.getOrCreateRegisteredModel(modelName, {
    description: `Trained by the serverless MLOps training pipeline on ${prepared.name}`,
  });
  const tags: Record<string, string> = {
    ...request.extraTags,
    ...datasetTags(prepared),
    [TAGS.task]: prepared.task,
    [TAGS.selectionMetric]: metric.name,
    [TAGS.selectionValue]: String(value),
    [TAGS.candidate]: best.name,
    [TAGS.family]: best.family,
  };
  const created = await deps.mlflow.createModelVersion({
    name: modelName,
    // As Python's register_model does with a LoggedModel: MLflow stores `models:/<id>` as the
    // source and links the version to the model; the download URI is still its artifact location.
    source: best.modelId ? `models:/${best.modelId}` : best.modelUri,
    run_id: best.runId,
    ...(best.modelId && { model_id: best.modelId }),
    description: `${best.name} (${best.family}) on ${prepared.name}@${prepared.version}: ${metric.name} ${round(value)}`,
    tags: Object.entries(tags).map(([key, tagValue]) => ({ key, value: tagValue })),
  });
  const ready = await waitUntilReady(deps.mlflow, created);
  return {
    model: modelName,
    version: ready.version,
    runId: best.runId,
    source: ready.source ?? best.modelUri,
    metric: { name: metric.name, value },
    best,
    ranking,
    failed,
  };
}

async function waitUntilReady(mlflow: TrackingClient, version: ModelVersion): Promise<ModelVersion> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let current = version;
  while (current.status === 'PENDING_REGISTRATION') {
    if (Date.now() > deadline) {
      throw new RegistrationError(`${version.name} version ${version.version} is still pending registration`);
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    current = await mlflow.getModelVersion(version.name, version.version);
  }
  if (current.status === 'FAILED_REGISTRATION') {
    throw new RegistrationError(
      `${version.name} version ${version.version} failed to register: ${current.status_message ?? 'no reason given'}`,
    );
  }
  return current;
}

function round(value: number): number {
  return Number(value.toFixed(6));
}

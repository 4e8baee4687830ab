/**
 * Step 4 (optional) of a training run: the promotion gate. `challenger` sets the Challenger alias
 * on the new version; `production` scores the new version and the current Production
 * version on the same holdout — both from their registered artifacts, through onnxruntime-node,
 * as the predict function would run them — and moves Production only when the new one is
 * strictly better, else sets Challenger.
 */
import { MlflowApiError, MlflowUnavailableError } from '../mlflow';
import { type ModelFiles, readModelDirectory } from '../model-format';
import type { TrainingData } from '../training/training-data';
import type { BlobStore } from './blob-store';
import { LifecycleError } from './errors';
import { onnxHoldoutMetrics, predictWithOnnx } from './onnx-holdout';
import { loadSplit, type PreparedDataset } from './prepare-dataset';
import {
  decidePromotion,
  PRODUCTION_ALIAS,
  type ProductionStanding,
  type PromotionDecision,
  type PromotionMode,
} from './promotion-gate';
import type { SelectionMetric } from './selection-metric';
import { TAGS, type TrackingClient } from './tracking-client';

export interface PromoteRequest {
  readonly model: string;
  readonly version: string;
  readonly mode: PromotionMode;
  readonly metric: SelectionMetric;
  /** The holdout is its test split. */
  readonly prepared: PreparedDataset;
}

export async function promoteVersion(
  request: PromoteRequest,
  deps: { readonly mlflow: TrackingClient; readonly store: BlobStore },
): Promise<PromotionDecision> {
  const { mlflow } = deps;
  const { model, version, mode, metric } = request;
  if (mode === 'none' || mode === 'challenger') {
    const decision = decidePromotion({ mode, metric, candidateScore: null, production: { kind: 'none' } });
    await applyDecision(mlflow, model, version, decision);
    return decision;
  }
  const holdout = await loadSplit(request.prepared, 'test', deps.store);
  const candidateScore = await scoreVersion(mlflow, model, version, holdout, metric);
  const production = await productionStanding(mlflow, model, version, holdout, metric);
  const decision = decidePromotion({ mode, metric, candidateScore, production });
  await applyDecision(mlflow, model, version, decision);
  return decision;
}

async function productionStanding(
  mlflow: TrackingClient,
  model: string,
  newVersion: string,
  holdout: TrainingData,
  metric: SelectionMetric,
): Promise<ProductionStanding> {
  let current: string;
  try {
    current = (await mlflow.getModelVersionByAlias(model, PRODUCTION_ALIAS)).version;
  } catch (error) {
    if (error instanceof MlflowApiError && error.isNotFound) return { kind: 'none' };
    throw error;
  }
  if (current === newVersion) return { kind: 'none' };
  try {
    return {
      kind: 'scored',
      version: current,
      score: await scoreVersion(mlflow, model, current, holdout, metric),
    };
  } catch (error) {
    // MLflow being down is no verdict on the model: retry later. Anything else (artifacts missing or
    // unreadable, other features, another task) means Production cannot be compared on this holdout.
    if (error instanceof MlflowUnavailableError || !(error instanceof Error)) throw error;
    return { kind: 'unscorable', version: current, problem: error.message };
  }
}

/** The version's `metric` on the holdout, from its registered artifact run through onnxruntime. */
export async function scoreVersion(
  mlflow: TrackingClient,
  model: string,
  version: string,
  holdout: TrainingData,
  metric: SelectionMetric,
): Promise<number> {
  const directory = readModelDirectory(await downloadVersion(mlflow, model, version));
  const metrics: Partial<Record<string, number>> = onnxHoldoutMetrics(
    await predictWithOnnx(directory, holdout),
    holdout,
  );
  const score = metrics[metric.name];
  if (score === undefined || Number.isNaN(score)) {
    throw new LifecycleError(`${model} version ${version} gives no ${metric.name} on this holdout`);
  }
  return score;
}

async function downloadVersion(mlflow: TrackingClient, model: string, version: string): Promise<ModelFiles> {
  const store = await mlflow.artifactStore(await mlflow.getModelVersionDownloadUri(model, version));
  const listed = await store.listFiles('');
  const files = new Map<string, Uint8Array>();
  await Promise.all(listed.map(async (file) => files.set(file.path, await store.get(file.path))));
  return files;
}

async function applyDecision(
  mlflow: TrackingClient,
  model: string,
  version: string,
  decision: PromotionDecision,
): Promise<void> {
  if (decision.alias === null) return;
  await mlflow.setRegisteredModelAlias(model, decision.alias, version);
  await mlflow.setModelVersionTag({ name: model, version, key: TAGS.promotion, value: decision.reason });
}

/**
 * Measure drift of the newest data, and of Production's predictions, against the reference split
 * of the dataset version the served model was trained on — the core's `runMonitoring`, wired to
 * the pipeline's buckets: an MLflow run in `monitoring-<model>` with the statistics and the HTML
 * report, the date-partitioned JSON Lines history under `drift/metrics/` of the monitoring bucket,
 * and the whole outcome as `drift/<runId>/report.json`. The e-mail is left to send-drift-alert.
 */

import { parseContract } from '../../core/data';
import { loadDriftConfig } from '../../core/drift';
import { pipelineRunSource } from '../../core/lifecycle/mlflow-native';
import { TAGS } from '../../core/lifecycle/tracking-client';
import { MlflowApiError } from '../../core/mlflow';
import { type DriftMetricsEmitter, runMonitoring, S3DriftHistoryStore } from '../../core/monitoring';
import { PRODUCTION_ALIAS } from '../../core/settings';
import type { ComputeDriftInput, ComputeDriftOutput, S3Pointer, S3Prefix } from '../step-io';
import { manifestPointer, readManifest, resolveManifest } from '../support/dataset-manifest';
import { checkedPrefix, newestLandingBatch } from '../support/landing-batches';
import {
  currentWindowInput,
  newestProductionPredictions,
  PREDICTION_COLUMN,
  predictionsInput,
  productionPredictions,
} from '../support/monitoring-window';
import { objectExists, putJson } from '../support/s3-objects';
import type { StepContext } from '../support/step-context';
import { StepInputError } from '../support/step-errors';
import { newRunId } from '../support/work-area';

/** Under `drift/` of the monitoring bucket: the prefix lib/pipelines.ts lets compute-drift write. */
export const DRIFT_HISTORY_PREFIX = 'drift/metrics';

export interface ComputeDriftDeps {
  /** CloudWatch metrics (`DriftScore`, …); the Lambda handler passes Powertools', the local runner none. */
  readonly metrics?: DriftMetricsEmitter;
}

export async function computeDrift(
  input: ComputeDriftInput,
  context: StepContext,
  deps: ComputeDriftDeps = {},
): Promise<ComputeDriftOutput> {
  const request = input.request ?? {};
  // The threshold comes from the state machine's DriftThreshold setting alone (the function has
  // no DRIFT_THRESHOLD): one value for `mlops run monitor`, the local runner and the stack.
  const threshold = input.threshold;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold))
    throw new StepInputError(
      'threshold',
      `must be the state machine's DriftThreshold, got ${String(threshold)}`,
    );
  const config = loadDriftConfig(context.env);
  const runId = newRunId('m');
  const modelName = context.config.modelName;

  const served = await servedVersion(context);
  const manifestAt = await baselineManifest(context, request.dataset, served);
  const manifest = await readManifest(context, manifestAt);
  const contract = parseContract(manifest.contract, `${manifest.name}@${manifest.version} manifest`);
  const current: S3Prefix = request.current
    ? checkedPrefix(request.current, 'request.current')
    : await newestLandingBatch(context, manifest.name, 'request.current');
  const predictionsAt = request.predictions
    ? productionPredictions(checkedPrefix(request.predictions, 'request.predictions'))
    : await newestProductionPredictions(context);
  const [window, predictions] = await Promise.all([
    currentWindowInput(context, current, contract),
    predictionsAt ? predictionsInput(context, predictionsAt) : Promise.resolve(null),
  ]);

  const bucket = context.config.buckets.monitoring;
  const outcome = await runMonitoring(
    {
      modelName,
      source: pipelineRunSource('monitoring-pipeline', runId),
      ...(served ? { modelVersion: served.version } : {}),
      reference: manifest.files.reference,
      current: window.input,
      ...(predictions ? { predictions, predictionColumns: [PREDICTION_COLUMN] } : {}),
      contract,
      drift: { metric: config.metric, threshold, psiBins: config.psiBins },
      historyPrefix: DRIFT_HISTORY_PREFIX,
    },
    {
      s3: context.s3,
      tracking: context.mlflow(),
      history: new S3DriftHistoryStore(context.s3, bucket),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    },
  );
  if (!outcome.run_id || !outcome.metrics_uri)
    throw new Error('runMonitoring logged no MLflow run or history object although both were wired');

  const report: S3Pointer = { bucket, key: `drift/${runId}/report.json` };
  await putJson(context.s3, report, {
    runId,
    dataset: { name: manifest.name, version: manifest.version, reference: manifest.files.reference },
    current: { ...current, objects: window.objects },
    predictions: predictions ? predictionsAt : null,
    ...outcome,
  });
  return {
    runId,
    timestamp: outcome.timestamp,
    modelName,
    modelVersion: outcome.model.version,
    metric: outcome.result.drift_metric,
    value: outcome.result.value,
    threshold: outcome.result.threshold,
    drifted: outcome.drifted,
    driftedColumns: outcome.drifted_columns,
    report,
    reportUrl: outcome.report_uri,
    metrics: { bucket, key: outcome.metrics_uri.replace(`s3://${bucket}/`, '') },
    mlflowRunId: outcome.run_id,
  };
}

interface ServedVersion {
  readonly version: string;
  readonly dataset: { readonly name: string; readonly version: string } | null;
}

/** The Production version and the dataset version it was trained on (its tags); null without one. */
async function servedVersion(context: StepContext): Promise<ServedVersion | null> {
  try {
    const version = await context.mlflow().getModelVersionByAlias(context.config.modelName, PRODUCTION_ALIAS);
    const tags = new Map(version.tags.map((tag) => [tag.key, tag.value]));
    const name = tags.get(TAGS.datasetName);
    const datasetVersion = tags.get(TAGS.datasetVersion);
    return {
      version: version.version,
      dataset: name && datasetVersion ? { name, version: datasetVersion } : null,
    };
  } catch (error) {
    if (error instanceof MlflowApiError && error.isNotFound) return null;
    throw error;
  }
}

/** The request's dataset, else the one Production was trained on (if still published), else the newest. */
async function baselineManifest(
  context: StepContext,
  requested: { name: string; version?: string } | undefined,
  served: ServedVersion | null,
): Promise<S3Pointer> {
  if (requested) return resolveManifest(context, requested.name, requested.version);
  if (served?.dataset) {
    const at = manifestPointer(context, served.dataset.name, served.dataset.version);
    if (await objectExists(context.s3, at)) return at;
  }
  return resolveManifest(context, context.config.datasetName);
}

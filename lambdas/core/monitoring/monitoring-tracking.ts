/**
 * A monitoring run in MLflow: one run per monitoring execution in the experiment
 * `monitoring-<model>`, with every statistic as a metric (`drift.<column>.psi`, …), the settings
 * and row counts as params, the model and verdict as tags, and the HTML report and the full
 * drift result as artifacts. `MlflowClient` satisfies the seam as is; unit tests stub it.
 */
import type { DriftResult } from '../drift';
import { isColumnError } from '../drift';
import { modelExperiment, type RunSource, runSourceTags } from '../lifecycle/mlflow-native';
import { type KeyValue, keyValues, type MetricInput, type MlflowClient } from '../mlflow';
import type { DriftVerdict } from './drift-measurement';

export type MonitoringTracking = Pick<
  MlflowClient,
  | 'trackingUri'
  | 'getOrCreateExperiment'
  | 'setExperimentTag'
  | 'createRun'
  | 'logBatch'
  | 'writeArtifact'
  | 'endRun'
  | 'getModelVersion'
  | 'getModelVersionByAlias'
  | 'getModelVersionDownloadUri'
  | 'readArtifact'
>;

/** Tags on monitoring runs (searchable: `tags."mlops.monitoring" = 'drift'`). */
export const MONITORING_TAGS = {
  kind: 'mlops.monitoring',
  modelName: 'mlops.model.name',
  modelVersion: 'mlops.model.version',
  verdict: 'mlops.drift.verdict',
  driftedColumns: 'mlops.drift.columns',
} as const;

/** The value of MONITORING_TAGS.kind on every drift monitoring run. */
export const MONITORING_KIND = 'drift';

export const DRIFT_REPORT_ARTIFACT = 'drift_report.html';
export const DRIFT_RESULT_ARTIFACT = 'drift_result.json';

export function monitoringExperimentName(modelName: string): string {
  return `monitoring-${modelName}`;
}

/**
 * A column name as part of an MLflow metric key: MLflow accepts letters, digits, `_ - . /` and
 * spaces, so anything else becomes `_` (a column called `temp (°C)` logs as `drift.temp _°C_…`).
 */
export function metricKeyPart(name: string): string {
  return name.replace(/[^A-Za-z0-9_\-. /]/g, '_');
}

const COLUMN_STATISTICS = [
  'ks_statistic',
  'ks_pvalue',
  'psi',
  'wasserstein',
  'wasserstein_normed',
  'jensenshannon',
  'chi2_statistic',
  'chi2_pvalue',
  'test_value',
] as const;

function missingShare(missing: number, present: number): number {
  return missing === 0 ? 0 : missing / (missing + present);
}

/** Every statistic of every compared column, plus the run's headline numbers. */
export function driftRunMetrics(result: DriftResult, timestamp: number): MetricInput[] {
  const metrics: MetricInput[] = [];
  const add = (key: string, value: number | null | undefined) => {
    if (value !== null && value !== undefined) metrics.push({ key, value, timestamp, step: 0 });
  };
  for (const [name, column] of Object.entries(result.columns)) {
    if (isColumnError(column)) continue;
    const prefix = `drift.${metricKeyPart(name)}`;
    const values = column as unknown as Readonly<Record<string, unknown>>;
    for (const statistic of COLUMN_STATISTICS) {
      const value = values[statistic];
      if (typeof value === 'number') add(`${prefix}.${statistic}`, value);
    }
    add(`${prefix}.drifted`, column.drifted ? 1 : 0);
    // Missing values are left out of the statistics; their share is its own signal to trend.
    add(`${prefix}.reference_missing_share`, missingShare(column.reference_missing, column.reference_rows));
    add(`${prefix}.current_missing_share`, missingShare(column.current_missing, column.current_rows));
  }
  add('share_drifted', result.share_drifted);
  add('drift_value', result.value);
  if (result.drift_metric !== 'share_drifted') add(result.drift_metric, result.value);
  add('features_compared', result.features_compared);
  add('features_drifted', result.features_drifted);
  add('drifted', result.drifted ? 1 : 0);
  if (result.prediction_drifted !== null) add('prediction_drifted', result.prediction_drifted ? 1 : 0);
  return metrics;
}

/** The MLflow UI page of one of a run's artifacts. */
export function runArtifactUiUrl(
  trackingUri: string,
  experimentId: string,
  runId: string,
  artifactPath: string,
): string {
  const base = trackingUri.replace(/\/+$/, '');
  return `${base}/#/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}/artifacts/${artifactPath}`;
}

export interface MonitoringRunLog {
  readonly experimentName: string;
  readonly runName: string;
  readonly startedAt: Date;
  readonly modelName: string;
  readonly modelVersion: string | null;
  readonly result: DriftResult;
  readonly verdict: DriftVerdict;
  readonly driftedColumns: readonly string[];
  readonly params: Readonly<Record<string, string | number>>;
  readonly reportHtml: string;
  /** Who and what started the run (MLflow's source and user tags). */
  readonly source: RunSource;
}

export interface LoggedMonitoringRun {
  readonly experimentId: string;
  readonly runId: string;
  /** The run's artifact root (`mlflow-artifacts:/…` or `s3://…`). */
  readonly artifactUri: string;
  /** The MLflow UI page of the report. */
  readonly reportUrl: string;
}

// MLflow keeps params up to 6000 characters and tags up to 8000; sources and column lists are
// cut well below that so one long path cannot fail the run.
const MAX_VALUE_LENGTH = 1000;
const clip = (value: string) =>
  value.length > MAX_VALUE_LENGTH ? `${value.slice(0, MAX_VALUE_LENGTH - 1)}…` : value;

/**
 * Creates the run, logs everything and ends it FINISHED. Any failure after the run exists ends
 * it FAILED (so the UI shows a broken run, not one forever RUNNING) and is raised.
 */
export async function logMonitoringRun(
  tracking: MonitoringTracking,
  log: MonitoringRunLog,
): Promise<LoggedMonitoringRun> {
  const experiment = await modelExperiment(tracking, log.experimentName);
  const tags: KeyValue[] = [
    ...keyValues(runSourceTags(log.source)),
    { key: MONITORING_TAGS.kind, value: MONITORING_KIND },
    { key: MONITORING_TAGS.modelName, value: log.modelName },
    ...(log.modelVersion !== null ? [{ key: MONITORING_TAGS.modelVersion, value: log.modelVersion }] : []),
  ];
  const run = await tracking.createRun({
    experiment_id: experiment.experiment_id,
    run_name: log.runName,
    start_time: log.startedAt.getTime(),
    tags,
  });
  const runId = run.info.run_id;
  try {
    await tracking.logBatch({
      run_id: runId,
      metrics: driftRunMetrics(log.result, log.startedAt.getTime()),
      params: Object.entries(log.params).map(([key, value]) => ({ key, value: clip(String(value)) })),
      tags: [
        { key: MONITORING_TAGS.verdict, value: log.verdict },
        { key: MONITORING_TAGS.driftedColumns, value: clip(log.driftedColumns.join(',')) },
      ],
    });
    await tracking.writeArtifact(run.info.artifact_uri, DRIFT_REPORT_ARTIFACT, log.reportHtml);
    await tracking.writeArtifact(
      run.info.artifact_uri,
      DRIFT_RESULT_ARTIFACT,
      `${JSON.stringify(log.result, null, 2)}\n`,
    );
    await tracking.endRun(runId, 'FINISHED');
  } catch (error) {
    await tracking.endRun(runId, 'FAILED').catch(() => {
      // The original failure is the one worth reporting; MLflow is likely down for both.
    });
    throw error;
  }
  return {
    experimentId: experiment.experiment_id,
    runId,
    artifactUri: run.info.artifact_uri,
    reportUrl: runArtifactUiUrl(tracking.trackingUri, experiment.experiment_id, runId, DRIFT_REPORT_ARTIFACT),
  };
}

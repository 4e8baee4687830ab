/**
 * The monitoring step: drift of the newest data (and the model's predictions) against the
 * reference set, recorded everywhere it is read from — an MLflow run with the statistics and the
 * HTML report, a JSON Lines history object in S3, CloudWatch metrics (EMF) — and the drift
 * e-mail, once per breach episode. The state machine, the CLI and the demo all call this.
 *
 * Each service is an optional dependency, so a caller wires only what it has: without MLflow there
 * is no run (and no report link in the e-mail), without a history store no S3 object, without an
 * alert sender no e-mail. Whether to retrain is the state machine's choice on `result.drifted`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DataContract } from '../data';
import { DEFAULT_PSI_BINS, type DriftConfig, type DriftResult, renderDriftReport } from '../drift';
import { localRunSource, type RunSource } from '../lifecycle/mlflow-native';
import type { AlertDecision } from './alert-episode';
import type { AlertSender } from './alert-sender';
import { alertOnDrift } from './drift-alerting';
import type { DriftMetricsEmitter } from './drift-cloudwatch-metrics';
import {
  DEFAULT_HISTORY_PREFIX,
  type DriftHistoryStore,
  driftHistoryKey,
  driftHistoryLines,
} from './drift-history';
import { driftedColumns, driftVerdict, measureDrift } from './drift-measurement';
import type { EpisodeStore } from './episode-store';
import { resolveMonitoredModel } from './monitored-model';
import { MonitoringRequestError } from './monitoring-errors';
import { type MonitoringInputs, type RowCounts, readMonitoringFrames } from './monitoring-frames';
import { dataInputFromUri, type MonitoringDataInput } from './monitoring-input';
import {
  DRIFT_REPORT_ARTIFACT,
  logMonitoringRun,
  type MonitoringTracking,
  monitoringExperimentName,
} from './monitoring-tracking';

/** The data to compare as `MonitoringFrameInputs` has it, but as locations (paths, S3 objects). */
export interface MonitoringRequest
  extends Omit<MonitoringInputs<MonitoringDataInput>, 'reference' | 'contract'> {
  /** The model watched: the metrics' dimension, the experiment's and the alert episode's key. */
  readonly modelName: string;
  /** Who and what started the run; @default the `mlops drift compute` command and the current user. */
  readonly source?: RunSource;
  /** @default the version the `Production` alias points at, when MLflow is wired */
  readonly modelVersion?: string;
  /** @default the model version's `mlops.reference_uri` tag */
  readonly reference?: MonitoringDataInput;
  /** @default the model's `data_contract/input_schema.json`, else column types are inferred */
  readonly contract?: DataContract;
  /** Headline metric, threshold and PSI bins. @default share_drifted over 0.2, 10 bins */
  readonly drift?: Partial<DriftConfig>;
  /** @default `monitoring-<modelName>` */
  readonly experimentName?: string;
  /** Key prefix of the history objects. @default `monitoring/drift-metrics` */
  readonly historyPrefix?: string;
}

export interface MonitoringDeps {
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** Reads `{bucket, key}` inputs. */
  readonly s3?: S3Client;
  readonly tracking?: MonitoringTracking;
  readonly history?: DriftHistoryStore;
  readonly metrics?: DriftMetricsEmitter;
  readonly alerts?: { readonly store: EpisodeStore; readonly sender: AlertSender };
}

export interface MonitoringAlertOutcome {
  readonly decision: AlertDecision;
  readonly messageId?: string;
  readonly episodeSince?: string;
  /** Why no alert was considered (no sender wired, or no drift value to judge). */
  readonly skipped?: string;
}

export interface MonitoringOutcome {
  /** The drift result, the `mlops drift compute --json` shape. */
  readonly result: DriftResult;
  /** ISO 8601 time of the run (from the clock). */
  readonly timestamp: string;
  readonly model: { readonly name: string; readonly version: string | null };
  readonly drifted: boolean;
  /** Drifted columns, most drifted first. */
  readonly drifted_columns: readonly string[];
  readonly rows: {
    readonly reference: RowCounts;
    readonly current: RowCounts;
    readonly predictions?: RowCounts;
  };
  readonly run_id: string | null;
  readonly experiment_id: string | null;
  /** The MLflow UI page of the run's `drift_report.html`; null without MLflow. */
  readonly report_uri: string | null;
  /** The report as an artifact URI (`mlflow-artifacts:/…/drift_report.html`). */
  readonly report_artifact_uri: string | null;
  /** The history object (`s3://bucket/<prefix>/dt=…/run-….jsonl`); null without a store. */
  readonly metrics_uri: string | null;
  readonly alert: MonitoringAlertOutcome;
}

export async function runMonitoring(
  request: MonitoringRequest,
  deps: MonitoringDeps = {},
): Promise<MonitoringOutcome> {
  const modelName = request.modelName?.trim();
  if (!modelName) throw new MonitoringRequestError('modelName', 'is required: the model the data feeds');
  const at = (deps.clock ?? (() => new Date()))();
  const timestamp = at.toISOString();

  // The registry fills what the request left out; without MLflow, only the version may stay open.
  let modelVersion = request.modelVersion ?? null;
  let referenceInput = request.reference;
  let contract = request.contract;
  const registryNotes: string[] = [];
  const needReference = referenceInput === undefined;
  const needContract = contract === undefined;
  if (deps.tracking && (modelVersion === null || needReference || needContract)) {
    const model = await resolveMonitoredModel(deps.tracking, {
      modelName,
      ...(request.modelVersion !== undefined && { modelVersion: request.modelVersion }),
      needReference,
      needContract,
    });
    modelVersion = model.version;
    if (model.referenceUri !== null) referenceInput = dataInputFromUri(model.referenceUri);
    if (model.contract) contract = model.contract;
    registryNotes.push(...model.notes);
  }
  if (referenceInput === undefined) {
    throw new MonitoringRequestError(
      'reference',
      'is required without MLflow (it is otherwise read from the model version\'s "mlops.reference_uri" tag)',
    );
  }

  const { frames, reference, current, predictions } = await readMonitoringFrames(
    {
      reference: referenceInput,
      current: request.current,
      ...(request.predictions && { predictions: request.predictions }),
      ...(request.referencePredictions && { referencePredictions: request.referencePredictions }),
      ...(contract && { contract }),
      ...(request.columns && { columns: request.columns }),
      ...(request.predictionColumns && { predictionColumns: request.predictionColumns }),
    },
    deps.s3,
  );
  const measured = measureDrift(frames, request.drift);
  const result: DriftResult =
    registryNotes.length > 0
      ? { ...measured.result, notes: [...registryNotes, ...measured.result.notes] }
      : measured.result;
  const drifted = driftedColumns(result);
  const verdict = driftVerdict(result);

  let run: Awaited<ReturnType<typeof logMonitoringRun>> | undefined;
  if (deps.tracking) {
    const reportHtml = renderDriftReport(result, measured.histograms, {
      title: `Data drift report: ${modelName}`,
      generatedAt: at,
      modelName,
      ...(modelVersion !== null && { modelVersion }),
      referenceLabel: reference.source,
      currentLabel: current.source,
    });
    run = await logMonitoringRun(deps.tracking, {
      experimentName: request.experimentName ?? monitoringExperimentName(modelName),
      source: request.source ?? localRunSource('mlops drift compute'),
      runName: `drift-${timestamp}`,
      startedAt: at,
      modelName,
      modelVersion,
      result,
      verdict,
      driftedColumns: drifted,
      reportHtml,
      params: {
        drift_metric: result.drift_metric,
        threshold: result.threshold,
        psi_bins: request.drift?.psiBins ?? DEFAULT_PSI_BINS,
        reference_rows: result.reference_rows,
        current_rows: result.current_rows,
        ...(frames.rows.predictions && { prediction_rows: frames.rows.predictions.valid }),
        reference_source: reference.source,
        current_source: current.source,
        ...(predictions && { predictions_source: predictions.source }),
        features: frames.features.join(','),
        model_name: modelName,
        ...(modelVersion !== null && { model_version: modelVersion }),
      },
    });
  }
  const reportUri = run?.reportUrl ?? null;

  let metricsUri: string | null = null;
  if (deps.history) {
    const key = driftHistoryKey(request.historyPrefix ?? DEFAULT_HISTORY_PREFIX, at);
    metricsUri = await deps.history.put(
      key,
      driftHistoryLines(result, {
        runAt: timestamp,
        modelName,
        modelVersion,
        runId: run?.runId ?? null,
        reportUri,
        driftedColumns: drifted,
      }),
    );
  }

  deps.metrics?.emit({
    modelName,
    value: result.value,
    shareDrifted: result.share_drifted,
    driftedColumns: drifted.length,
    at,
  });

  let alert: MonitoringAlertOutcome;
  if (!deps.alerts) alert = { decision: 'none', skipped: 'no alert sender is configured' };
  else if (result.value === null) {
    // No value says nothing about the episode: neither a breach nor a recovery.
    alert = {
      decision: 'none',
      skipped: `no ${result.drift_metric} value: the alert episode is left as it was`,
    };
  } else {
    alert = await alertOnDrift(
      {
        drifted: result.drifted,
        timestamp,
        metric: result.drift_metric,
        value: result.value,
        threshold: result.threshold,
        modelName,
        ...(modelVersion !== null && { modelVersion }),
        ...(reportUri !== null && { reportUrl: reportUri }),
        driftedColumns: drifted,
      },
      deps.alerts,
    );
  }

  return {
    result,
    timestamp,
    model: { name: modelName, version: modelVersion },
    drifted: result.drifted,
    drifted_columns: drifted,
    rows: frames.rows,
    run_id: run?.runId ?? null,
    experiment_id: run?.experimentId ?? null,
    report_uri: reportUri,
    report_artifact_uri: run ? `${run.artifactUri.replace(/\/+$/, '')}/${DRIFT_REPORT_ARTIFACT}` : null,
    metrics_uri: metricsUri,
    alert,
  };
}

export {
  type AlertDecision,
  type AlertEpisodeState,
  decideAlert,
  NO_EPISODE,
  nextEpisodeState,
} from './alert-episode';
export { AlertSendError, type AlertSender, SesAlertSender } from './alert-sender';
export { alertOnDrift, type DriftAlertInput, type DriftAlertOutcome } from './drift-alerting';
export {
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_METRICS_SERVICE,
  DRIFT_CLOUDWATCH_METRICS,
  type DriftMetricFacts,
  type DriftMetricsEmitter,
  MODEL_DIMENSION,
  PowertoolsDriftMetrics,
  type PowertoolsDriftMetricsOptions,
} from './drift-cloudwatch-metrics';
export { composeDriftEmail, type DriftEmailFacts, type EmailContent, escapeHtml } from './drift-email';
export {
  DEFAULT_HISTORY_PREFIX,
  type DriftHistoryContext,
  type DriftHistoryStore,
  driftHistoryKey,
  driftHistoryLines,
  S3DriftHistoryStore,
} from './drift-history';
export {
  type DriftMeasurement,
  type DriftVerdict,
  driftedColumns,
  driftVerdict,
  measureDrift,
} from './drift-measurement';
export { CorruptEpisodeStateError, type EpisodeStore, S3EpisodeStore } from './episode-store';
export {
  MODEL_CONTRACT_PATH,
  type MonitoredModel,
  type MonitoredModelRequest,
  REFERENCE_URI_TAG,
  resolveMonitoredModel,
  SERVED_ALIAS,
} from './monitored-model';
export {
  MonitoringError,
  MonitoringInputError,
  type MonitoringInputRole,
  MonitoringRequestError,
} from './monitoring-errors';
export {
  loadMonitoringFrames,
  type MonitoringFrameInputs,
  type MonitoringFrames,
  type MonitoringInputs,
  type RowCounts,
  readMonitoringFrames,
} from './monitoring-frames';
export {
  dataInputFromUri,
  describeInput,
  type InputBytes,
  isS3Input,
  type MonitoringDataInput,
  readMonitoringInput,
  type S3DataInput,
  s3ClientFromEnv,
} from './monitoring-input';
export {
  findLatestMonitoringRun,
  type LatestMonitoringRunQuery,
  type MonitoringExperimentLister,
  type MonitoringRunSummary,
  type MonitoringRunsClient,
  monitoringExperimentLister,
  readMonitoringReport,
  type StoredDriftResult,
} from './monitoring-runs';
export {
  DRIFT_REPORT_ARTIFACT,
  DRIFT_RESULT_ARTIFACT,
  driftRunMetrics,
  type LoggedMonitoringRun,
  logMonitoringRun,
  MONITORING_KIND,
  MONITORING_TAGS,
  type MonitoringRunLog,
  type MonitoringTracking,
  metricKeyPart,
  monitoringExperimentName,
  runArtifactUiUrl,
} from './monitoring-tracking';
export {
  type MonitoringAlertOutcome,
  type MonitoringDeps,
  type MonitoringOutcome,
  type MonitoringRequest,
  runMonitoring,
} from './run-monitoring';

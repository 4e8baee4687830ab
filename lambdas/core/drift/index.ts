/**
 * Drift statistics for the monitoring pipeline: per-column tests that agree with scipy
 * (KS, Wasserstein, Jensen–Shannon, chi-square) plus PSI, Evidently-style drift decisions, the
 * share of drifted features, typed config, histograms and the self-contained HTML report.
 */

export { categoryChanges } from './category-changes';
export {
  type ChiSquareResult,
  chiSquareTest,
  jensenShannonDistance,
} from './category-statistics';
export { chiSquaredSf } from './chi-squared-distribution';
export {
  type ColumnDriftOptions,
  type ColumnTestThresholds,
  categoricalColumnDrift,
  columnDrift,
  EVIDENTLY_THRESHOLDS,
  numericColumnDrift,
} from './column-drift';
export { computeDrift, type DriftOptions } from './dataset-drift';
export {
  DEFAULT_DRIFT_METRIC,
  DEFAULT_DRIFT_THRESHOLD,
  type DriftConfig,
  DriftConfigError,
  loadDriftConfig,
} from './drift-config';
export { type DriftReportMeta, renderDriftReport } from './drift-report-html';
export {
  type CategoricalColumnDrift,
  type ColumnDrift,
  type ColumnDriftError,
  type ColumnRole,
  DRIFT_METRICS,
  type DriftMetric,
  type DriftResult,
  type DriftTest,
  isColumnError,
  type NumericColumnDrift,
} from './drift-result';
export {
  type CategoricalHistogram,
  type ColumnHistogram,
  computeHistograms,
  type HistogramOptions,
  type NumericHistogram,
} from './histograms';
export { kstwoSf } from './kolmogorov-distribution';
export { KS_EXACT_MAX_N, type KsMethod, type KsResult, ksTwoSample } from './ks-two-sample';
export { noVerdictReason } from './no-verdict-reason';
export { DEFAULT_PSI_BINS, populationStabilityIndex, psiBinEdges } from './psi';
export { finiteSorted } from './sorted-samples';
export { WASSERSTEIN_NORM_FLOOR, wassersteinDistance, wassersteinDistanceNormed } from './wasserstein';

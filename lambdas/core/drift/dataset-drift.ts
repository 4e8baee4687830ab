/**
 * Drift of a whole window against the reference: every feature and prediction column, the share
 * of drifted features (Evidently's "dataset drift") and the headline metric compared with
 * DRIFT_THRESHOLD. Columns are processed one at a time, so peak memory is the two frames plus one
 * sorted copy of one column of each.
 */
import type { Frame } from '../data/frame';
import { DRIFT_THRESHOLD } from '../settings';
import { type ColumnTestThresholds, columnDrift, EVIDENTLY_THRESHOLDS } from './column-drift';
import { DEFAULT_DRIFT_METRIC, DEFAULT_DRIFT_THRESHOLD } from './drift-config';
import {
  type ColumnDrift,
  DRIFT_METRICS,
  type DriftMetric,
  type DriftResult,
  isColumnError,
} from './drift-result';
import { DEFAULT_PSI_BINS } from './psi';

export interface DriftOptions {
  /** @default 'share_drifted' */
  readonly metric?: DriftMetric;
  /** Above 0. @default 0.2 (DRIFT_THRESHOLD in ../settings.ts) */
  readonly threshold?: number;
  /** @default 10 */
  readonly psiBins?: number;
  /** The columns to compare, in order. @default every reference column */
  readonly columns?: readonly string[];
  /**
   * Columns holding model outputs (a predicted label as a categorical column, a probability or a
   * regression value as a numeric one). They get the same tests and are reported with role
   * 'prediction', but do not count towards share_drifted or the max_* metrics.
   * @default []
   */
  readonly predictionColumns?: readonly string[];
  /** Per-column test thresholds. @default Evidently's (see column-drift.ts) */
  readonly thresholds?: Partial<ColumnTestThresholds>;
}

/** The headline metric over the compared features; null when none provides it. */
function headlineValue(
  metric: DriftMetric,
  features: readonly ColumnDrift[],
  share: number | null,
): number | null {
  if (metric === 'share_drifted') return share;
  let max: number | null = null;
  for (const column of features) {
    if (isColumnError(column)) continue;
    const value =
      metric === 'max_psi'
        ? column.kind === 'numeric'
          ? column.psi
          : undefined
        : metric === 'max_wasserstein_normed'
          ? column.kind === 'numeric'
            ? column.wasserstein_normed
            : undefined
          : column.jensenshannon;
    if (value !== undefined && (max === null || value > max)) max = value;
  }
  return max;
}

export function computeDrift(reference: Frame, current: Frame, options: DriftOptions = {}): DriftResult {
  const metric = options.metric ?? DEFAULT_DRIFT_METRIC;
  const threshold = options.threshold ?? DEFAULT_DRIFT_THRESHOLD;
  const psiBins = options.psiBins ?? DEFAULT_PSI_BINS;
  if (!DRIFT_METRICS.includes(metric)) {
    throw new RangeError(`metric must be one of ${DRIFT_METRICS.join(', ')} (got ${JSON.stringify(metric)})`);
  }
  if (!(Number.isFinite(threshold) && threshold > DRIFT_THRESHOLD.exclusiveMin)) {
    throw new RangeError(
      `threshold must be a finite number > ${DRIFT_THRESHOLD.exclusiveMin} (got ${threshold})`,
    );
  }
  if (!(Number.isInteger(psiBins) && psiBins >= 2)) {
    throw new RangeError(`psiBins must be an integer ≥ 2 (got ${psiBins})`);
  }
  const thresholds = { ...EVIDENTLY_THRESHOLDS, ...options.thresholds };
  const predictions = new Set(options.predictionColumns ?? []);
  const names = [...(options.columns ?? [...reference.columns.keys()])];
  for (const name of predictions) if (!names.includes(name)) names.push(name);

  const notes: string[] = [];
  if (current.rowCount === 0) notes.push('the current window is empty (0 rows): no column could be compared');
  if (reference.rowCount === 0) notes.push('the reference is empty (0 rows): no column could be compared');

  const columns: Record<string, ColumnDrift> = {};
  const features: ColumnDrift[] = [];
  let featuresDrifted = 0;
  let predictionsCompared = 0;
  let predictionDrifted = false;
  for (const name of names) {
    const role = predictions.has(name) ? 'prediction' : 'feature';
    const result = columnDrift(reference.columns.get(name), current.columns.get(name), {
      role,
      psiBins,
      thresholds,
    });
    columns[name] = result;
    if (isColumnError(result)) {
      notes.push(
        `${name}: left out of ${role === 'feature' ? 'the share' : 'prediction drift'}: ${result.error}`,
      );
      continue;
    }
    if (role === 'feature') {
      features.push(result);
      if (result.drifted) featuresDrifted++;
    } else {
      predictionsCompared++;
      if (result.drifted) predictionDrifted = true;
    }
  }

  const share = features.length > 0 ? featuresDrifted / features.length : null;
  const value = headlineValue(metric, features, share);
  if (value === null) {
    notes.push(
      features.length === 0
        ? `no feature could be compared, so there is no ${metric}`
        : `no compared feature has a ${metric.replace(/^max_/, '')} value, so there is no ${metric}`,
    );
  }
  return {
    columns,
    share_drifted: share,
    drift_metric: metric,
    value,
    threshold,
    drifted: value !== null && value > threshold,
    features_compared: features.length,
    features_drifted: featuresDrifted,
    prediction_drifted: predictionsCompared > 0 ? predictionDrifted : null,
    reference_rows: reference.rowCount,
    current_rows: current.rowCount,
    notes,
  };
}

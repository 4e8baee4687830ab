/**
 * Drift of loaded monitoring frames: the drift module's result (with the loading notes first)
 * and the histograms its report draws. Shared by the monitoring run and `mlops drift compute`.
 */
import {
  type ColumnDrift,
  type ColumnHistogram,
  computeDrift,
  computeHistograms,
  type DriftConfig,
  type DriftResult,
  isColumnError,
} from '../drift';
import type { MonitoringFrames } from './monitoring-frames';

export interface DriftMeasurement {
  readonly result: DriftResult;
  readonly histograms: Readonly<Record<string, ColumnHistogram>>;
}

export function measureDrift(frames: MonitoringFrames, config: Partial<DriftConfig> = {}): DriftMeasurement {
  const result = computeDrift(frames.reference, frames.current, {
    ...(config.metric !== undefined && { metric: config.metric }),
    ...(config.threshold !== undefined && { threshold: config.threshold }),
    ...(config.psiBins !== undefined && { psiBins: config.psiBins }),
    columns: frames.features,
    predictionColumns: frames.predictionColumns,
  });
  const histograms = computeHistograms(frames.reference, frames.current, {
    columns: [...frames.features, ...frames.predictionColumns],
  });
  return {
    result: frames.notes.length > 0 ? { ...result, notes: [...frames.notes, ...result.notes] } : result,
    histograms,
  };
}

/**
 * How far past its own threshold a drifted column is, so columns decided by different tests can
 * be ranked: a distance over its threshold, or a threshold over its p-value (a p-value shrinks as
 * drift grows). The p-value is floored so that p = 0 still ranks (as the most drifted).
 */
function severity(column: ColumnDrift): number {
  if (isColumnError(column)) return 0;
  if (column.test === 'ks' || column.test === 'chisquare') {
    return column.test_threshold / Math.max(column.test_value, Number.MIN_VALUE);
  }
  return column.test_value / Math.max(column.test_threshold, Number.MIN_VALUE);
}

/** The drifted columns (features and predictions), most drifted first. */
export function driftedColumns(result: DriftResult): string[] {
  return Object.entries(result.columns)
    .filter(([, column]) => !isColumnError(column) && column.drifted)
    .sort(([a, x], [b, y]) => severity(y) - severity(x) || a.localeCompare(b))
    .map(([name]) => name);
}

/** `drifted`, `stable` or `unknown` (no headline value could be computed). */
export type DriftVerdict = 'drifted' | 'stable' | 'unknown';

export function driftVerdict(result: DriftResult): DriftVerdict {
  if (result.value === null) return 'unknown';
  return result.drifted ? 'drifted' : 'stable';
}

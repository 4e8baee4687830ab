/**
 * The shape of a drift run's result. It is also the `--json` output of the CLI and what the
 * monitoring pipeline stores, so the keys are snake_case and stable.
 *
 * JSON note: a chi-square statistic is +Infinity when the current window has a category the
 * reference never had; JSON.stringify writes that as null, and `new_categories` says why.
 */

/** The test that decided a column's `drifted` flag (Evidently's default choice; see column-drift.ts). */
export type DriftTest = 'ks' | 'wasserstein_normed' | 'chisquare' | 'jensenshannon';

/** Features count towards `share_drifted`; predictions are reported on their own. */
export type ColumnRole = 'feature' | 'prediction';

interface ColumnCounts {
  readonly role: ColumnRole;
  /** Non-missing values compared (NaN, ±Infinity and missing categories are left out). */
  readonly reference_rows: number;
  readonly current_rows: number;
  /**
   * Missing values on each side: counted here and left out of every statistic (a numeric column
   * drifts on its present values; a missing category is not a category).
   */
  readonly reference_missing: number;
  readonly current_missing: number;
}

interface Decision {
  readonly test: DriftTest;
  /** The value the test compared with its threshold (a p-value or a distance). */
  readonly test_value: number;
  readonly test_threshold: number;
  readonly drifted: boolean;
}

export interface NumericColumnDrift extends ColumnCounts, Decision {
  readonly kind: 'numeric';
  readonly ks_statistic: number;
  readonly ks_pvalue: number;
  /** 'exact' when both samples have ≤ 10,000 values (scipy's method='auto'). */
  readonly ks_method: 'exact' | 'asymp';
  readonly psi: number;
  readonly psi_bins: number;
  readonly wasserstein: number;
  /** wasserstein / max(std(reference), 0.001), as Evidently's wasserstein_distance_norm. */
  readonly wasserstein_normed: number;
  /** Set for a column with at most 5 distinct values, which Evidently tests as categories. */
  readonly jensenshannon?: number;
  readonly chi2_statistic?: number;
  readonly chi2_pvalue?: number;
}

export interface CategoricalColumnDrift extends ColumnCounts, Decision {
  readonly kind: 'categorical';
  /** Base-2 Jensen–Shannon distance of the category frequencies, in [0, 1]. */
  readonly jensenshannon: number;
  readonly chi2_statistic: number;
  readonly chi2_pvalue: number;
  /** Categories seen in the current window and never in the reference. */
  readonly new_categories: readonly string[];
  /** Categories seen in the reference and never in the current window (their share fell to 0). */
  readonly absent_categories: readonly string[];
}

/** A column whose statistics could not be computed; it is left out of the share. */
export interface ColumnDriftError extends ColumnCounts {
  readonly kind: 'numeric' | 'categorical';
  readonly error: string;
}

export type ColumnDrift = NumericColumnDrift | CategoricalColumnDrift | ColumnDriftError;

/** The headline number compared with DRIFT_THRESHOLD. */
export type DriftMetric = 'share_drifted' | 'max_psi' | 'max_wasserstein_normed' | 'max_jensenshannon';

export const DRIFT_METRICS: readonly DriftMetric[] = [
  'share_drifted',
  'max_psi',
  'max_wasserstein_normed',
  'max_jensenshannon',
];

export interface DriftResult {
  readonly columns: Readonly<Record<string, ColumnDrift>>;
  /** Drifted features / features that could be compared; null when none could. */
  readonly share_drifted: number | null;
  readonly drift_metric: DriftMetric;
  /** The headline metric's value; null when no compared feature provides it. */
  readonly value: number | null;
  readonly threshold: number;
  /** value > threshold ("exceeds DRIFT_THRESHOLD"). */
  readonly drifted: boolean;
  readonly features_compared: number;
  readonly features_drifted: number;
  /** Whether any prediction column drifted; null when there is none (or none could be compared). */
  readonly prediction_drifted: boolean | null;
  readonly reference_rows: number;
  readonly current_rows: number;
  /** Why columns were left out, or why there is no value. */
  readonly notes: readonly string[];
}

export function isColumnError(column: ColumnDrift): column is ColumnDriftError {
  return 'error' in column;
}

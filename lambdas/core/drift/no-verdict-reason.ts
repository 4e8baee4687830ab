/**
 * Why a drift result has no verdict (its headline value is null), in one line: what a CLI prints
 * when it refuses to call a window "no drift" because nothing was measured.
 */
import { type DriftResult, isColumnError } from './drift-result';

/** Names, the first few of them: "a, b, c and 4 more". */
function someOf(names: readonly string[], shown = 3): string {
  return names.length > shown
    ? `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`
    : names.join(', ');
}

/** The reason there is no verdict, or null when the result has one. */
export function noVerdictReason(result: DriftResult): string | null {
  if (result.value !== null) return null;
  const metric = result.drift_metric;
  if (result.features_compared > 0) {
    const needs =
      metric === 'max_jensenshannon'
        ? 'a categorical feature or a numeric one with at most 5 distinct values'
        : 'a numeric feature';
    return `no compared feature has a ${metric.replace(/^max_/, '')} value, so there is no ${metric}: it needs ${needs}`;
  }
  const features = Object.entries(result.columns).filter(([, column]) => column.role === 'feature');
  if (features.length === 0) return 'no feature could be compared: there is no feature column';
  if (result.reference_rows === 0) return 'no feature could be compared: the reference is empty (0 rows)';
  if (result.current_rows === 0) return 'no feature could be compared: the current window is empty (0 rows)';
  const names = features.map(([name]) => name);
  const errors = features.map(([, column]) => (isColumnError(column) ? column.error : ''));
  if (errors.every((error) => error === 'the column is missing from the current data')) {
    return `no feature could be compared: the current data has none of the ${names.length} feature columns (${someOf(names)})`;
  }
  if (errors.every((error) => error === 'the column is missing from the reference data')) {
    return `no feature could be compared: the reference data has none of the ${names.length} feature columns (${someOf(names)})`;
  }
  const shown = features.slice(0, 3).map(([name], i) => `${name}: ${errors[i]}`);
  const more = features.length > 3 ? `; and ${features.length - 3} more` : '';
  return `no feature could be compared (${shown.join('; ')}${more})`;
}

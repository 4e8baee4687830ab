/** Ranks scored candidates by one metric, in the metric's own direction. */
import { CandidateSpecError } from './errors';
import { HIGHER_IS_BETTER, isMetricName, type MetricName } from './metrics';

export interface ScoredCandidate {
  readonly metrics: Readonly<Partial<Record<string, number>>>;
}

/**
 * The candidates that have a finite value of `metric`, best first (ties keep their input
 * order). Throws CandidateSpecError for a metric whose direction is unknown.
 */
export function rankCandidates<T extends ScoredCandidate>(results: readonly T[], metric: MetricName): T[] {
  if (!isMetricName(metric)) {
    throw new CandidateSpecError(
      `unknown metric '${metric}'; known: ${Object.keys(HIGHER_IS_BETTER).join(', ')}`,
      'metric',
    );
  }
  const sign = HIGHER_IS_BETTER[metric] ? -1 : 1;
  return results
    .filter((result) => Number.isFinite(result.metrics[metric]))
    .sort((a, b) => sign * ((a.metrics[metric] as number) - (b.metrics[metric] as number)));
}

/** The best candidate by `metric`; throws when none has a finite value of it. */
export function selectBest<T extends ScoredCandidate>(results: readonly T[], metric: MetricName): T {
  const [best] = rankCandidates(results, metric);
  if (!best) {
    throw new CandidateSpecError(
      `none of the ${results.length} candidates has a finite '${metric}' to rank by`,
      'metric',
    );
  }
  return best;
}

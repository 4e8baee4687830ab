/**
 * Wasserstein-1 distance as scipy.stats.wasserstein_distance computes it (∫|F_u - F_v|), and
 * Evidently's normed variant. The column path gets the distance from the same merge walk as KS
 * (sorted-samples.ts); these are the standalone entry points.
 */
import { compareSorted, finiteSorted, standardDeviation } from './sorted-samples';

/** Evidently's floor on the reference standard deviation in wasserstein_distance_norm. */
export const WASSERSTEIN_NORM_FLOOR = 0.001;

/** scipy.stats.wasserstein_distance(reference, current), NaN and ±Infinity dropped. */
export function wassersteinDistance(reference: Float64Array, current: Float64Array): number {
  const a = finiteSorted(reference);
  const b = finiteSorted(current);
  if (a.length === 0 || b.length === 0) {
    throw new RangeError('wassersteinDistance needs a finite value in each sample');
  }
  return compareSorted(a, b).wasserstein;
}

/** Evidently 0.7's wasserstein_distance_norm: the distance over max(std(reference), 0.001). */
export function wassersteinDistanceNormed(reference: Float64Array, current: Float64Array): number {
  const a = finiteSorted(reference);
  return (
    wassersteinDistance(a, current) / Math.max(a.length ? standardDeviation(a) : 0, WASSERSTEIN_NORM_FLOOR)
  );
}

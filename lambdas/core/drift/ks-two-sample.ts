/**
 * The two-sided two-sample Kolmogorov–Smirnov test, matching scipy 1.17
 * `scipy.stats.ks_2samp(reference, current)` with its default method='auto': exact lattice-path
 * p-values when both samples have at most 10,000 values, otherwise the asymptotic distribution
 * kstwo at n = round(n1·n2 / (n1 + n2)). No maintained JavaScript library reproduces either.
 */
import { kstwoSf } from './kolmogorov-distribution';
import { attemptExactTwoSided, roundHalfEven } from './ks-exact';
import { compareSorted, finiteSorted } from './sorted-samples';

/** scipy's MAX_AUTO_N: 'auto' is exact when both samples are at most this large. */
export const KS_EXACT_MAX_N = 10_000;

export type KsMethod = 'exact' | 'asymp';

export interface KsResult {
  readonly statistic: number;
  readonly pvalue: number;
  readonly method: KsMethod;
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return x;
}

/**
 * The p-value of the two-sided statistic from its two one-sided parts (scipy's maxS and minS),
 * for sample sizes n1 and n2 (both ≥ 1).
 */
export function ksFromOneSided(n1: number, n2: number, maxDiff: number, minDiff: number): KsResult {
  let d = Math.max(minDiff, maxDiff);
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const exact = attemptExactTwoSided(n1, n2, gcd(n1, n2), d);
    if (exact.ok) return { statistic: exact.statistic, pvalue: exact.pvalue, method: 'exact' };
    // scipy falls back to the asymptotic formula (with a warning), keeping the snapped statistic.
    d = exact.statistic;
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  const pvalue = kstwoSf(d, roundHalfEven(en));
  return { statistic: d, pvalue: Math.min(Math.max(pvalue, 0), 1), method: 'asymp' };
}

/** ks_2samp on two ascending, finite, non-empty samples. */
export function ksTwoSampleSorted(reference: Float64Array, current: Float64Array): KsResult {
  const { maxDiff, minDiff } = compareSorted(reference, current);
  return ksFromOneSided(reference.length, current.length, maxDiff, minDiff);
}

/**
 * ks_2samp(reference, current) on raw samples: NaN and ±Infinity are dropped first (scipy would
 * return NaN; Evidently drops them). Throws when either sample has no finite value.
 */
export function ksTwoSample(reference: Float64Array, current: Float64Array): KsResult {
  const a = finiteSorted(reference);
  const b = finiteSorted(current);
  if (a.length === 0 || b.length === 0)
    throw new RangeError('ksTwoSample needs a finite value in each sample');
  return ksTwoSampleSorted(a, b);
}

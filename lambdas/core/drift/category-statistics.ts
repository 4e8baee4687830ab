/**
 * Drift statistics of a categorical distribution, from category counts aligned on the union of
 * categories seen in reference and current (missing values already left out).
 */
import { chiSquaredSf } from './chi-squared-distribution';
import { CompensatedSum } from './compensated-sum';

/**
 * scipy.spatial.distance.jensenshannon(p, q, base=2) of the two frequency vectors:
 * sqrt((KL(p‖m) + KL(q‖m)) / 2 / ln 2) with m = (p + q)/2, in [0, 1].
 * (Evidently's jensenshannon stattest passes base=None, i.e. natural log; see column-drift.ts.)
 */
/** The sums of the reference and the current counts, in one pass. */
function totals(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>): [number, number] {
  let refTotal = 0;
  let curTotal = 0;
  for (let k = 0; k < referenceCounts.length; k++) {
    refTotal += referenceCounts[k] as number;
    curTotal += currentCounts[k] as number;
  }
  return [refTotal, curTotal];
}

export function jensenShannonDistance(
  referenceCounts: ArrayLike<number>,
  currentCounts: ArrayLike<number>,
): number {
  const [refTotal, curTotal] = totals(referenceCounts, currentCounts);
  const divergence = new CompensatedSum();
  for (let k = 0; k < referenceCounts.length; k++) {
    const p = (referenceCounts[k] as number) / refTotal;
    const q = (currentCounts[k] as number) / curTotal;
    const m = (p + q) / 2;
    // scipy.special.rel_entr: x·ln(x/y), and 0 when x is 0.
    if (p > 0) divergence.add(p * Math.log(p / m));
    if (q > 0) divergence.add(q * Math.log(q / m));
  }
  // Rounding can leave a -1e-17 where the true value is 0 (scipy would return NaN there).
  return Math.sqrt(Math.max(divergence.value / Math.LN2 / 2, 0));
}

export interface ChiSquareResult {
  readonly statistic: number;
  readonly pvalue: number;
}

/**
 * Evidently 0.7's chisquare stattest: scipy.stats.chisquare(f_obs = current counts,
 * f_exp = reference counts · (n_current / n_reference)), with k - 1 degrees of freedom over the
 * k categories of the union. A category absent from the reference has an expected count of 0,
 * so the statistic is +Infinity and the p-value 0 (new categories are drift).
 * With a single category there are no degrees of freedom: scipy returns NaN; we return
 * statistic 0 and p-value 1, as nothing can have moved.
 */
export function chiSquareTest(
  referenceCounts: ArrayLike<number>,
  currentCounts: ArrayLike<number>,
): ChiSquareResult {
  const [refTotal, curTotal] = totals(referenceCounts, currentCounts);
  const kNorm = curTotal / refTotal;
  const statistic = new CompensatedSum();
  let infinite = false;
  for (let k = 0; k < referenceCounts.length; k++) {
    const expected = (referenceCounts[k] as number) * kNorm;
    const observed = currentCounts[k] as number;
    if (expected === 0) {
      if (observed > 0) infinite = true;
      continue;
    }
    statistic.add((observed - expected) ** 2 / expected);
  }
  const df = referenceCounts.length - 1;
  if (df < 1) return { statistic: 0, pvalue: 1 };
  if (infinite) return { statistic: Number.POSITIVE_INFINITY, pvalue: 0 };
  const value = statistic.value;
  return { statistic: value, pvalue: chiSquaredSf(value, df) };
}

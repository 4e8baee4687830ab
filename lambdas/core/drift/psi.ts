/**
 * Population Stability Index over quantile bins of the reference.
 *
 * Bins: the reference's quantiles at k/bins (numpy.quantile, 'linear'), duplicates dropped, with
 * open outer bins so every current value lands somewhere; a value equal to an edge goes to the
 * bin on its right (numpy.searchsorted(edges, x, side='right')).
 *
 * Empty bins are smoothed as Evidently 0.7's `get_binned_data(feel_zeroes=True)` does: a zero
 * share becomes 0.0001, or min(non-zero share)/10^6 when that minimum is itself ≤ 0.0001.
 *
 * Deliberate difference: Evidently 0.7.23's own `psi` stattest bins numeric columns with Sturges'
 * rule over reference ∪ current (its docstring says reference quantiles). Reference-quantile
 * bins are the textbook PSI, do not move when the current window does, and give ~equal
 * reference mass per bin, so that is what we compute.
 */
import { CompensatedSum } from './compensated-sum';
import { countBelow, finiteSorted, quantileSorted } from './sorted-samples';

export const DEFAULT_PSI_BINS = 10;

/** The inner bin edges: reference quantiles at k/bins for k = 1..bins-1, without repeats. */
export function psiBinEdges(referenceSorted: Float64Array, bins: number): Float64Array {
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = quantileSorted(referenceSorted, k / bins);
    if (edges.length === 0 || edge > (edges[edges.length - 1] as number)) edges.push(edge);
  }
  return Float64Array.from(edges);
}

/** Shares of an ascending sample in the bins (-∞, e1), [e1, e2), …, [e_last, ∞). */
export function binShares(sorted: Float64Array, edges: Float64Array): Float64Array {
  const shares = new Float64Array(edges.length + 1);
  let previous = 0;
  for (let k = 0; k < edges.length; k++) {
    const below = countBelow(sorted, edges[k] as number);
    shares[k] = (below - previous) / sorted.length;
    previous = below;
  }
  shares[edges.length] = (sorted.length - previous) / sorted.length;
  return shares;
}

/** Evidently's smoothing of empty bins (in place). */
export function fillEmptyShares(shares: Float64Array): Float64Array {
  let minNonZero = Number.POSITIVE_INFINITY;
  for (const s of shares) if (s !== 0 && s < minNonZero) minNonZero = s;
  if (!Number.isFinite(minNonZero)) return shares;
  const fill = minNonZero <= 0.0001 ? minNonZero / 10 ** 6 : 0.0001;
  for (let k = 0; k < shares.length; k++) if (shares[k] === 0) shares[k] = fill;
  return shares;
}

/** PSI = Σ (ref - cur)·ln(ref / cur) over smoothed shares. */
export function psiFromShares(reference: Float64Array, current: Float64Array): number {
  const sum = new CompensatedSum();
  for (let k = 0; k < reference.length; k++) {
    const r = reference[k] as number;
    const c = current[k] as number;
    sum.add((r - c) * Math.log(r / c));
  }
  return sum.value;
}

/** PSI of two ascending, finite, non-empty samples over `bins` reference-quantile bins. */
export function psiSorted(
  referenceSorted: Float64Array,
  currentSorted: Float64Array,
  bins = DEFAULT_PSI_BINS,
): number {
  const edges = psiBinEdges(referenceSorted, bins);
  return psiFromShares(
    fillEmptyShares(binShares(referenceSorted, edges)),
    fillEmptyShares(binShares(currentSorted, edges)),
  );
}

/** PSI of two raw samples (NaN and ±Infinity dropped) over `bins` reference-quantile bins. */
export function populationStabilityIndex(
  reference: Float64Array,
  current: Float64Array,
  bins = DEFAULT_PSI_BINS,
): number {
  const a = finiteSorted(reference);
  const b = finiteSorted(current);
  if (a.length === 0 || b.length === 0) {
    throw new RangeError('populationStabilityIndex needs a finite value in each sample');
  }
  return psiSorted(a, b, bins);
}

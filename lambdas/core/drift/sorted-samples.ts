/**
 * One sorted copy per numeric column, and the single merge walk over two of them that yields the
 * KS statistic, the Wasserstein-1 distance and the value counts of a low-cardinality column.
 * Everything here is O(n) over typed arrays after one `Float64Array.prototype.sort` per sample,
 * so a million-row column costs one native sort and a few linear passes, and no per-row objects.
 */
import { CompensatedSum } from './compensated-sum';

/** Evidently drops NaN and ±Infinity before every drift test; so do we. */
export function finiteSorted(values: Float64Array): Float64Array {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) count++;
  const out = new Float64Array(count);
  if (count === values.length) out.set(values);
  else {
    let k = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (Number.isFinite(v)) out[k++] = v;
    }
  }
  return out.sort();
}

/** At most this many distinct values make a numeric column "low-cardinality" (Evidently's rule). */
export const LOW_CARDINALITY_MAX_VALUES = 5;

export interface SortedComparison {
  /** max over x of F_ref(x) - F_cur(x) (≥ 0: both CDFs reach 1 at the end). */
  readonly maxDiff: number;
  /** max over x of F_cur(x) - F_ref(x), clipped to [0, 1] as scipy does. */
  readonly minDiff: number;
  /** ∫|F_ref - F_cur| dx: scipy.stats.wasserstein_distance(ref, cur). */
  readonly wasserstein: number;
  readonly distinctValues: number;
  /** The values and their counts when there are at most LOW_CARDINALITY_MAX_VALUES of them. */
  readonly smallSupport: {
    readonly values: readonly number[];
    readonly reference: readonly number[];
    readonly current: readonly number[];
  } | null;
}

/**
 * Walks the union of two ascending samples once, distinct value by distinct value, keeping
 * F_ref(v) = i/n1 and F_cur(v) = j/n2 as scipy's `searchsorted(..., side='right') / n` does.
 * Both samples must be non-empty, ascending and finite.
 */
export function compareSorted(reference: Float64Array, current: Float64Array): SortedComparison {
  const n1 = reference.length;
  const n2 = current.length;
  let i = 0;
  let j = 0;
  let maxDiff = Number.NEGATIVE_INFINITY;
  let minDiff = Number.POSITIVE_INFINITY;
  // Neumaier-compensated running sum of |F_ref - F_cur|·Δx, inlined: this loop runs 2n times.
  let sum = 0;
  let compensation = 0;
  let distinct = 0;
  const values: number[] = [];
  const refCounts: number[] = [];
  const curCounts: number[] = [];
  let v = Math.min(reference[0] as number, current[0] as number);
  while (true) {
    const i0 = i;
    const j0 = j;
    while (i < n1 && reference[i] === v) i++;
    while (j < n2 && current[j] === v) j++;
    distinct++;
    if (distinct <= LOW_CARDINALITY_MAX_VALUES) {
      values.push(v);
      refCounts.push(i - i0);
      curCounts.push(j - j0);
    }
    const diff = i / n1 - j / n2;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
    if (i === n1 && j === n2) break;
    const next =
      i === n1
        ? (current[j] as number)
        : j === n2
          ? (reference[i] as number)
          : Math.min(reference[i] as number, current[j] as number);
    const term = Math.abs(diff) * (next - v);
    const total = sum + term;
    compensation += Math.abs(sum) >= Math.abs(term) ? sum - total + term : term - total + sum;
    sum = total;
    v = next;
  }
  return {
    maxDiff,
    minDiff: Math.min(Math.max(-minDiff, 0), 1),
    wasserstein: sum + compensation,
    distinctValues: distinct,
    smallSupport:
      distinct <= LOW_CARDINALITY_MAX_VALUES ? { values, reference: refCounts, current: curCounts } : null,
  };
}

/** How many values of an ascending sample are strictly below x (a lower-bound binary search). */
export function countBelow(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * numpy.quantile(sample, q) with the default 'linear' method, on an ascending sample: the same
 * virtual index and the same two-sided lerp as numpy 2.x, so bin edges match to the last bit.
 */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const virtualIndex = (n - 1) * q;
  if (virtualIndex >= n - 1) return sorted[n - 1] as number;
  if (virtualIndex < 0) return sorted[0] as number;
  const previous = Math.floor(virtualIndex);
  const gamma = virtualIndex - previous;
  const a = sorted[previous] as number;
  const b = sorted[previous + 1] as number;
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/** Population standard deviation (numpy.std, ddof=0), two-pass with compensated sums. */
export function standardDeviation(sample: Float64Array): number {
  const n = sample.length;
  const total = new CompensatedSum();
  for (let i = 0; i < n; i++) total.add(sample[i] as number);
  const mean = total.value / n;
  const squares = new CompensatedSum();
  for (let i = 0; i < n; i++) {
    const d = (sample[i] as number) - mean;
    squares.add(d * d);
  }
  return Math.sqrt(squares.value / n);
}

/**
 * Reference-vs-current histograms for the drift report, on shared bins so the bars compare.
 * One O(n) pass per column over the typed arrays (no sort): numeric columns get equal-width bins
 * over the combined finite range; categorical columns get their most frequent categories and an
 * "other" bar for the rest.
 */
import type { CategoricalColumn, Column, Frame } from '../data/frame';

/** Counts per bar on both sides, and each side's total (what the bars are a share of). */
interface HistogramCounts {
  readonly reference: readonly number[];
  readonly current: readonly number[];
  readonly referenceTotal: number;
  readonly currentTotal: number;
}

export interface NumericHistogram extends HistogramCounts {
  readonly kind: 'numeric';
  /** bins + 1 ascending edges; bin k is [edges[k], edges[k+1]) and the last bin is closed. */
  readonly edges: readonly number[];
}

export interface CategoricalHistogram extends HistogramCounts {
  readonly kind: 'categorical';
  readonly categories: readonly string[];
  /** How many categories the last bar ("other") lumps together; 0 when there is no such bar. */
  readonly otherCategories: number;
}

export type ColumnHistogram = NumericHistogram | CategoricalHistogram;

export interface HistogramOptions {
  /** @default every column of the reference */
  readonly columns?: readonly string[];
  /** Equal-width bins for numeric columns. @default 20 */
  readonly bins?: number;
  /** Categories shown before the rest are lumped into "other". @default 12 */
  readonly maxCategories?: number;
}

function finiteRange(values: Float64Array, range: { min: number; max: number }): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) continue;
    if (v < range.min) range.min = v;
    if (v > range.max) range.max = v;
  }
}

function countInBins(
  values: Float64Array,
  min: number,
  width: number,
  bins: number,
): { counts: number[]; total: number } {
  const counts = new Float64Array(bins);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) continue;
    const k = Math.min(bins - 1, Math.max(0, Math.floor((v - min) / width)));
    counts[k] = (counts[k] as number) + 1;
    total++;
  }
  return { counts: [...counts], total };
}

function numericHistogram(reference: Float64Array, current: Float64Array, bins: number): NumericHistogram {
  const range = { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
  finiteRange(reference, range);
  finiteRange(current, range);
  let { min, max } = range;
  if (!Number.isFinite(min)) {
    return { kind: 'numeric', edges: [], reference: [], current: [], referenceTotal: 0, currentTotal: 0 };
  }
  let count = bins;
  if (min === max) {
    // One value everywhere: a single bar centred on it.
    min -= 0.5;
    max += 0.5;
    count = 1;
  }
  const width = (max - min) / count;
  const edges = Array.from({ length: count + 1 }, (_, k) => (k === count ? max : min + k * width));
  const ref = countInBins(reference, min, width, count);
  const cur = countInBins(current, min, width, count);
  return {
    kind: 'numeric',
    edges,
    reference: ref.counts,
    current: cur.counts,
    referenceTotal: ref.total,
    currentTotal: cur.total,
  };
}

function countByName(
  column: CategoricalColumn | undefined,
  into: Map<string, [number, number]>,
  side: 0 | 1,
) {
  if (!column) return 0;
  const counts = new Float64Array(column.levels.length);
  let total = 0;
  for (let i = 0; i < column.codes.length; i++) {
    const code = column.codes[i] as number;
    if (code >= 0 && code < counts.length) {
      counts[code] = (counts[code] as number) + 1;
      total++;
    }
  }
  for (let level = 0; level < counts.length; level++) {
    const count = counts[level] as number;
    if (count === 0) continue;
    const name = column.levels[level] as string;
    const pair = into.get(name) ?? [0, 0];
    pair[side] += count;
    into.set(name, pair);
  }
  return total;
}

function categoricalHistogram(
  reference: CategoricalColumn | undefined,
  current: CategoricalColumn | undefined,
  maxCategories: number,
): CategoricalHistogram {
  const byName = new Map<string, [number, number]>();
  const referenceTotal = countByName(reference, byName, 0);
  const currentTotal = countByName(current, byName, 1);
  const share = ([r, c]: [number, number]) => r / Math.max(referenceTotal, 1) + c / Math.max(currentTotal, 1);
  const ordered = [...byName.entries()].sort((a, b) => share(b[1]) - share(a[1]) || a[0].localeCompare(b[0]));
  const shown = ordered.length > maxCategories ? ordered.slice(0, maxCategories - 1) : ordered;
  const rest = ordered.slice(shown.length);
  const categories = shown.map(([name]) => name);
  const ref = shown.map(([, [r]]) => r);
  const cur = shown.map(([, [, c]]) => c);
  if (rest.length > 0) {
    categories.push(`other (${rest.length})`);
    ref.push(rest.reduce((sum, [, [r]]) => sum + r, 0));
    cur.push(rest.reduce((sum, [, [, c]]) => sum + c, 0));
  }
  return {
    kind: 'categorical',
    categories,
    reference: ref,
    current: cur,
    referenceTotal,
    currentTotal,
    otherCategories: rest.length,
  };
}

const EMPTY_NUMERIC = new Float64Array(0);

function histogramOf(
  reference: Column | undefined,
  current: Column | undefined,
  bins: number,
  maxCategories: number,
): ColumnHistogram | undefined {
  const kind = reference?.kind ?? current?.kind;
  if (kind === 'numeric') {
    const ref = reference?.kind === 'numeric' ? reference.values : EMPTY_NUMERIC;
    const cur = current?.kind === 'numeric' ? current.values : EMPTY_NUMERIC;
    return numericHistogram(ref, cur, bins);
  }
  if (kind === 'categorical') {
    return categoricalHistogram(
      reference?.kind === 'categorical' ? reference : undefined,
      current?.kind === 'categorical' ? current : undefined,
      maxCategories,
    );
  }
  return undefined;
}

/** Histograms of each column, keyed by column name (a column absent from both frames is skipped). */
export function computeHistograms(
  reference: Frame,
  current: Frame,
  options: HistogramOptions = {},
): Record<string, ColumnHistogram> {
  const bins = options.bins ?? 20;
  const maxCategories = options.maxCategories ?? 12;
  if (!Number.isInteger(bins) || bins < 1)
    throw new RangeError(`bins must be a positive integer (got ${bins})`);
  if (!Number.isInteger(maxCategories) || maxCategories < 2) {
    throw new RangeError(`maxCategories must be an integer of at least 2 (got ${maxCategories})`);
  }
  const histograms: Record<string, ColumnHistogram> = {};
  for (const name of options.columns ?? [...reference.columns.keys()]) {
    const histogram = histogramOf(
      reference.columns.get(name),
      current.columns.get(name),
      bins,
      maxCategories,
    );
    if (histogram) histograms[name] = histogram;
  }
  return histograms;
}

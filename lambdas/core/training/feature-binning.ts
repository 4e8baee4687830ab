/**
 * Bins every feature into at most 255 ordered bins (as LightGBM and scikit-learn's
 * HistGradientBoosting), so that split finding scans bin histograms instead of sorted values.
 *
 * Bin edges are float32 values (see float32-threshold.ts) computed from the float32-rounded
 * data; a row is in bin b when edge[b-1] < fround(x) <= edge[b]. A split "bins 0..b go left" is
 * therefore exactly the model test `fround(x) <= edge[b]`, on training and on new data.
 *
 * Edges follow scikit-learn's `_find_binning_thresholds`: midpoints between consecutive distinct
 * values when there are at most maxBins of them, else the (midpoint-interpolated) quantiles.
 */

import { deriveSeed, SeededRandom } from '../seeded-random';
import { float32AtOrBelow } from './float32-threshold';
import type { FeatureMatrix } from './training-data';

/** Histograms are indexed with a fixed stride of 256 bins per feature (bins are bytes). */
export const BIN_STRIDE = 256;
export const MAX_BINS = 255;
/** Quantiles are taken on at most this many rows (scikit-learn's subsample default). */
const QUANTILE_SAMPLE = 200_000;

export interface BinnedFeatures {
  readonly rows: number;
  readonly cols: number;
  /**
   * Row-major bin codes: the bin of feature f in row i is `bins[i * cols + f]`. Row-major keeps a
   * row's bins in one cache line: histogram building walks a node's rows in an arbitrary order.
   */
  readonly bins: Uint8Array;
  /** Per feature, the float32 upper edge of each bin but the last (which is unbounded). */
  readonly edges: readonly Float64Array[];
}

export function binFeatures(data: FeatureMatrix, maxBins: number, seed: number): BinnedFeatures {
  const { x, rows, cols } = data;
  const bins = new Uint8Array(rows * cols);
  const edges: Float64Array[] = [];
  const sampleRows = rows > QUANTILE_SAMPLE ? sampleWithoutReplacement(rows, QUANTILE_SAMPLE, seed) : null;
  const column = new Float32Array(rows);
  for (let f = 0; f < cols; f++) {
    for (let i = 0; i < rows; i++) column[i] = x[i * cols + f] as number;
    const sample = sampleRows
      ? Float32Array.from(sampleRows, (row) => column[row] as number)
      : column.slice();
    sample.sort();
    const featureEdges = edgesOf(sample, maxBins);
    edges.push(featureEdges);
    for (let i = 0; i < rows; i++) bins[i * cols + f] = binOf(featureEdges, column[i] as number);
  }
  return { rows, cols, bins, edges };
}

/** Bin edges of one feature from its sorted float32 values. */
function edgesOf(sorted: Float32Array, maxBins: number): Float64Array {
  const distinct: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const value = sorted[i] as number;
    if (distinct.length === 0 || value !== distinct[distinct.length - 1]) distinct.push(value);
  }
  const edges: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 1; i < distinct.length; i++) {
      edges.push(float32AtOrBelow(((distinct[i - 1] as number) + (distinct[i] as number)) / 2));
    }
    return Float64Array.from(edges);
  }
  const last = sorted.length - 1;
  for (let q = 1; q < maxBins; q++) {
    // numpy.percentile(method='midpoint') at q / maxBins.
    const position = (q / maxBins) * last;
    const value = ((sorted[Math.floor(position)] as number) + (sorted[Math.ceil(position)] as number)) / 2;
    const edge = float32AtOrBelow(value);
    // Equal quantiles (heavy ties) collapse; the largest value needs no edge above it.
    if (
      (edges.length === 0 || edge > (edges[edges.length - 1] as number)) &&
      edge < (sorted[last] as number)
    ) {
      edges.push(edge);
    }
  }
  return Float64Array.from(edges);
}

/** The first bin whose upper edge is ≥ value (binary search), or the last bin. */
function binOf(edges: Float64Array, value: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (value <= (edges[middle] as number)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** k distinct row indices (sorted), by a partial Fisher–Yates shuffle. */
function sampleWithoutReplacement(n: number, k: number, seed: number): Uint32Array {
  const random = new SeededRandom(deriveSeed(seed, 0x62696e73)); // the "bins" stream
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + random.int(n - i);
    const swap = order[i] as number;
    order[i] = order[j] as number;
    order[j] = swap;
  }
  return order.subarray(0, k).sort();
}

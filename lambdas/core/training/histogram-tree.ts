/**
 * Grows one decision tree on binned features (feature-binning.ts) by histogram split finding,
 * the method of LightGBM (Ke et al., NIPS 2017) and scikit-learn's HistGradientBoosting: a
 * node's rows are summed into per-bin statistics, and every split of a feature is scored from
 * prefix sums over its ≤ 255 bins. The sibling with more rows gets its histogram by subtraction
 * (parent − smaller sibling) when every node looks at every feature (boosting, forests with
 * max_features = all); small nodes sort their rows by bin instead (see SMALL_NODE_ROWS).
 *
 * Scores are "higher is better" and a split's gain is score(left) + score(right) − score(parent):
 * - gini: statistics [count, w_0 … w_{k−1}] (class weights), score Σ w_c² / Σ w_c, which
 *   minimises the children's weighted Gini impurity (random forest classifier);
 * - ratio: statistics [count, a, b], score a² / (b + λ): squared error with a = Σ w·y, b = Σ w
 *   (random forest regressor), or the second-order boosting gain with a = G, b = H (Chen &
 *   Guestrin, XGBoost, KDD 2016, eq. 7).
 *
 * Why our own: the JavaScript tree libraries (mljs's ml-cart / ml-random-forest, not installed
 * here) sort every node's values over arrays of arrays, have no gradient boosting, and choose
 * float64 midpoint thresholds that float32 inference (ONNX) can route differently; ml-xgboost
 * is an old WebAssembly build. One histogram grower serves the forest
 * and the booster, with float32-exact thresholds (feature-binning.ts).
 */

import type { SeededRandom } from '../seeded-random';
import { BIN_STRIDE, type BinnedFeatures } from './feature-binning';
import type { DecisionTree } from './model-types';

export type TreeObjective =
  | {
      readonly kind: 'gini';
      readonly labels: Int32Array;
      /** Per row (0 for rows not in the tree's sample). */
      readonly weights: Float64Array;
      readonly classCount: number;
    }
  | {
      readonly kind: 'ratio';
      /** [a, b] per row, row-major. */
      readonly pairs: Float64Array;
      readonly l2: number;
      /** A child needs Σ b at least this (boosting's minimum hessian). */
      readonly minChildB: number;
    };

export interface GrowthOptions {
  /** Root has depth 0; Infinity for no limit. */
  readonly maxDepth: number;
  /** Infinity grows depth-first without a leaf limit; a finite value grows best-first (largest gain first). */
  readonly maxLeafNodes: number;
  readonly minSamplesLeaf: number;
  /** Features drawn (without replacement) for each node; the number of columns for all. */
  readonly featuresPerSplit: number;
  /** Draws the features of each node when featuresPerSplit is below the number of columns. */
  readonly random?: SeededRandom;
  /**
   * Spare histogram buffers, reused across the trees of one model (they are 60–80 kB each;
   * allocating them per tree keeps the garbage collector busy).
   */
  readonly histogramPool?: Float64Array[];
}

/** The grown tree, in split-bin terms; `toDecisionTree` maps it to thresholds and leaf values. */
export interface GrownTree {
  /** Split feature per node, -1 for leaves. */
  readonly feature: number[];
  /** Bins 0..splitBin go left; -1 for leaves. */
  readonly splitBin: number[];
  readonly left: number[];
  readonly right: number[];
  /** Per node, its summed statistics ([count, …] as the objective defines them). */
  readonly totals: Float64Array[];
  /** The rows, partitioned: node n holds rows[start[n]] .. rows[end[n] - 1]. */
  readonly rows: Uint32Array;
  readonly start: number[];
  readonly end: number[];
}

interface Split {
  readonly feature: number;
  readonly bin: number;
  readonly gain: number;
  readonly leftTotals: Float64Array;
}

interface OpenNode {
  readonly id: number;
  readonly depth: number;
  readonly split: Split;
  /** Kept only when histograms are subtracted: the children's histograms derive from it. */
  readonly histogram: Float64Array | null;
}

/** Grows a tree on `rows` (partitioned in place, and returned in the result). */
export function growTree(
  binned: BinnedFeatures,
  rows: Uint32Array,
  objective: TreeObjective,
  options: GrowthOptions,
): GrownTree {
  return new TreeGrower(binned, rows, objective, options).grow();
}

/**
 * Nodes with at most this many rows find their split by sorting their rows by bin, feature by
 * feature, instead of through a histogram: below it, clearing and scanning 255 bins per feature
 * costs more than the sort (deep nodes of a forest are mostly this small).
 */
const SMALL_NODE_ROWS = 96;

class TreeGrower {
  /** Statistics per histogram bin. */
  private readonly width: number;
  private readonly allFeatures: Int32Array;
  private readonly subtract: boolean;
  private readonly pool: Float64Array[];
  private readonly featureScratch: Int32Array;
  private readonly binCounts: Int32Array;
  // The small-node path: sort keys (bin << 16 | position), and the per-bin statistics they give.
  private readonly sortKeys = new Uint32Array(SMALL_NODE_ROWS);
  private readonly compact: Float64Array;
  private readonly compactBins = new Int32Array(SMALL_NODE_ROWS);
  // The best split of the node being scanned.
  private bestGain = 0;
  private bestFeature = -1;
  private bestBin = -1;
  private readonly bestLeft: Float64Array;
  private readonly left: Float64Array;
  private readonly tree: {
    feature: number[];
    splitBin: number[];
    left: number[];
    right: number[];
    totals: Float64Array[];
    start: number[];
    end: number[];
  } = { feature: [], splitBin: [], left: [], right: [], totals: [], start: [], end: [] };

  constructor(
    private readonly binned: BinnedFeatures,
    private readonly rows: Uint32Array,
    private readonly objective: TreeObjective,
    private readonly options: GrowthOptions,
  ) {
    this.width = objective.kind === 'gini' ? 1 + objective.classCount : 3;
    this.pool = options.histogramPool ?? [];
    this.allFeatures = Int32Array.from({ length: binned.cols }, (_, f) => f);
    this.subtract = options.featuresPerSplit >= binned.cols;
    this.featureScratch = Int32Array.from(this.allFeatures);
    this.binCounts = Int32Array.from(binned.edges, (edges) => edges.length + 1);
    this.compact = new Float64Array(SMALL_NODE_ROWS * this.width);
    this.bestLeft = new Float64Array(this.width);
    this.left = new Float64Array(this.width);
  }

  grow(): GrownTree {
    const root = this.addNode(0, this.rows.length, this.sumRows());
    const open: OpenNode[] = [];
    if (this.splittable(root, 0)) this.openNode(root, 0, null, open);
    let leaves = 1;
    const bestFirst = Number.isFinite(this.options.maxLeafNodes);
    while (open.length > 0 && leaves < this.options.maxLeafNodes) {
      const node = bestFirst ? takeLargestGain(open) : (open.pop() as OpenNode);
      this.splitNode(node, open);
      leaves++;
    }
    for (const node of open) if (node.histogram) this.release(node.histogram);
    return { ...this.tree, rows: this.rows };
  }

  /** The statistics of all rows (the root's totals). */
  private sumRows(): Float64Array {
    const { objective, rows } = this;
    const totals = new Float64Array(this.width);
    totals[0] = rows.length;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as number;
      if (objective.kind === 'gini') {
        const slot = 1 + (objective.labels[row] as number);
        totals[slot] = (totals[slot] as number) + (objective.weights[row] as number);
      } else {
        totals[1] = (totals[1] as number) + (objective.pairs[2 * row] as number);
        totals[2] = (totals[2] as number) + (objective.pairs[2 * row + 1] as number);
      }
    }
    return totals;
  }

  /**
   * Finds the node's best split and keeps the node open if there is one. `histogram` (owned from
   * here on) is the node's, when its parent derived it; otherwise one is built, or the rows are
   * sorted for a small node.
   */
  private openNode(id: number, depth: number, given: Float64Array | null, open: OpenNode[]): void {
    const { tree } = this;
    const start = tree.start[id] as number;
    const end = tree.end[id] as number;
    const totals = tree.totals[id] as Float64Array;
    const features = this.featuresForNode();
    let histogram = given;
    if (!histogram && end - start > SMALL_NODE_ROWS) {
      histogram = this.acquire();
      this.buildHistogram(histogram, start, end, features);
    }
    this.bestGain = 0;
    this.bestFeature = -1;
    for (const f of features) {
      if (histogram) {
        this.scanFeature(
          f,
          histogram,
          f * BIN_STRIDE * this.width,
          this.binCounts[f] as number,
          null,
          totals,
        );
      } else {
        const groups = this.sortedBins(start, end, f);
        this.scanFeature(f, this.compact, 0, groups, this.compactBins, totals);
      }
    }
    const found = this.bestFeature !== -1;
    const keep = found && this.subtract ? histogram : null;
    if (histogram && !keep) this.release(histogram);
    if (!found) return;
    const split = {
      feature: this.bestFeature,
      bin: this.bestBin,
      gain: this.bestGain,
      leftTotals: Float64Array.from(this.bestLeft),
    };
    open.push({ id, depth, split, histogram: keep });
  }

  private splitNode(node: OpenNode, open: OpenNode[]): void {
    const { tree } = this;
    const { split } = node;
    const start = tree.start[node.id] as number;
    const end = tree.end[node.id] as number;
    const middle = this.partition(start, end, split.feature, split.bin);
    const parentTotals = tree.totals[node.id] as Float64Array;
    const rightTotals = new Float64Array(this.width);
    for (let j = 0; j < this.width; j++)
      rightTotals[j] = (parentTotals[j] as number) - (split.leftTotals[j] as number);
    const leftId = this.addNode(start, middle, split.leftTotals);
    const rightId = this.addNode(middle, end, rightTotals);
    tree.feature[node.id] = split.feature;
    tree.splitBin[node.id] = split.bin;
    tree.left[node.id] = leftId;
    tree.right[node.id] = rightId;

    const depth = node.depth + 1;
    const leftSplittable = this.splittable(leftId, depth);
    const rightSplittable = this.splittable(rightId, depth);
    const leftSmaller = middle - start <= end - middle;
    const [smallId, largeId] = leftSmaller ? [leftId, rightId] : [rightId, leftId];
    const [smallSplittable, largeSplittable] = leftSmaller
      ? [leftSplittable, rightSplittable]
      : [rightSplittable, leftSplittable];
    const parentHistogram = node.histogram;
    const largeRows = (tree.end[largeId] as number) - (tree.start[largeId] as number);
    if (parentHistogram && largeSplittable && largeRows > SMALL_NODE_ROWS) {
      // Build the smaller child's histogram from its rows, derive the larger's as parent − smaller.
      const smallHistogram = this.acquire();
      this.buildHistogram(
        smallHistogram,
        tree.start[smallId] as number,
        tree.end[smallId] as number,
        this.allFeatures,
      );
      for (let f = 0; f < this.binned.cols; f++) {
        const from = f * BIN_STRIDE * this.width;
        const to = from + (this.binCounts[f] as number) * this.width;
        for (let p = from; p < to; p++) {
          parentHistogram[p] = (parentHistogram[p] as number) - (smallHistogram[p] as number);
        }
      }
      this.openNode(largeId, depth, parentHistogram, open);
      if (smallSplittable) this.openNode(smallId, depth, smallHistogram, open);
      else this.release(smallHistogram);
      return;
    }
    if (parentHistogram) this.release(parentHistogram);
    if (largeSplittable) this.openNode(largeId, depth, null, open);
    if (smallSplittable) this.openNode(smallId, depth, null, open);
  }

  private splittable(id: number, depth: number): boolean {
    const count = (this.tree.totals[id] as Float64Array)[0] as number;
    return depth < this.options.maxDepth && count >= 2 * this.options.minSamplesLeaf;
  }

  private addNode(start: number, end: number, totals: Float64Array): number {
    const { tree } = this;
    tree.feature.push(-1);
    tree.splitBin.push(-1);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.totals.push(totals);
    tree.start.push(start);
    tree.end.push(end);
    return tree.feature.length - 1;
  }

  private featuresForNode(): Int32Array {
    const { featuresPerSplit, random } = this.options;
    if (this.subtract || !random) return this.allFeatures;
    // Partial Fisher–Yates: the first featuresPerSplit entries are a uniform draw without replacement.
    const scratch = this.featureScratch;
    for (let i = 0; i < featuresPerSplit; i++) {
      const j = i + random.int(scratch.length - i);
      const swap = scratch[i] as number;
      scratch[i] = scratch[j] as number;
      scratch[j] = swap;
    }
    return scratch.slice(0, featuresPerSplit);
  }

  /** Sums the statistics of rows[start..end) into the histograms of `features`. */
  private buildHistogram(histogram: Float64Array, start: number, end: number, features: Int32Array): void {
    const { rows, objective, width, binCounts } = this;
    const { bins, cols } = this.binned;
    const featureCount = features.length;
    const offsets = new Int32Array(featureCount);
    for (let q = 0; q < featureCount; q++) {
      const f = features[q] as number;
      offsets[q] = f * BIN_STRIDE * width;
      histogram.fill(0, offsets[q] as number, (offsets[q] as number) + (binCounts[f] as number) * width);
    }
    // Row-wise: each row's bins are adjacent in memory, and its statistics are read once.
    if (objective.kind === 'gini') {
      const { labels, weights } = objective;
      for (let i = start; i < end; i++) {
        const row = rows[i] as number;
        const slot = 1 + (labels[row] as number);
        const weight = weights[row] as number;
        const binRow = row * cols;
        for (let q = 0; q < featureCount; q++) {
          const o = (offsets[q] as number) + (bins[binRow + (features[q] as number)] as number) * width;
          histogram[o] = (histogram[o] as number) + 1;
          histogram[o + slot] = (histogram[o + slot] as number) + weight;
        }
      }
      return;
    }
    const { pairs } = objective;
    if (featureCount === cols) {
      // Every feature (boosting's case, the hot loop of training): offsets are f · 256 · 3.
      const stride = BIN_STRIDE * 3;
      for (let i = start; i < end; i++) {
        const row = rows[i] as number;
        const a = pairs[2 * row] as number;
        const b = pairs[2 * row + 1] as number;
        const binRow = row * cols;
        for (let f = 0, base = 0; f < cols; f++, base += stride) {
          const o = base + (bins[binRow + f] as number) * 3;
          histogram[o] = (histogram[o] as number) + 1;
          histogram[o + 1] = (histogram[o + 1] as number) + a;
          histogram[o + 2] = (histogram[o + 2] as number) + b;
        }
      }
      return;
    }
    for (let i = start; i < end; i++) {
      const row = rows[i] as number;
      const a = pairs[2 * row] as number;
      const b = pairs[2 * row + 1] as number;
      const binRow = row * cols;
      for (let q = 0; q < featureCount; q++) {
        const o = (offsets[q] as number) + (bins[binRow + (features[q] as number)] as number) * 3;
        histogram[o] = (histogram[o] as number) + 1;
        histogram[o + 1] = (histogram[o + 1] as number) + a;
        histogram[o + 2] = (histogram[o + 2] as number) + b;
      }
    }
  }

  /**
   * The small-node histogram of feature f: rows sorted by bin, one group per occupied bin, into
   * `compact` (statistics) and `compactBins` (the bin of each group). Returns the group count.
   */
  private sortedBins(start: number, end: number, f: number): number {
    const { rows, objective, width, compact, compactBins } = this;
    const { bins, cols } = this.binned;
    const count = end - start;
    const keys = this.sortKeys.subarray(0, count);
    for (let k = 0; k < count; k++) {
      keys[k] = (((bins[(rows[start + k] as number) * cols + f] as number) << 16) | k) >>> 0;
    }
    keys.sort();
    let group = -1;
    let lastBin = -1;
    for (let k = 0; k < count; k++) {
      const key = keys[k] as number;
      const bin = key >>> 16;
      if (bin !== lastBin) {
        group++;
        lastBin = bin;
        compactBins[group] = bin;
        compact.fill(0, group * width, (group + 1) * width);
      }
      const row = rows[start + (key & 0xffff)] as number;
      const o = group * width;
      compact[o] = (compact[o] as number) + 1;
      if (objective.kind === 'gini') {
        const slot = o + 1 + (objective.labels[row] as number);
        compact[slot] = (compact[slot] as number) + (objective.weights[row] as number);
      } else {
        compact[o + 1] = (compact[o + 1] as number) + (objective.pairs[2 * row] as number);
        compact[o + 2] = (compact[o + 2] as number) + (objective.pairs[2 * row + 1] as number);
      }
    }
    return group + 1;
  }

  /**
   * Scans the splits of feature f ("groups 0..g go left", for each g but the last) over
   * per-group statistics at `offset` in `stats` (group g holds bin `binOf[g]`, or bin g when
   * binOf is null), and records the best one so far.
   */
  private scanFeature(
    f: number,
    stats: Float64Array,
    offset: number,
    groups: number,
    binOf: Int32Array | null,
    totals: Float64Array,
  ): void {
    const { width, objective } = this;
    const minLeaf = this.options.minSamplesLeaf;
    const count = totals[0] as number;
    if (objective.kind === 'ratio') {
      const { l2, minChildB } = objective;
      const totalA = totals[1] as number;
      const totalB = totals[2] as number;
      const parentScore = ratioScore(totalA, totalB, l2);
      let leftCount = 0;
      let leftA = 0;
      let leftB = 0;
      for (let g = 0; g < groups - 1; g++) {
        const o = offset + g * 3;
        const groupCount = stats[o] as number;
        // An empty bin gives the same split as the bin before it.
        if (groupCount === 0) continue;
        leftCount += groupCount;
        leftA += stats[o + 1] as number;
        leftB += stats[o + 2] as number;
        if (leftCount < minLeaf || leftB < minChildB) continue;
        if (count - leftCount < minLeaf || totalB - leftB < minChildB) break;
        const leftScore = ratioScore(leftA, leftB, l2);
        const rightScore = ratioScore(totalA - leftA, totalB - leftB, l2);
        const gain = leftScore + rightScore - parentScore;
        // Below rounding noise of the scores, a "gain" is no gain (e.g. a constant target re-split).
        if (gain > this.bestGain && gain > 1e-10 * (leftScore + rightScore)) {
          this.record(f, binOf ? (binOf[g] as number) : g, gain);
          this.bestLeft[0] = leftCount;
          this.bestLeft[1] = leftA;
          this.bestLeft[2] = leftB;
        }
      }
      return;
    }
    const classes = width - 1;
    let parentWeight = 0;
    let parentSquares = 0;
    for (let c = 1; c <= classes; c++) {
      const weight = totals[c] as number;
      parentWeight += weight;
      parentSquares += weight * weight;
    }
    const parentScore = parentSquares / parentWeight;
    const left = this.left;
    left.fill(0);
    for (let g = 0; g < groups - 1; g++) {
      const o = offset + g * width;
      if ((stats[o] as number) === 0) continue;
      for (let j = 0; j < width; j++) left[j] = (left[j] as number) + (stats[o + j] as number);
      if ((left[0] as number) < minLeaf) continue;
      if (count - (left[0] as number) < minLeaf) break;
      let leftWeight = 0;
      let leftSquares = 0;
      let rightWeight = 0;
      let rightSquares = 0;
      for (let c = 1; c <= classes; c++) {
        const l = left[c] as number;
        const r = (totals[c] as number) - l;
        leftWeight += l;
        leftSquares += l * l;
        rightWeight += r;
        rightSquares += r * r;
      }
      // Weights are bootstrap counts (whole numbers), so a pure node's gain is exactly 0.
      const gain = leftSquares / leftWeight + rightSquares / rightWeight - parentScore;
      if (gain > this.bestGain && gain > 1e-12 * parentScore) {
        this.record(f, binOf ? (binOf[g] as number) : g, gain);
        this.bestLeft.set(left);
      }
    }
  }

  private record(feature: number, bin: number, gain: number): void {
    this.bestGain = gain;
    this.bestFeature = feature;
    this.bestBin = bin;
  }

  /** Reorders rows[start..end) so rows with bin ≤ `bin` come first; returns where the rest begin. */
  private partition(start: number, end: number, feature: number, bin: number): number {
    const { rows } = this;
    const { bins, cols } = this.binned;
    let i = start;
    let j = end - 1;
    while (i <= j) {
      if ((bins[(rows[i] as number) * cols + feature] as number) <= bin) {
        i++;
      } else {
        const swap = rows[i] as number;
        rows[i] = rows[j] as number;
        rows[j] = swap;
        j--;
      }
    }
    return i;
  }

  private acquire(): Float64Array {
    const size = this.binned.cols * BIN_STRIDE * this.width;
    const spare = this.pool.pop();
    return spare && spare.length === size ? spare : new Float64Array(size);
  }

  private release(histogram: Float64Array): void {
    this.pool.push(histogram);
  }
}

function ratioScore(a: number, b: number, l2: number): number {
  const denominator = b + l2;
  return denominator > 0 ? (a * a) / denominator : 0;
}

/** Removes and returns the open node of largest gain (the lowest id on ties, for determinism). */
function takeLargestGain(open: OpenNode[]): OpenNode {
  let best = 0;
  for (let i = 1; i < open.length; i++) {
    const candidate = open[i] as OpenNode;
    const current = open[best] as OpenNode;
    if (
      candidate.split.gain > current.split.gain ||
      (candidate.split.gain === current.split.gain && candidate.id < current.id)
    ) {
      best = i;
    }
  }
  return open.splice(best, 1)[0] as OpenNode;
}

/**
 * The tree in model form: split bins become their float32 upper edges (the row goes left when
 * fround(x) <= edge), leaves get `leafValue(totals)`. Branch nodes carry an empty value and
 * leaves feature -1 and threshold 0 (neither is read for them).
 */
export function toDecisionTree(
  grown: GrownTree,
  binned: BinnedFeatures,
  leafValue: (totals: Float64Array) => number[],
): DecisionTree {
  const size = grown.feature.length;
  const threshold = new Array<number>(size);
  const value = new Array<number[]>(size);
  for (let node = 0; node < size; node++) {
    const feature = grown.feature[node] as number;
    if (feature === -1) {
      threshold[node] = 0;
      value[node] = leafValue(grown.totals[node] as Float64Array);
    } else {
      threshold[node] = (binned.edges[feature] as Float64Array)[grown.splitBin[node] as number] as number;
      value[node] = [];
    }
  }
  return { feature: [...grown.feature], threshold, left: [...grown.left], right: [...grown.right], value };
}

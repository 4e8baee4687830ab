/**
 * Drift of one column: its statistics and the drifted/not-drifted decision.
 *
 * The decision follows Evidently 0.7.23's default stattest choice
 * (`legacy/calculations/stattests/registry.py`, `_get_default_stattest`) and its thresholds:
 *
 * | column | reference ≤ 1000 values | reference > 1000 values |
 * | --- | --- | --- |
 * | numeric, > 5 distinct values | KS p-value ≤ 0.05 | Wasserstein normed ≥ 0.1 |
 * | numeric, ≤ 5 distinct values | chi-square p-value < 0.05 | Jensen–Shannon ≥ 0.1 |
 * | categorical | chi-square p-value < 0.05 | Jensen–Shannon ≥ 0.1 |
 *
 * Where we differ from Evidently, on purpose:
 * - Evidently uses a two-proportion z-test for small columns with ≤ 2 values; we use chi-square
 *   for all small categorical columns (one test, one set of fields; they agree asymptotically).
 * - Jensen–Shannon is base 2 (in [0, 1], as the platform's dashboards show it); Evidently passes
 *   base=None (natural log), which is smaller by a factor √ln2 ≈ 0.83, so our 0.1 is a slightly
 *   more sensitive threshold.
 * - A numeric reference column that is constant is reported as an error and left out of the
 *   share: its normed Wasserstein distance has a zero scale (Evidently divides by 0.001) and its
 *   PSI has a single bin edge.
 */
import type { CategoricalColumn, Column } from '../data/frame';
import { chiSquareTest, jensenShannonDistance } from './category-statistics';
import type {
  CategoricalColumnDrift,
  ColumnDrift,
  ColumnDriftError,
  ColumnRole,
  DriftTest,
  NumericColumnDrift,
} from './drift-result';
import { ksFromOneSided } from './ks-two-sample';
import { DEFAULT_PSI_BINS, psiSorted } from './psi';
import { compareSorted, finiteSorted, standardDeviation } from './sorted-samples';
import { WASSERSTEIN_NORM_FLOOR } from './wasserstein';

export interface ColumnTestThresholds {
  /** KS p-value at or below which a small numeric column has drifted. @default 0.05 */
  readonly ksPValue: number;
  /** Chi-square p-value below which a small categorical column has drifted. @default 0.05 */
  readonly chi2PValue: number;
  /** Normed Wasserstein distance at or above which a large numeric column has drifted. @default 0.1 */
  readonly wassersteinNormed: number;
  /** Jensen–Shannon distance at or above which a large categorical column has drifted. @default 0.1 */
  readonly jensenShannon: number;
  /** Above this many reference values the distance tests decide instead of p-values. @default 1000 */
  readonly largeSampleRows: number;
}

export const EVIDENTLY_THRESHOLDS: ColumnTestThresholds = {
  ksPValue: 0.05,
  chi2PValue: 0.05,
  wassersteinNormed: 0.1,
  jensenShannon: 0.1,
  largeSampleRows: 1000,
};

export interface ColumnDriftOptions {
  readonly role: ColumnRole;
  readonly psiBins?: number;
  readonly thresholds?: ColumnTestThresholds;
}

interface Counts {
  readonly role: ColumnRole;
  readonly reference_rows: number;
  readonly current_rows: number;
  readonly reference_missing: number;
  readonly current_missing: number;
}

function emptinessError(
  kind: 'numeric' | 'categorical',
  counts: Counts,
  referenceLength: number,
  currentLength: number,
) {
  if (counts.reference_rows > 0 && counts.current_rows > 0) return null;
  const side = (length: number, name: string) =>
    length === 0 ? `the ${name} is empty (0 rows)` : `every ${name} value is missing (${length} rows)`;
  const problems = [
    ...(counts.reference_rows === 0 ? [side(referenceLength, 'reference')] : []),
    ...(counts.current_rows === 0 ? [side(currentLength, 'current window')] : []),
  ];
  return { kind, ...counts, error: `no statistics: ${problems.join(' and ')}` } satisfies ColumnDriftError;
}

/**
 * Per test, its threshold and the side of it that is drift: at or below for the KS p-value,
 * below for the chi-square p-value, at or above for the two distances (Evidently's comparisons).
 */
const TEST_RULES: Readonly<
  Record<
    DriftTest,
    {
      readonly threshold: Exclude<keyof ColumnTestThresholds, 'largeSampleRows'>;
      readonly drifted: (value: number, threshold: number) => boolean;
    }
  >
> = {
  ks: { threshold: 'ksPValue', drifted: (value, threshold) => value <= threshold },
  chisquare: { threshold: 'chi2PValue', drifted: (value, threshold) => value < threshold },
  wasserstein_normed: { threshold: 'wassersteinNormed', drifted: (value, threshold) => value >= threshold },
  jensenshannon: { threshold: 'jensenShannon', drifted: (value, threshold) => value >= threshold },
};

function decide(test: DriftTest, value: number, thresholds: ColumnTestThresholds) {
  const rule = TEST_RULES[test];
  const threshold = thresholds[rule.threshold];
  return { test, test_value: value, test_threshold: threshold, drifted: rule.drifted(value, threshold) };
}

/** Drift of a numeric column (Float64Array, NaN = missing). */
export function numericColumnDrift(
  reference: Float64Array,
  current: Float64Array,
  options: ColumnDriftOptions,
): NumericColumnDrift | ColumnDriftError {
  const thresholds = options.thresholds ?? EVIDENTLY_THRESHOLDS;
  const psiBins = options.psiBins ?? DEFAULT_PSI_BINS;
  const ref = finiteSorted(reference);
  const cur = finiteSorted(current);
  const counts: Counts = {
    role: options.role,
    reference_rows: ref.length,
    current_rows: cur.length,
    reference_missing: reference.length - ref.length,
    current_missing: current.length - cur.length,
  };
  const empty = emptinessError('numeric', counts, reference.length, current.length);
  if (empty) return empty;
  if (ref[0] === ref[ref.length - 1]) {
    return {
      kind: 'numeric',
      ...counts,
      error:
        `the reference is constant (every value is ${ref[0]}): the normed Wasserstein distance ` +
        'has no scale and PSI has no bins',
    };
  }

  const walk = compareSorted(ref, cur);
  const ks = ksFromOneSided(ref.length, cur.length, walk.maxDiff, walk.minDiff);
  const psi = psiSorted(ref, cur, psiBins);
  const wassersteinNormed = walk.wasserstein / Math.max(standardDeviation(ref), WASSERSTEIN_NORM_FLOOR);
  const large = ref.length > thresholds.largeSampleRows;

  let categorical: { jensenshannon: number; chi2_statistic: number; chi2_pvalue: number } | undefined;
  if (walk.smallSupport) {
    const chi = chiSquareTest(walk.smallSupport.reference, walk.smallSupport.current);
    categorical = {
      jensenshannon: jensenShannonDistance(walk.smallSupport.reference, walk.smallSupport.current),
      chi2_statistic: chi.statistic,
      chi2_pvalue: chi.pvalue,
    };
  }
  const decision = categorical
    ? large
      ? decide('jensenshannon', categorical.jensenshannon, thresholds)
      : decide('chisquare', categorical.chi2_pvalue, thresholds)
    : large
      ? decide('wasserstein_normed', wassersteinNormed, thresholds)
      : decide('ks', ks.pvalue, thresholds);

  return {
    kind: 'numeric',
    ...counts,
    ks_statistic: ks.statistic,
    ks_pvalue: ks.pvalue,
    ks_method: ks.method,
    psi,
    psi_bins: psiBins,
    wasserstein: walk.wasserstein,
    wasserstein_normed: wassersteinNormed,
    ...categorical,
    ...decision,
  };
}

/**
 * Counts of each level's code; -1 (missing: an empty cell or null) and out-of-range codes are
 * counted as missing, never as a category of their own, so a change in how often a value is
 * missing shows in `*_missing`, not in the category statistics.
 */
function countCodes(column: CategoricalColumn): { counts: Float64Array; missing: number } {
  const counts = new Float64Array(column.levels.length);
  const levels = column.levels.length;
  let missing = 0;
  const codes = column.codes;
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] as number;
    if (code >= 0 && code < levels) counts[code] = (counts[code] as number) + 1;
    else missing++;
  }
  return { counts, missing };
}

/**
 * Adds one side's non-zero level counts to the counts aligned by category name: a name met
 * before adds to its slot, a new one gets a slot at the end (0 on the other side). Returns the
 * names it added, in order.
 */
function alignCounts(
  levels: readonly string[],
  levelCounts: Float64Array,
  index: Map<string, number>,
  own: number[],
  other: number[],
): string[] {
  const added: string[] = [];
  for (let level = 0; level < levels.length; level++) {
    const count = levelCounts[level] as number;
    if (count === 0) continue;
    const name = levels[level] as string;
    const at = index.get(name);
    if (at === undefined) {
      index.set(name, own.length);
      own.push(count);
      other.push(0);
      added.push(name);
    } else own[at] = (own[at] as number) + count;
  }
  return added;
}

/**
 * Drift of a categorical column. The two frames may code the column with different level lists;
 * categories are matched by name, over the union of categories seen in either (as Evidently
 * builds its keys from the values present, so unseen levels do not add degrees of freedom).
 */
export function categoricalColumnDrift(
  reference: CategoricalColumn,
  current: CategoricalColumn,
  options: ColumnDriftOptions,
): CategoricalColumnDrift | ColumnDriftError {
  const thresholds = options.thresholds ?? EVIDENTLY_THRESHOLDS;
  const ref = countCodes(reference);
  const cur = countCodes(current);
  const counts: Counts = {
    role: options.role,
    reference_rows: reference.codes.length - ref.missing,
    current_rows: current.codes.length - cur.missing,
    reference_missing: ref.missing,
    current_missing: cur.missing,
  };
  const empty = emptinessError('categorical', counts, reference.codes.length, current.codes.length);
  if (empty) return empty;

  // Align on category names: reference order first, then categories new in the current window.
  const index = new Map<string, number>();
  const refCounts: number[] = [];
  const curCounts: number[] = [];
  const referenceCategories = alignCounts(reference.levels, ref.counts, index, refCounts, curCounts);
  const newCategories = alignCounts(current.levels, cur.counts, index, curCounts, refCounts);
  const absentCategories = referenceCategories.filter((_, slot) => curCounts[slot] === 0);

  const jensenshannon = jensenShannonDistance(refCounts, curCounts);
  const chi = chiSquareTest(refCounts, curCounts);
  const decision =
    counts.reference_rows > thresholds.largeSampleRows
      ? decide('jensenshannon', jensenshannon, thresholds)
      : decide('chisquare', chi.pvalue, thresholds);
  return {
    kind: 'categorical',
    ...counts,
    jensenshannon,
    chi2_statistic: chi.statistic,
    chi2_pvalue: chi.pvalue,
    new_categories: newCategories,
    absent_categories: absentCategories,
    ...decision,
  };
}

/** Drift of one named column of the two frames, or an error entry saying why there is none. */
export function columnDrift(
  reference: Column | undefined,
  current: Column | undefined,
  options: ColumnDriftOptions,
): ColumnDrift {
  const blank = {
    role: options.role,
    reference_rows: 0,
    current_rows: 0,
    reference_missing: 0,
    current_missing: 0,
  };
  if (reference === undefined) {
    return {
      kind: current?.kind ?? 'numeric',
      ...blank,
      error: 'the column is missing from the reference data',
    };
  }
  if (current === undefined) {
    return { kind: reference.kind, ...blank, error: 'the column is missing from the current data' };
  }
  if (reference.kind !== current.kind) {
    return {
      kind: reference.kind,
      ...blank,
      error: `the column is ${reference.kind} in the reference data but ${current.kind} in the current data`,
    };
  }
  if (reference.kind === 'numeric' && current.kind === 'numeric') {
    return numericColumnDrift(reference.values, current.values, options);
  }
  if (reference.kind === 'categorical' && current.kind === 'categorical') {
    return categoricalColumnDrift(reference, current, options);
  }
  throw new Error('unreachable: column kinds were checked above');
}

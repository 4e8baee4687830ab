/**
 * Categorical drift compares category strings: how each frame codes its levels, which categories
 * appear or vanish, and missing values (counted, never a category) do not change what is compared.
 */
import { describe, expect, it } from 'vitest';
import { type Column, categoricalColumn, type Frame, numericColumn } from '../../lambdas/core/data/frame';
import {
  type CategoricalColumnDrift,
  categoryChanges,
  chiSquaredSf,
  computeDrift,
  type DriftResult,
  type NumericColumnDrift,
  noVerdictReason,
} from '../../lambdas/core/drift';
import { normalSample } from '../support/seeded-samples';

/** A categorical column of these strings (null = missing), coded with `levels` in that order. */
function coded(values: readonly (string | null)[], levels: readonly string[]): Column {
  const codes = Int32Array.from(values, (value) => (value === null ? -1 : levels.indexOf(value)));
  if (codes.some((code, i) => code < 0 && values[i] !== null)) throw new Error('a value has no level');
  return categoricalColumn(codes, levels);
}

/** `counts` of each category, in the order given. */
function repeated(counts: Readonly<Record<string, number>>): (string | null)[] {
  return Object.entries(counts).flatMap(([name, n]) => Array<string>(n).fill(name));
}

function frame(columns: Record<string, Column>): Frame {
  const first = Object.values(columns)[0];
  const rowCount =
    first === undefined ? 0 : first.kind === 'numeric' ? first.values.length : first.codes.length;
  return { rowCount, columns: new Map(Object.entries(columns)) };
}

function categorical(result: DriftResult, name = 'c'): CategoricalColumnDrift {
  const column = result.columns[name];
  if (!column || 'error' in column || column.kind !== 'categorical')
    throw new Error(`no statistics for ${name}`);
  return column;
}

const REFERENCE = repeated({ USA: 50, Europe: 30, Japan: 20 });
const CURRENT = repeated({ Japan: 35, USA: 40, Europe: 25 });

describe('categorical drift on category strings', () => {
  it('gives the same statistics whatever order either frame codes its levels in', () => {
    const asReference = computeDrift(
      frame({ c: coded(REFERENCE, ['USA', 'Europe', 'Japan']) }),
      frame({ c: coded(CURRENT, ['USA', 'Europe', 'Japan']) }),
    );
    const reordered = computeDrift(
      frame({ c: coded(REFERENCE, ['Japan', 'USA', 'Europe']) }),
      // Unused levels too: a level nobody has adds no category (no degree of freedom).
      frame({ c: coded([...CURRENT].reverse(), ['Europe', 'Korea', 'Japan', 'USA']) }),
    );

    const a = categorical(asReference);
    const b = categorical(reordered);
    expect(b.chi2_statistic).toBeCloseTo(a.chi2_statistic, 12);
    expect(b.chi2_pvalue).toBeCloseTo(a.chi2_pvalue, 12);
    expect(b.jensenshannon).toBeCloseTo(a.jensenshannon, 12);
    // Expected counts are the reference's (n = 100 on both sides): 50, 30, 20 against 40, 25, 35.
    const statistic = 10 ** 2 / 50 + 5 ** 2 / 30 + 15 ** 2 / 20;
    expect(a.chi2_statistic).toBeCloseTo(statistic, 12);
    // With two degrees of freedom chi2.sf(x) = exp(-x/2).
    expect(a.chi2_pvalue).toBeCloseTo(Math.exp(-statistic / 2), 14);
    expect(b).toMatchObject({ new_categories: [], absent_categories: [], test: 'chisquare', drifted: true });
  });

  it('names a category the current window lacks and counts its drop in the statistics', () => {
    const current = repeated({ USA: 60, Europe: 40 });

    const c = categorical(
      computeDrift(
        frame({ c: coded(REFERENCE, ['USA', 'Europe', 'Japan']) }),
        frame({ c: coded(current, ['Europe', 'USA']) }),
      ),
    );

    expect(c.absent_categories).toEqual(['Japan']);
    expect(c.new_categories).toEqual([]);
    const statistic = 10 ** 2 / 50 + 10 ** 2 / 30 + 20 ** 2 / 20;
    expect(c.chi2_statistic).toBeCloseTo(statistic, 12);
    expect(c.chi2_pvalue).toBeCloseTo(chiSquaredSf(statistic, 2), 14);
    expect(categoryChanges(c)).toBe('absent now: Japan');
  });

  it('makes a new category infinite chi-square drift, and names it', () => {
    const current = [...REFERENCE.slice(0, 95), ...repeated({ Korea: 5 })];

    const c = categorical(
      computeDrift(
        frame({ c: coded(REFERENCE, ['USA', 'Europe', 'Japan']) }),
        frame({ c: coded(current, ['Korea', 'Japan', 'Europe', 'USA']) }),
      ),
    );

    expect(c.new_categories).toEqual(['Korea']);
    expect(c.chi2_statistic).toBe(Number.POSITIVE_INFINITY);
    expect(c.chi2_pvalue).toBe(0);
    expect(c.drifted).toBe(true);
    expect(categoryChanges(c)).toBe('new: Korea');
  });

  it('counts missing values on each side and leaves them out of the statistics', () => {
    const withGaps = [...REFERENCE, null, null, null, null, null];
    const currentWithGaps = [null, ...CURRENT, null];

    const gaps = categorical(
      computeDrift(
        frame({ c: coded(withGaps, ['Japan', 'Europe', 'USA']) }),
        frame({ c: coded(currentWithGaps, ['USA', 'Japan', 'Europe']) }),
      ),
    );
    const present = categorical(
      computeDrift(
        frame({ c: coded(REFERENCE, ['USA', 'Europe', 'Japan']) }),
        frame({ c: coded(CURRENT, ['USA', 'Europe', 'Japan']) }),
      ),
    );

    expect(gaps).toMatchObject({
      reference_rows: 100,
      reference_missing: 5,
      current_rows: 100,
      current_missing: 2,
    });
    expect(gaps.chi2_statistic).toBe(present.chi2_statistic);
    expect(gaps.jensenshannon).toBe(present.jensenshannon);
    expect(gaps.new_categories).toEqual([]);
  });

  it('compares a numeric column with missing values on its present values and counts the rest', () => {
    const reference = normalSample(400, 0, 41);
    const current = normalSample(300, 0.4, 42);
    const gappy = (values: Float64Array, every: number) =>
      Float64Array.from({ length: values.length + Math.floor(values.length / every) }, (_, i) => {
        const k = i - Math.floor(i / (every + 1));
        return i % (every + 1) === every ? Number.NaN : (values[k] as number);
      });

    const withGaps = computeDrift(
      frame({ x: numericColumn(gappy(reference, 4)) }),
      frame({ x: numericColumn(gappy(current, 3)) }),
    ).columns.x as NumericColumnDrift;
    const present = computeDrift(frame({ x: numericColumn(reference) }), frame({ x: numericColumn(current) }))
      .columns.x as NumericColumnDrift;

    expect(withGaps).toMatchObject({
      reference_rows: 400,
      reference_missing: 100,
      current_rows: 300,
      current_missing: 100,
    });
    expect(withGaps.ks_statistic).toBe(present.ks_statistic);
    expect(withGaps.ks_pvalue).toBe(present.ks_pvalue);
    expect(withGaps.psi).toBe(present.psi);
    expect(withGaps.wasserstein_normed).toBe(present.wasserstein_normed);
  });
});

describe('noVerdictReason', () => {
  const reference = frame({
    Origin: coded(REFERENCE, ['USA', 'Europe', 'Japan']),
    Horsepower: numericColumn(normalSample(100, 100, 43, 20)),
  });

  it('is null when the result has a verdict', () => {
    expect(noVerdictReason(computeDrift(reference, reference))).toBeNull();
  });

  it('says the current data has none of the feature columns', () => {
    const other = frame({ foo: numericColumn(normalSample(100, 0, 44)) });

    expect(noVerdictReason(computeDrift(reference, other))).toBe(
      'no feature could be compared: the current data has none of the 2 feature columns (Origin, Horsepower)',
    );
  });

  it('says the current window is empty', () => {
    const empty = frame({ Origin: coded([], ['USA']), Horsepower: numericColumn(new Float64Array(0)) });

    expect(noVerdictReason(computeDrift(reference, empty))).toBe(
      'no feature could be compared: the current window is empty (0 rows)',
    );
  });

  it("names each column's reason when every value is missing", () => {
    const blank = frame({
      Origin: coded([null, null], ['USA']),
      Horsepower: numericColumn(Float64Array.of(Number.NaN, Number.NaN)),
    });

    expect(noVerdictReason(computeDrift(reference, blank))).toBe(
      'no feature could be compared (Origin: no statistics: every current window value is missing (2 rows); ' +
        'Horsepower: no statistics: every current window value is missing (2 rows))',
    );
  });

  it('says which statistic the headline metric lacks', () => {
    const current = frame({ Origin: coded(CURRENT, ['Japan', 'USA', 'Europe']) });

    const result = computeDrift(reference, current, { metric: 'max_psi', columns: ['Origin'] });

    expect(result.features_compared).toBe(1);
    expect(noVerdictReason(result)).toBe(
      'no compared feature has a psi value, so there is no max_psi: it needs a numeric feature',
    );
  });
});

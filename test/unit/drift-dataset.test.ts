import { describe, expect, it } from 'vitest';
import {
  type CategoricalColumn,
  type Column,
  categoricalColumn,
  type Frame,
  numericColumn,
} from '../../lambdas/core/data/frame';
import {
  type CategoricalColumnDrift,
  type ColumnDriftError,
  computeDrift,
  type NumericColumnDrift,
} from '../../lambdas/core/drift';
import { categoryCodes, normalSample } from '../support/seeded-samples';

/** A categorical column drawn from `weights` over `levels`. */
function categories(
  n: number,
  levels: readonly string[],
  weights: readonly number[],
  seed: number,
): CategoricalColumn {
  return categoricalColumn(categoryCodes(n, weights, seed), levels);
}

function frame(columns: Record<string, Column>): Frame {
  const map = new Map(Object.entries(columns));
  const first = map.values().next().value;
  const rowCount =
    first === undefined ? 0 : first.kind === 'numeric' ? first.values.length : first.codes.length;
  return { rowCount, columns: map };
}

const numeric = (values: Float64Array) => numericColumn(values);

describe('computeDrift', () => {
  it('finds no drift between a sample and itself: KS 0, PSI 0, Jensen–Shannon 0', () => {
    const x = numeric(normalSample(3000, 0, 1));
    const colour = categories(3000, ['red', 'green', 'blue'], [5, 3, 2], 2);
    const data = frame({ x, colour });

    const result = computeDrift(data, data);

    const xs = result.columns.x as NumericColumnDrift;
    const cs = result.columns.colour as CategoricalColumnDrift;
    expect(xs.ks_statistic).toBe(0);
    expect(xs.ks_pvalue).toBe(1);
    expect(xs.psi).toBe(0);
    expect(xs.wasserstein).toBe(0);
    expect(cs.jensenshannon).toBe(0);
    expect(cs.chi2_statistic).toBe(0);
    expect(result).toMatchObject({ share_drifted: 0, value: 0, drifted: false, features_compared: 2 });
  });

  it('flags a shifted normal (large reference: normed Wasserstein ≥ 0.1)', () => {
    const reference = frame({ x: numeric(normalSample(5000, 0, 1)), y: numeric(normalSample(5000, 0, 2)) });
    const current = frame({ x: numeric(normalSample(5000, 0.5, 3)), y: numeric(normalSample(5000, 0, 4)) });

    const result = computeDrift(reference, current);

    const x = result.columns.x as NumericColumnDrift;
    const y = result.columns.y as NumericColumnDrift;
    expect(x).toMatchObject({ test: 'wasserstein_normed', drifted: true, ks_method: 'exact' });
    expect(x.wasserstein_normed).toBeGreaterThan(0.4);
    expect(x.ks_pvalue).toBeLessThan(1e-50);
    expect(x.psi).toBeGreaterThan(0.1);
    expect(y.drifted).toBe(false);
    expect(result).toMatchObject({
      share_drifted: 0.5,
      value: 0.5,
      threshold: 0.2,
      drifted: true,
      features_drifted: 1,
    });
  });

  it('decides small numeric columns by the KS p-value (≤ 0.05)', () => {
    const reference = frame({ x: numeric(normalSample(400, 0, 5)) });

    const shifted = computeDrift(reference, frame({ x: numeric(normalSample(400, 0.4, 6)) })).columns
      .x as NumericColumnDrift;
    const same = computeDrift(reference, frame({ x: numeric(normalSample(400, 0, 7)) })).columns
      .x as NumericColumnDrift;

    expect(shifted).toMatchObject({ test: 'ks', test_threshold: 0.05, drifted: true });
    expect(shifted.test_value).toBe(shifted.ks_pvalue);
    expect(same).toMatchObject({ test: 'ks', drifted: false });
  });

  it('tests a numeric column with at most 5 distinct values as categories, as Evidently does', () => {
    const reference = frame({ label: numeric(Float64Array.from({ length: 2000 }, (_, i) => i % 4)) });
    const current = frame({
      label: numeric(Float64Array.from({ length: 2000 }, (_, i) => (i % 10 < 7 ? 0 : 3))),
    });

    const label = computeDrift(reference, current).columns.label as NumericColumnDrift;

    expect(label.test).toBe('jensenshannon');
    expect(label.jensenshannon).toBeGreaterThan(0.3);
    expect(label.chi2_pvalue).toBe(0);
    expect(label.drifted).toBe(true);
  });

  it('decides small categorical columns by chi-square and large ones by Jensen–Shannon', () => {
    const levels = ['a', 'b', 'c'];
    const small = computeDrift(
      frame({ c: categories(500, levels, [1, 1, 1], 1) }),
      frame({ c: categories(500, levels, [2, 1, 1], 2) }),
    ).columns.c as CategoricalColumnDrift;
    const large = computeDrift(
      frame({ c: categories(5000, levels, [1, 1, 1], 3) }),
      frame({ c: categories(5000, levels, [1, 1, 1.1], 4) }),
    ).columns.c as CategoricalColumnDrift;

    expect(small).toMatchObject({ test: 'chisquare', drifted: true });
    expect(small.chi2_pvalue).toBeLessThan(0.001);
    expect(large).toMatchObject({ test: 'jensenshannon', drifted: false });
    expect(large.jensenshannon).toBeLessThan(0.05);
  });

  it('matches categories by name when the two frames code them differently, and names new ones', () => {
    const reference = frame({ c: categoricalColumn(Int32Array.of(0, 0, 1, 1, -1), ['x', 'y']) });
    const current = frame({ c: categoricalColumn(Int32Array.of(1, 1, 0, 0, 2), ['y', 'x', 'z']) });

    const c = computeDrift(reference, current).columns.c as CategoricalColumnDrift;

    expect(c.new_categories).toEqual(['z']);
    expect(c.chi2_statistic).toBe(Number.POSITIVE_INFINITY);
    expect(c.chi2_pvalue).toBe(0);
    expect(c.drifted).toBe(true);
    expect(c).toMatchObject({ reference_rows: 4, reference_missing: 1, current_rows: 5 });
    // x and y keep their 50/50 split; z takes 1/5 of the current window.
    const expected = Math.sqrt(
      (0.5 * Math.log2(0.5 / 0.45) * 2 + 0.4 * Math.log2(0.4 / 0.45) * 2 + 0.2 * Math.log2(0.2 / 0.1)) / 2,
    );
    expect(c.jensenshannon).toBeCloseTo(expected, 14);
  });

  describe('bad input', () => {
    it('reports an empty current window per column and excludes every column from the share', () => {
      const reference = frame({ x: numeric(normalSample(100, 0, 1)), c: categories(100, ['a'], [1], 1) });
      const empty = frame({
        x: numeric(new Float64Array(0)),
        c: categoricalColumn(new Int32Array(0), ['a']),
      });

      const result = computeDrift(reference, empty);

      expect(result.columns.x).toEqual({
        kind: 'numeric',
        role: 'feature',
        reference_rows: 100,
        current_rows: 0,
        reference_missing: 0,
        current_missing: 0,
        error: 'no statistics: the current window is empty (0 rows)',
      });
      expect((result.columns.c as ColumnDriftError).error).toBe(
        'no statistics: the current window is empty (0 rows)',
      );
      expect(result).toMatchObject({
        share_drifted: null,
        value: null,
        drifted: false,
        features_compared: 0,
      });
      expect(result.notes).toContain('the current window is empty (0 rows): no column could be compared');
      expect(result.notes).toContain('no feature could be compared, so there is no share_drifted');
    });

    it('reports an all-null column, a missing column and a constant reference, and keeps the rest', () => {
      const n = 300;
      const reference = frame({
        ok: numeric(normalSample(n, 0, 1)),
        nulls: numeric(new Float64Array(n).fill(Number.NaN)),
        gone: numeric(normalSample(n, 0, 2)),
        constant: numeric(new Float64Array(n).fill(3)),
        empty_cat: categoricalColumn(new Int32Array(n).fill(-1), ['a', 'b']),
      });
      const current = frame({
        ok: numeric(normalSample(n, 1, 3)),
        nulls: numeric(normalSample(n, 0, 4)),
        constant: numeric(normalSample(n, 3, 5)),
        empty_cat: categories(n, ['a', 'b'], [1, 1], 6),
      });

      const result = computeDrift(reference, current);

      expect((result.columns.nulls as ColumnDriftError).error).toBe(
        'no statistics: every reference value is missing (300 rows)',
      );
      expect((result.columns.gone as ColumnDriftError).error).toBe(
        'the column is missing from the current data',
      );
      expect((result.columns.constant as ColumnDriftError).error).toMatch(
        /^the reference is constant \(every value is 3\)/,
      );
      expect((result.columns.empty_cat as ColumnDriftError).error).toBe(
        'no statistics: every reference value is missing (300 rows)',
      );
      expect(result).toMatchObject({
        features_compared: 1,
        features_drifted: 1,
        share_drifted: 1,
        drifted: true,
      });
      expect(result.notes).toEqual([
        'nulls: left out of the share: no statistics: every reference value is missing (300 rows)',
        'gone: left out of the share: the column is missing from the current data',
        expect.stringMatching(/^constant: left out of the share: the reference is constant/),
        'empty_cat: left out of the share: no statistics: every reference value is missing (300 rows)',
      ]);
    });

    it('reports a column whose type changed between reference and current', () => {
      const reference = frame({ x: numeric(normalSample(50, 0, 1)) });
      const current = frame({ x: categories(50, ['a'], [1], 1) });

      const x = computeDrift(reference, current).columns.x as ColumnDriftError;

      expect(x.error).toBe('the column is numeric in the reference data but categorical in the current data');
    });

    it('ignores NaN and ±Infinity inside a column and counts them as missing', () => {
      const values = normalSample(200, 0, 1);
      values[3] = Number.NaN;
      values[7] = Number.POSITIVE_INFINITY;

      const x = computeDrift(frame({ x: numeric(values) }), frame({ x: numeric(normalSample(200, 0, 1)) }))
        .columns.x as NumericColumnDrift;

      expect(x).toMatchObject({ reference_rows: 198, reference_missing: 2, current_rows: 200 });
    });
  });

  describe('headline metric', () => {
    const reference = frame({
      a: numeric(normalSample(3000, 0, 1)),
      b: numeric(normalSample(3000, 0, 2)),
      c: categories(3000, ['p', 'q'], [1, 1], 3),
    });
    const current = frame({
      a: numeric(normalSample(3000, 0.3, 4)),
      b: numeric(normalSample(3000, 0, 5)),
      c: categories(3000, ['p', 'q'], [3, 1], 6),
    });

    it('reports the largest PSI, normed Wasserstein or Jensen–Shannon over the features', () => {
      const share = computeDrift(reference, current);
      const psi = computeDrift(reference, current, { metric: 'max_psi', threshold: 0.05 });
      const wasserstein = computeDrift(reference, current, {
        metric: 'max_wasserstein_normed',
        threshold: 0.5,
      });
      const js = computeDrift(reference, current, { metric: 'max_jensenshannon', threshold: 0.1 });

      const a = share.columns.a as NumericColumnDrift;
      const b = share.columns.b as NumericColumnDrift;
      const c = share.columns.c as CategoricalColumnDrift;
      expect(share).toMatchObject({ drift_metric: 'share_drifted', value: 2 / 3, drifted: true });
      expect(psi).toMatchObject({ value: Math.max(a.psi, b.psi), drifted: true });
      expect(wasserstein).toMatchObject({ value: a.wasserstein_normed, drifted: false });
      expect(js).toMatchObject({ value: c.jensenshannon, drifted: true });
    });

    it('counts prediction columns on their own, not in the share', () => {
      const result = computeDrift(reference, current, { columns: ['b'], predictionColumns: ['a'] });

      expect(result.columns.a?.role).toBe('prediction');
      expect(result).toMatchObject({
        features_compared: 1,
        share_drifted: 0,
        prediction_drifted: true,
        drifted: false,
      });
    });

    it('refuses options it cannot honour, naming the option', () => {
      expect(() => computeDrift(reference, current, { psiBins: 1 })).toThrow(
        'psiBins must be an integer ≥ 2 (got 1)',
      );
      expect(() => computeDrift(reference, current, { threshold: Number.NaN })).toThrow(
        'threshold must be a finite number > 0 (got NaN)',
      );
    });

    it('compares the value with the threshold strictly ("exceeds DRIFT_THRESHOLD")', () => {
      const result = computeDrift(reference, current, { threshold: 2 / 3 });

      expect(result).toMatchObject({ value: 2 / 3, drifted: false });
    });
  });
});

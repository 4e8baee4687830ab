import { describe, expect, it } from 'vitest';
import {
  chiSquaredSf,
  chiSquareTest,
  jensenShannonDistance,
  populationStabilityIndex,
  psiBinEdges,
  wassersteinDistance,
  wassersteinDistanceNormed,
} from '../../lambdas/core/drift';
import { fillEmptyShares } from '../../lambdas/core/drift/psi';
import { quantileSorted } from '../../lambdas/core/drift/sorted-samples';

const ramp = (n: number, offset = 0) => Float64Array.from({ length: n }, (_, i) => i + offset);

describe('populationStabilityIndex', () => {
  it('is 0 for identical samples', () => {
    expect(populationStabilityIndex(ramp(1000), ramp(1000))).toBe(0);
  });

  it('bins on the reference deciles and sums (ref - cur)·ln(ref/cur)', () => {
    // Reference 0..99: deciles split it into ten bins of 10%. The current window puts half its
    // values in the first bin and spreads the other half evenly over the remaining nine.
    const current = Float64Array.from([
      ...Array(90).fill(0),
      ...Array.from({ length: 90 }, (_, i) => 10 + i),
    ]);
    const expected = (0.1 - 0.5) * Math.log(0.1 / 0.5) + 9 * (0.1 - 0.5 / 9) * Math.log(0.1 / (0.5 / 9));

    expect(populationStabilityIndex(ramp(100), current)).toBeCloseTo(expected, 12);
  });

  it('smooths empty bins with 0.0001 as Evidently does, so a fully moved window is finite', () => {
    const psi = populationStabilityIndex(ramp(100), ramp(100, 1000));

    // Everything lands in the last bin: nine bins go 0.1 → 0.0001 and the last 0.1 → 1.
    const expected = 9 * (0.1 - 0.0001) * Math.log(0.1 / 0.0001) + (0.1 - 1) * Math.log(0.1 / 1);
    expect(psi).toBeCloseTo(expected, 10);
  });

  it('uses min share / 10^6 for empty bins when a share is already ≤ 0.0001', () => {
    const shares = Float64Array.of(0.00005, 0, 0.99995);

    expect([...fillEmptyShares(shares)]).toEqual([0.00005, 0.00005 / 1e6, 0.99995]);
  });

  it('drops repeated quantiles, so a column with many ties gets fewer bins', () => {
    const mostlyZero = Float64Array.from([...Array(80).fill(0), ...ramp(20, 1)]).sort();

    // numpy.unique(numpy.quantile(x, [0.1, …, 0.9])) → [0.0, 0.20000000000000284, 10.100000000000009]
    expect([...psiBinEdges(mostlyZero, 10)]).toEqual([0, 0.20000000000000284, 10.100000000000009]);
  });

  it('computes quantiles like numpy.quantile (linear)', () => {
    // numpy.quantile([1,2,...,9,10.5], 0.3) → 3.6999999999999997
    expect(quantileSorted(Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10.5), 0.3)).toBe(3.6999999999999997);
  });
});

describe('wassersteinDistance', () => {
  it('matches the scipy documentation examples', () => {
    expect(wassersteinDistance(Float64Array.of(0, 1, 3), Float64Array.of(5, 6, 8))).toBe(5);
    expect(wassersteinDistance(Float64Array.of(3.4, 3.9, 7.5, 7.8), Float64Array.of(4.5, 1.4))).toBeCloseTo(
      2.7,
      14,
    );
  });

  it('is 0 for identical samples and the shift for a shifted copy', () => {
    expect(wassersteinDistance(ramp(50), ramp(50))).toBe(0);
    expect(wassersteinDistance(ramp(50), ramp(50, 2.5))).toBeCloseTo(2.5, 12);
  });

  it('is normed by the reference standard deviation, with Evidently’s 0.001 floor', () => {
    // std of 0..9 is sqrt(8.25)
    expect(wassersteinDistanceNormed(ramp(10), ramp(10, 1))).toBeCloseTo(1 / Math.sqrt(8.25), 12);
    expect(wassersteinDistanceNormed(Float64Array.of(2, 2, 2), Float64Array.of(2, 2, 3))).toBeCloseTo(
      1 / 3 / 0.001,
      8,
    );
  });
});

describe('jensenShannonDistance (base 2)', () => {
  it('is 0 for identical frequencies and 1 for disjoint ones', () => {
    expect(jensenShannonDistance([10, 20, 30], [1, 2, 3])).toBe(0);
    expect(jensenShannonDistance([5, 0], [0, 7])).toBe(1);
  });

  it('matches scipy.spatial.distance.jensenshannon(base=2)', () => {
    // jensenshannon([1, 0], [0.5, 0.5], base=2) → 0.5579230452841438
    expect(jensenShannonDistance([1, 0], [1, 1])).toBeCloseTo(0.5579230452841438, 15);
    // jensenshannon([0.2, 0.3, 0.5], [0.5, 0.3, 0.2], base=2) → 0.3095409536771482
    expect(jensenShannonDistance([2, 3, 5], [5, 3, 2])).toBeCloseTo(0.3095409536771482, 15);
  });
});

describe('chiSquareTest (Evidently expected counts)', () => {
  it('matches scipy.stats.chisquare on the documentation example', () => {
    // chisquare([16, 18, 16, 14, 12, 12]) → statistic 2.0, pvalue 0.8491450360846096
    const result = chiSquareTest([1, 1, 1, 1, 1, 1], [16, 18, 16, 14, 12, 12]);

    expect(result.statistic).toBeCloseTo(2, 12);
    expect(result.pvalue).toBeCloseTo(0.8491450360846096, 13);
  });

  it('scales expected counts by n_current / n_reference', () => {
    // Reference 50/50 over 200 rows, current 30/70 over 100: expected 50/50, chi² = 2·20²/50 = 16.
    const result = chiSquareTest([100, 100], [30, 70]);

    expect(result.statistic).toBeCloseTo(16, 12);
    expect(result.pvalue).toBeCloseTo(chiSquaredSf(16, 1), 15);
  });

  it('reports a category absent from the reference as infinite chi² and p-value 0', () => {
    expect(chiSquareTest([10, 10, 0], [10, 10, 1])).toEqual({
      statistic: Number.POSITIVE_INFINITY,
      pvalue: 0,
    });
  });

  it('gives p-value 1 when there is a single category (scipy would give NaN)', () => {
    expect(chiSquareTest([40], [12])).toEqual({ statistic: 0, pvalue: 1 });
  });

  it.each([
    [3.84, 1, 0.05004352124870519],
    [10, 4, 0.04042768199451279],
    [100, 80, 0.064570368921133],
  ])('chi2.sf(%f, %d) = %f', (x, df, expected) => {
    expect(Math.abs(chiSquaredSf(x, df) - expected) / expected).toBeLessThan(1e-12);
  });
});

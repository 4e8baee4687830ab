import { describe, expect, it } from 'vitest';
import { ksTwoSample, kstwoSf } from '../../lambdas/core/drift';
import { outerProbInsideMethod, probOutsideSquare, roundHalfEven } from '../../lambdas/core/drift/ks-exact';
import { normalSample } from '../support/seeded-samples';

describe('ksTwoSample', () => {
  it('gives statistic 0 and p-value 1 for identical samples', () => {
    const sample = normalSample(500, 0, 1);

    const result = ksTwoSample(sample, sample.slice().reverse());

    expect(result).toEqual({ statistic: 0, pvalue: 1, method: 'exact' });
  });

  it('matches scipy on disjoint samples of three (exact: 2 / C(6,3))', () => {
    // scipy.stats.ks_2samp([1,2,3], [4,5,6]) → statistic 1.0, pvalue 0.09999999999999999
    const result = ksTwoSample(Float64Array.of(1, 2, 3), Float64Array.of(4, 5, 6));

    expect(result.statistic).toBe(1);
    expect(result.pvalue).toBeCloseTo(0.1, 15);
    expect(result.method).toBe('exact');
  });

  it('matches scipy on unequal sizes (the inside-method path)', () => {
    // ks_2samp([0.1,0.4,0.7,1.2,1.9], [0.3,0.5,0.8,1.1,2.2,2.9,3.1]) → 0.42857142857142855, 0.5454545454545454
    const result = ksTwoSample(
      Float64Array.of(0.1, 0.4, 0.7, 1.2, 1.9),
      Float64Array.of(0.3, 0.5, 0.8, 1.1, 2.2, 2.9, 3.1),
    );

    expect(result.statistic).toBe(0.42857142857142855);
    expect(result.pvalue).toBeCloseTo(0.5454545454545454, 14);
  });

  it('handles ties the way scipy does (ECDFs compared after each distinct value)', () => {
    // ks_2samp([1,1,2,2,3,3,3,4], [2,3,3,4,4,5,5,5,6]) → 0.5416666666666666, 0.10941999177293293
    const result = ksTwoSample(
      Float64Array.of(1, 1, 2, 2, 3, 3, 3, 4),
      Float64Array.of(2, 3, 3, 4, 4, 5, 5, 5, 6),
    );

    expect(result.statistic).toBe(0.5416666666666666);
    expect(result.pvalue).toBeCloseTo(0.10941999177293293, 14);
  });

  it('flags a shifted normal with a tiny p-value and leaves an unshifted one alone', () => {
    const reference = normalSample(2000, 0, 11);

    const shifted = ksTwoSample(reference, normalSample(2000, 0.5, 12));
    const same = ksTwoSample(reference, normalSample(2000, 0, 13));

    expect(shifted.pvalue).toBeLessThan(1e-20);
    expect(shifted.statistic).toBeGreaterThan(0.15);
    expect(same.pvalue).toBeGreaterThan(0.05);
  });

  it('switches from exact to asymptotic above 10,000 values, as scipy method="auto" does', () => {
    expect(ksTwoSample(normalSample(10_000, 0, 1), normalSample(500, 0, 2)).method).toBe('exact');
    expect(ksTwoSample(normalSample(10_001, 0, 1), normalSample(500, 0, 2)).method).toBe('asymp');
  });

  it('drops NaN and Infinity before testing, and refuses a sample with nothing left', () => {
    const withGaps = Float64Array.of(1, Number.NaN, 2, 3, Number.POSITIVE_INFINITY);

    expect(ksTwoSample(withGaps, Float64Array.of(4, 5, 6)).statistic).toBe(1);
    expect(() => ksTwoSample(Float64Array.of(Number.NaN), Float64Array.of(1))).toThrow(/finite value/);
  });
});

describe('kstwoSf (scipy.stats.kstwo.sf)', () => {
  // Reference values from scipy 1.17.1; each pair exercises a different branch of _kolmogn.
  it.each([
    [10, 0.1, 0.99963712], // Durbin matrix (n ≤ 140, n·x² small)
    [10, 0.3, 0.27053557479999946], // Pomeranz
    [100, 0.05, 0.9532159710635725], // Durbin matrix
    [100, 0.2, 0.0005551927327988775], // 2 × Smirnov (n ≤ 140, n·x² > 4)
    [100, 0.6, 5.912822156396238e-35], // x ≥ 0.5: exact 2 × Smirnov
    [1000, 0.02, 0.8108971656895577], // 1 - Durbin matrix
    [1000, 0.05, 0.013012074781090332], // 2 × Smirnov
    [5000, 0.025, 0.0037948405200437306],
    [200000, 0.003, 0.0545369786611305], // Pelz–Good (n > 100,000)
    [200000, 0.004, 0.003314212822560255], // 2 × Smirnov, large n
  ])('kstwo.sf(%d, %f) = %f', (n, x, expected) => {
    expect(Math.abs(kstwoSf(x, n) - expected) / expected).toBeLessThan(1e-9);
  });

  it('is 1 below the support and 0 at or above 1', () => {
    expect(kstwoSf(0.004, 100)).toBe(1);
    expect(kstwoSf(1, 100)).toBe(0);
  });
});

describe('exact two-sample helpers', () => {
  it('gives the same p-value from the square and the inside method when n1 = n2', () => {
    expect(outerProbInsideMethod(40, 40, 40, 9)).toBeCloseTo(probOutsideSquare(40, 9), 14);
  });

  it('rounds halves to even like numpy.round', () => {
    expect([0.5, 1.5, 2.5, 5000.5, 2.4].map(roundHalfEven)).toEqual([0, 2, 2, 5000, 2]);
  });
});

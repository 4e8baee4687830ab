/**
 * Exact two-sided p-values of the two-sample Kolmogorov–Smirnov statistic, by counting lattice
 * paths, as scipy 1.17's ks_2samp does for samples of at most 10,000 values.
 *
 * Written here because no maintained JavaScript library reproduces scipy's exact method. Ported
 * from scipy `stats/_stats_py.py` (`_compute_prob_outside_square`, `_attempt_exact_2kssamp`) and
 * `stats/_stats_pythran.py` (`_compute_outer_prob_inside_method`), which follow Hodges (1958),
 * "The Significance Probability of the Smirnov Two-Sample Test", and Viehmann (2021),
 * arXiv:2102.08037, for computing 1 - p directly.
 */

/**
 * Pr(D_{n,n} ≥ h/n) for two samples of equal size n: the share of lattice paths that leave the
 * band |x - y| < h. An alternating sum of binomial ratios, evaluated Horner-style to avoid
 * cancellation (scipy `_compute_prob_outside_square`).
 */
export function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
    k -= 1;
  }
  return 2 * P;
}

/**
 * Pr(D_{m,n} ≥ h/lcm(m,n)): the share of lattice paths from (0,0) to (m,n) that do not stay
 * strictly inside |x/m - y/n| < h/lcm(m,n), computed column by column over a sliding window
 * (scipy `_compute_outer_prob_inside_method`).
 */
export function outerProbInsideMethod(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;

  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  // 1/(i + j) from a table: the recursion is latency-bound, and a multiply is several times
  // quicker than a divide (the results differ from scipy's division by at most an ulp per step).
  const reciprocal = new Float64Array(m + n + 1);
  for (let k = 1; k <= m + n; k++) reciprocal[k] = 1 / k;
  for (let j = minj; j < maxj; j++) A[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = ((A[jj + minj - lastminj] as number) * i + val * j) * (reciprocal[i + j] as number);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      const end = Math.min(maxj - minj + (lastlen - curlen), lenA);
      for (let j = maxj - minj; j < end; j++) A[j] = 1;
    }
  }
  return A[maxj - minj - 1] as number;
}

/** numpy's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface ExactAttempt {
  readonly ok: boolean;
  /** The statistic snapped to the lattice, h / lcm(n1, n2), as scipy returns it in exact mode. */
  readonly statistic: number;
  readonly pvalue: number;
}

/** scipy `_attempt_exact_2kssamp` for the two-sided alternative. */
export function attemptExactTwoSided(n1: number, n2: number, g: number, d: number): ExactAttempt {
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const statistic = h / lcm;
  if (h === 0) return { ok: true, statistic, pvalue: 1 };
  const pvalue = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInsideMethod(n1, n2, g, h);
  return { ok: pvalue >= 0 && pvalue <= 1, statistic, pvalue };
}

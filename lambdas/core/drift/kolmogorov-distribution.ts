/**
 * The survival function of the two-sided one-sample Kolmogorov–Smirnov statistic D_n, as
 * `scipy.stats.kstwo.sf(x, n)` computes it: ks_2samp's asymptotic mode evaluates it at
 * n = round(m·n / (m + n)).
 *
 * Written here because no maintained JavaScript library implements scipy's algorithm choice, and
 * the drift p-values must agree with scipy's. Ported from scipy 1.17 `scipy/stats/_ksstats.py`
 * (`_kolmogn` with cdf=False and its helpers), which follows Simard & L'Ecuyer (2011),
 * "Computing the Two-Sided Kolmogorov-Smirnov Distribution", J. Stat. Softw. 39(11): it picks
 * the Durbin matrix (Marsaglia–Tsang–Wang), Pomeranz's recursion, the Pelz–Good expansion or
 * twice the one-sided Smirnov tail, depending on n and n·x².
 */

const E128 = 2 ** 128;
const EM128 = 2 ** -128;
const LOG_2PI = Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const MIN_LOG = -708;
const SQRT3 = Math.sqrt(3);
const PI_SQUARED = Math.PI ** 2;
const PI_FOUR = Math.PI ** 4;
const PI_SIX = Math.PI ** 6;
/** log(2^-1075): below this exp() underflows to 0 (xsf's MINLOG in cephes/const.h). */
const XSF_MIN_LOG = -745.1332191019412;
/** xsf's SMIRNOV_MAX_COMPUTE_N: above it, smirnov uses a closed-form approximation. */
const SMIRNOV_MAX_COMPUTE_N = 1_000_000;

/** B_{2j}/(2j)/(2j-1) for j = 8..1: Stirling's series, as in scipy's `_STIRLING_COEFFS`. */
const STIRLING_COEFFS = [
  -0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417,
  -0.0005952380952380953, 0.0007936507936507937, -0.002777777777777778, 0.08333333333333333,
];

function clip01(p: number): number {
  return p < 0 ? 0 : Math.min(p, 1);
}

/** x·2^e without letting 2^e itself overflow or underflow. */
function ldexp(x: number, e: number): number {
  let value = x;
  let exponent = e;
  while (exponent > 1000) {
    value *= 2 ** 1000;
    exponent -= 1000;
  }
  while (exponent < -1000) {
    value *= 2 ** -1000;
    exponent += 1000;
  }
  return value * 2 ** exponent;
}

/** log(n! / n^n) by Stirling's series, with n·log(n) removed up front (scipy `_log_nfactorial_div_n_pow_n`). */
function logNFactorialDivNPowN(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING_COEFFS) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k] as number;
      if (aik === 0) continue;
      for (let j = 0; j < m; j++)
        out[i * m + j] = (out[i * m + j] as number) + aik * (b[k * m + j] as number);
    }
  }
  return out;
}

/** Pr(D_n ≤ d) by Durbin's matrix algorithm as Marsaglia, Tsang & Wang (2003) evaluate it (scipy `_kolmogn_DMTW`). */
function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;

  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (v[j - 1] as number) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;

  let H: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)] as number;
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r] as number;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c] as number;

  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let exponent = 0;
  let hExponent = 0;
  let nn = n;
  while (nn > 0) {
    if (nn % 2) {
      power = matmul(power, H, m);
      exponent += hExponent;
    }
    H = matmul(H, H, m);
    hExponent *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)] as number) > E128) {
      for (let i = 0; i < H.length; i++) H[i] = (H[i] as number) / E128;
      hExponent += 128;
    }
    nn = Math.floor(nn / 2);
  }

  let p = power[(k - 1) * m + (k - 1)] as number;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      exponent -= 128;
    }
  }
  if (exponent !== 0) p = ldexp(p, exponent);
  return clip01(p);
}

/** The ends of the non-zero window of row i in Pomeranz's recursion (scipy `_pomeranz_compute_j1j2`). */
function pomeranzWindow(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pr(D_n ≤ x) by Pomeranz's (1974) recursion, for small n (scipy `_kolmogn_Pomeranz`). */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = 1;
  twogpower[0] = 1;
  onem2gpower[0] = 1;
  let exponent = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = ((gpower[m - 1] as number) * gOverN) / m;
    twogpower[m] = ((twogpower[m - 1] as number) * twoGOverN) / m;
    onem2gpower[m] = ((onem2gpower[m - 1] as number) * oneMinusTwoGOverN) / m;
  }

  let v0 = new Float64Array(npwrs);
  let v1 = new Float64Array(npwrs);
  v1[0] = 1;
  let v0s = 0;
  let v1s = 0;
  let [j1, j2] = pomeranzWindow(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [v0, v1] = [v1, v0];
    [v0s, v1s] = [v1s, v0s];
    v1.fill(0);
    [j1, j2] = pomeranzWindow(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // The slice of v0 that numpy.convolve sees (numpy clips a slice at the array's end).
      const start = k1 - v0s;
      const lenA = Math.max(0, Math.min(ln2, npwrs - start));
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      let max = 0;
      for (let c = 0; c < convLen; c++) {
        const kk = convStart + c;
        let sum = 0;
        const lo = Math.max(0, kk - (ln2 - 1));
        const hi = Math.min(kk, lenA - 1);
        for (let a = lo; a <= hi; a++) sum += (v0[start + a] as number) * (pwrs[kk - a] as number);
        v1[c] = sum;
        if (sum > max) max = sum;
      }
      if (max > 0 && max < EM128) {
        for (let c = 0; c < npwrs; c++) v1[c] = (v1[c] as number) * E128;
        exponent -= 128;
      }
      v1s = v0s + j1 - k1;
    }
  }

  let ans = v1[n - v1s] as number;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > E128) {
      ans *= EM128;
      exponent += 128;
    }
    ans *= m;
  }
  if (exponent !== 0) ans = ldexp(ans, exponent);
  return clip01(ans);
}

/** The Pelz–Good (1976) approximation to Pr(D_n ≤ x) (scipy `_kolmogn_PelzGood`, cdf=True; unclipped). */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const zsquared = z ** 2;
  const zthree = z ** 3;
  const zfour = z ** 4;
  const zsix = z ** 6;

  const qlog = -PI_SQUARED / 8 / zsquared;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);

  const k1a = -zsquared;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * zsix + 2 * zfour;
  const k2b = ((2 * zfour - 5 * zsquared) * PI_SQUARED) / 4;
  const k2c = (PI_FOUR * (1 - 2 * zsquared)) / 16;
  const k3d = (PI_SIX * (5 - 30 * zsquared)) / 64;
  const k3c = (PI_FOUR * (-60 * zsquared + 212 * zfour)) / 16;
  const k3b = (PI_SQUARED * (135 * zfour - 96 * zsix)) / 4;
  const k3a = -30 * zsix - 90 * z ** 8;

  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const msquared = m ** 2;
    const mfour = m ** 4;
    const msix = m ** 6;
    const qpower = q ** (8 * k);
    const coeffs = [
      1,
      k1a + k1b * msquared,
      k2a + k2b * msquared + k2c * mfour,
      k3a + k3b * msquared + k3c * mfour + k3d * msix,
    ];
    for (let i = 0; i < 4; i++) K[i] = (K[i] as number) * qpower + (coeffs[i] as number);
  }
  const divisors = [z, 6 * zfour, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = ((K[i] as number) * q * SQRT_2PI) / (divisors[i] as number);

  q = Math.exp(-PI_SQUARED / 2 / zsquared);
  const sqrt3z = SQRT3 * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k > 0; k--) {
    const ksquared = k ** 2;
    const kspi = Math.PI * k;
    const qpwer = q ** ksquared;
    k2extra += ksquared * qpwer;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpwer;
  }
  K[2] = (K[2] as number) + k2extra * ((PI_SQUARED * SQRT_2PI) / (-36 * zthree));
  K[3] = (K[3] as number) + k3extra * ((PI_SQUARED * SQRT_2PI) / (216 * zsix));
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += (K[i] as number) / n ** (i / 2);
  return sum;
}

/** a·b as an unevaluated sum hi + lo, exactly (Dekker's product with Veltkamp splitting). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const split = 134217729; // 2^27 + 1
  const ca = split * a;
  const ah = ca - (ca - a);
  const al = a - ah;
  const cb = split * b;
  const bh = cb - (cb - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

/**
 * One-sided Smirnov tail Pr(D_n+ ≥ x) = scipy.special.smirnov(n, x).
 *
 * xsf (`include/xsf/cephes/kolmogorov.h`, `_smirnov`) sums the Birnbaum–Tingey series in
 * double-double arithmetic. Here each term is formed in log space from an exactly split n·x and
 * a binomial coefficient kept as mantissa·2^exponent, and the terms are added with compensated
 * summation: about 1e-10 relative accuracy for n up to 10^6, well inside the 1e-6 we promise.
 * Only the lower (all-positive) sum is used: it is valid for every x, and xsf's alternating upper
 * sum is reserved for x ≤ 0.5/√n, which kstwo.sf never passes here (it calls smirnov only for
 * n·x² ≥ 2.2 or x ≥ 0.5).
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1) || !Number.isInteger(n)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;

  // floor(n·x) and its fractional part, exactly (xsf `modNX`).
  const [nxHi, nxLo] = twoProduct(n, x);
  let nxfl = Math.floor(nxHi);
  let alpha = nxHi - nxfl + nxLo;
  if (alpha < 0) {
    nxfl -= 1;
    alpha += 1;
  }
  if (alpha >= 1) {
    nxfl += 1;
    alpha -= 1;
  }
  // The last term is v = floor(n(1-x)); when n·x is an integer that term has a zero factor, so
  // either way the sum stops at n - floor(n·x) - 1.
  const lastV = n - nxfl - 1;

  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    // x ≤ 1/n: cdf = x·(1+x)^(n-1).
    return 1 - x * Math.exp((n - 1) * Math.log1p(x));
  }
  if (-2 * n * x * x < XSF_MIN_LOG) return 0;
  if (nxfl >= n - 1) return Math.exp(n * Math.log1p(-x));
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return clip01(logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp));
  }

  // sf = x · Σ_{v=0}^{floor(n(1-x))} C(n,v) (x+v/n)^(v-1) (1-x-v/n)^(n-v)
  const nTerms = lastV + 1;
  const vmid = Math.floor(n / 2);
  let sum = Math.exp(n * Math.log1p(-x)) / x;
  let compensation = 0;
  let cMantissa = 1;
  let cExponent = 0;
  const logN = Math.log(n);
  for (let v = 1; v < nTerms; v++) {
    // C(n, v) = C(n, v-1)·(n-v+1)/v, renormalised so the mantissa never overflows.
    cMantissa *= (n - v + 1) / v;
    if (cMantissa > 2 ** 500) {
      cMantissa *= 2 ** -500;
      cExponent += 500;
    } else if (cMantissa < 2 ** -500) {
      cMantissa *= 2 ** 500;
      cExponent -= 500;
    }
    const t1 = nxfl + v + alpha; // n·(x + v/n)
    const t2 = n - nxfl - v - alpha; // n·(1 - x - v/n)
    const logTerm =
      Math.log(cMantissa) +
      cExponent * Math.LN2 +
      (v - 1) * (Math.log(t1) - logN) +
      (n - v) * (Math.log(t2) - logN);
    const term = Math.exp(logTerm);
    if (Number.isFinite(term) && term !== 0) {
      const next = sum + term;
      compensation += Math.abs(sum) >= Math.abs(term) ? sum - next + term : term - next + sum;
      sum = next;
    }
    if (term !== 0) {
      if (4 * (nTerms - v) * Math.abs(term) < Number.EPSILON * (sum + compensation) && v !== nTerms - 1)
        break;
    } else if (v > vmid) {
      break;
    }
  }
  return clip01(x * (sum + compensation));
}

/** scipy `_kolmogn(n, x, cdf=False)`: Pr(D_n ≥ x). */
function kolmogorovSf(n: number, x: number): number {
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    // Ruben–Gambino: exact for 1/(2n) ≤ x ≤ 1/n.
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    }
    return clip01(1 - prob);
  }
  if (t >= n - 1) return clip01(2 * (1 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));

  const nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) return clip01(1 - durbinMatrixCdf(n, x));
    if (nxsquared <= 4) return clip01(1 - pomeranzCdf(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nxsquared >= 370) return 0;
  if (nxsquared >= 2.2) return clip01(2 * smirnovSf(n, x));
  let cdf: number;
  if (nxsquared >= 18) cdf = 1;
  else if (n <= 100_000 && n * x ** 1.5 <= 1.4) cdf = durbinMatrixCdf(n, x);
  else cdf = pelzGoodCdf(n, x);
  return clip01(1 - cdf);
}

/**
 * `scipy.stats.kstwo.sf(x, n)`: the probability that the two-sided KS statistic of a sample of
 * size n is at least x. Outside the support (0.5/n, 1) it is 1 below and 0 above, as
 * `rv_continuous.sf` makes it.
 */
export function kstwoSf(x: number, n: number): number {
  if (!(n >= 1) || !Number.isInteger(n) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0.5 / n) return 1;
  if (x >= 1) return 0;
  return kolmogorovSf(n, x);
}

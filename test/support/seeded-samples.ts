/** Seeded samples for the drift tests, so every run compares the same numbers. */
import { SeededRandom } from '../../lambdas/core/seeded-random';

/** `n` draws from a normal distribution with the given mean and standard deviation. */
export function normalSample(n: number, mean: number, seed: number, sd = 1): Float64Array {
  const random = new SeededRandom(seed);
  return Float64Array.from({ length: n }, () => mean + sd * random.normal());
}

/**
 * `n` category codes drawn with the given (unnormalised) weights; with `missingEvery` = k, every
 * k-th row (from the first) is missing (-1) and takes no draw.
 */
export function categoryCodes(
  n: number,
  weights: readonly number[],
  seed: number,
  missingEvery = 0,
): Int32Array {
  const random = new SeededRandom(seed);
  const total = weights.reduce((a, b) => a + b, 0);
  return Int32Array.from({ length: n }, (_, i) => {
    if (missingEvery && i % missingEvery === 0) return -1;
    let u = random.next() * total;
    for (let k = 0; k < weights.length; k++) {
      u -= weights[k] as number;
      if (u < 0) return k;
    }
    return weights.length - 1;
  });
}

/**
 * The project's one seeded pseudo-random generator, so that a data split, a training run, a test
 * or a benchmark is reproducible from its seed on every machine and Node version.
 *
 * Why our own: `Math.random` cannot be seeded, and the sampling the splits and trainers need
 * (shuffles, bootstrap draws, feature subsets) is a few lines on top of a 32-bit generator, not
 * worth a dependency. mulberry32 (Tommy Ettinger, public domain; https://gist.github.com/tommyettinger/
 * 46a874533244883189143505d203312c) is fast in JavaScript thanks to `Math.imul`, passes
 * PractRand up to gigabytes of output and has a 2^32 period: ample for bootstrap and feature
 * sampling, not for cryptography.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float uniformly drawn from [0, 1), with 32 random bits. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer uniformly drawn from 0..n-1 (bias below 2^-32 · n, negligible for data sizes). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A standard normal draw (Box–Muller; the second value of the pair is discarded for simplicity). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]: log(0) would be -Infinity
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles in place (Fisher–Yates) and returns the same array. */
  shuffle<T extends { length: number; [index: number]: number }>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const swap = values[i] as number;
      values[i] = values[j] as number;
      values[j] = swap;
    }
    return values;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return this.shuffle(order);
  }
}

/**
 * The generator as a plain function returning the next draw in [0, 1), for code that takes any
 * source of uniform numbers. The same seed gives the same sequence as `new SeededRandom(seed)`.
 */
export function seededUniform(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

/**
 * A seed for an independent stream (tree t of a forest, the binning subsample, …), mixed from
 * the run's seed and the stream's numbers with MurmurHash3's 32-bit finaliser, so nearby
 * streams do not yield correlated sequences and each stream does not depend on the order the
 * others are drawn in.
 */
export function deriveSeed(seed: number, ...stream: number[]): number {
  let h = seed >>> 0;
  for (const part of stream) {
    h = Math.imul(h ^ (part >>> 0), 0x9e3779b1);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

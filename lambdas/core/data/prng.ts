/**
 * A seeded pseudo-random generator for splits and shuffles. `Math.random` cannot be seeded, and
 * a split must come out the same for the same seed on every machine and Node version.
 *
 * mulberry32 (Tommy Ettinger, public domain): 32 bits of state, one multiply chain per draw,
 * passes gjrand/PractRand well past the sizes we shuffle. Written here because it is eight lines
 * and no maintained package is smaller than the dependency it would add.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates, in place, with the given generator of numbers in [0, 1). */
export function shuffleInPlace(items: Int32Array | number[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = items[i] as number;
    items[i] = items[j] as number;
    items[j] = swap;
  }
}

import { describe, expect, it } from 'vitest';
import { deriveSeed, SeededRandom, seededUniform } from '../../lambdas/core/seeded-random';

describe('SeededRandom', () => {
  it('repeats its sequence for the same seed and differs for another', () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 5 }, () => random.next());
    };
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const first = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
    expect(draw(43)).not.toEqual(first);
    // Pinned: a change of generator changes every data split, forest and benchmark input.
    expect(first[0]).toBeCloseTo(0.6011037519, 9);
  });

  it('is the same sequence as a plain function (seededUniform)', () => {
    const random = new SeededRandom(42);

    const draws = Array.from({ length: 5 }, seededUniform(42));

    expect(draws).toEqual(Array.from({ length: 5 }, () => random.next()));
  });

  it('draws uniform floats in [0, 1) and integers in 0..n-1 without bias', () => {
    const random = new SeededRandom(7);
    const counts = new Array<number>(10).fill(0);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = random.next();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      const k = random.int(10);
      counts[k] = (counts[k] as number) + 1;
    }
    expect(outside).toBe(0);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
    // Each of 10 values: 10 000 expected, σ ≈ 95; 5σ bounds.
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(475);
  });

  it('draws standard normals (mean 0, variance 1)', () => {
    const random = new SeededRandom(3);
    const draws = Array.from({ length: 50_000 }, () => random.normal());
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  it('shuffles into a permutation', () => {
    const order = new SeededRandom(1).permutation(100);
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(order)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('derives distinct seeds for distinct streams of one seed', () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, t) => deriveSeed(42, 1, t)));
    expect(seeds.size).toBe(1000);
    expect(deriveSeed(42, 1, 0)).toBe(deriveSeed(42, 1, 0));
    expect(deriveSeed(42, 1, 0)).not.toBe(deriveSeed(43, 1, 0));
  });
});

import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';

describe('Rng (xoshiro128**)', () => {
  it('is deterministic by seed and differs between seeds', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xs);
    for (const x of xs) expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true);
  });
  it('is uniform enough: mean, variance and a 10-bin histogram', () => {
    const r = new Rng(123);
    const n = 200_000;
    const bins = new Array(10).fill(0);
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const v = r.next();
      expect(v >= 0 && v < 1).toBe(true);
      sum += v;
      sq += v * v;
      bins[Math.floor(v * 10)]++;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sq / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2);
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(5 * Math.sqrt(n / 10));
  });
  it('shuffles to a permutation', () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    new Rng(1).shuffle(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

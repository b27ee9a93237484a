import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gaussAt, hashSeed, mulberry32, smoothNoise, uniformAt } from './prng.ts';

describe('prng', () => {
  it('draws uniforms in [0, 1) for any seed and key', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer(), (seed, key) => {
        const u = uniformAt(seed, key);
        return u >= 0 && u < 1;
      }),
    );
  });

  it('keeps smooth noise within [-1, 1]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 4e12 }), (seed, t) => {
        const n = smoothNoise(seed, t, 3_600_000);
        return n >= -1 && n <= 1;
      }),
    );
  });

  it('gives the same draws for the same seed and different ones for another', () => {
    const a = Array.from({ length: 50 }, (_, i) => uniformAt(hashSeed('x'), i));
    const b = Array.from({ length: 50 }, (_, i) => uniformAt(hashSeed('x'), i));
    const c = Array.from({ length: 50 }, (_, i) => uniformAt(hashSeed('y'), i));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const g = mulberry32(7);
    const h = mulberry32(7);
    expect([g(), g(), g()]).toEqual([h(), h(), h()]);
  });

  it('draws roughly uniform and roughly normal numbers', () => {
    const n = 20_000;
    const us = Array.from({ length: n }, (_, i) => uniformAt(42, i));
    const gs = Array.from({ length: n }, (_, i) => gaussAt(42, i));
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(us)).toBeCloseTo(0.5, 1);
    expect(mean(gs)).toBeCloseTo(0, 1);
    const sd = Math.sqrt(mean(gs.map((x) => x * x)));
    expect(sd).toBeGreaterThan(0.95);
    expect(sd).toBeLessThan(1.05);
  });
});

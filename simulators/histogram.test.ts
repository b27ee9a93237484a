import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLatencyHistogram } from './histogram.ts';

describe('latency histogram', () => {
  it('reports NaN quantiles when empty', () => {
    const s = createLatencyHistogram().summary();
    expect(s.count).toBe(0);
    expect(s.p50).toBeNaN();
  });

  it('reports quantiles within 1 % of the exact ones', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 10_000, noNaN: true }), { minLength: 1, maxLength: 500 }),
        (xs) => {
          const h = createLatencyHistogram();
          for (const x of xs) h.record(x);
          const sorted = [...xs].sort((a, b) => a - b);
          for (const q of [0.5, 0.99]) {
            const exact = sorted[Math.max(0, Math.ceil(q * xs.length) - 1)] ?? 0;
            const got = h.quantile(q);
            expect(got).toBeGreaterThanOrEqual(exact * 0.999);
            expect(got).toBeLessThanOrEqual(exact * 1.011);
          }
          expect(h.summary().max).toBe(sorted.at(-1));
        },
      ),
    );
  });
});

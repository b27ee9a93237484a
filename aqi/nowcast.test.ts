// The NowCast both indices share: the validity rule, missing hours, the weight floor, and the property
// that a weighted mean stays between the smallest and largest hour it averages.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidHour, nowCastDetail, type HourValue } from './nowcast.ts';

const hour = fc.option(fc.double({ min: 0, max: 1000, noNaN: true }), { nil: undefined });
const hours = fc.array(hour, { minLength: 0, maxLength: 14 });

describe('nowCastDetail', () => {
  it('needs at least 2 of the 3 latest hours', () => {
    expect(nowCastDetail([10, undefined, undefined, 10, 10])).toBeUndefined();
    expect(nowCastDetail([undefined, 10, undefined, 10])).toBeUndefined();
    expect(nowCastDetail([10])).toBeUndefined();
    expect(nowCastDetail([])).toBeUndefined();
    expect(nowCastDetail([undefined, 10, 12])?.value).toBeDefined();
    expect(nowCastDetail([10, null, 12])?.value).toBeDefined();
  });

  it('gives a missing hour no weight', () => {
    // w* = 10/20 → w = ½; c1 = 10 (weight 1), c2 missing, c3 = 20 (weight ¼): (10 + 5) / 1.25 = 12.
    const detail = nowCastDetail([10, undefined, 20]);
    expect(detail?.weight).toBe(0.5);
    expect(detail?.value).toBeCloseTo(12, 12);
  });

  it('floors the weight at ½ and otherwise uses min/max', () => {
    expect(nowCastDetail([1, 100, 100])?.weight).toBe(0.5);
    expect(nowCastDetail([30, 40, 40])?.weight).toBeCloseTo(0.75, 12);
  });

  it('reads only the 12 latest hours', () => {
    const twelve = Array.from({ length: 12 }, () => 10);
    expect(nowCastDetail([...twelve, 1000])?.value).toBe(10);
    expect(nowCastDetail([...twelve, 1000])?.weight).toBe(1);
  });

  it('treats negative and non-finite hours as missing', () => {
    expect([-1, NaN, Infinity, null, undefined].some((v) => isValidHour(v))).toBe(false);
    expect(nowCastDetail([-5, NaN, 10])).toBeUndefined();
  });

  it('is 0 when every valid hour is 0', () => {
    expect(nowCastDetail([0, 0, undefined, 0])?.value).toBe(0);
  });

  it('lies between the smallest and the largest valid hour (property)', () => {
    fc.assert(
      fc.property(hours, (hs: HourValue[]) => {
        const detail = nowCastDetail(hs);
        const valid = hs.slice(0, 12).filter(isValidHour);
        const recent = hs.slice(0, 3).filter(isValidHour).length;
        if (recent < 2) return detail === undefined;
        if (detail === undefined) return false;
        return (
          detail.value >= Math.min(...valid) &&
          detail.value <= Math.max(...valid) &&
          detail.weight >= 0.5 &&
          detail.weight <= 1
        );
      }),
    );
  });

  it('equals the constant when every hour is the same (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1000, noNaN: true }), fc.integer({ min: 2, max: 12 }), (c, n) => {
        expect(nowCastDetail(Array.from({ length: n }, () => c))?.value).toBeCloseTo(c, 9);
      }),
    );
  });
});

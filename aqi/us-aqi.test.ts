// The US EPA AQI (2024 breakpoints): every band edge, truncation, the cap, the EPA NowCast test vector,
// and properties over the whole concentration range.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  US_BREAKPOINTS,
  US_CATEGORIES,
  US_POLLUTANTS,
  usAqi,
  usCategory,
  usHourlyAqi,
  usNowCast,
  usSubIndex,
  usTruncate,
} from './us-aqi.ts';
import { ppbToUgm3 } from './units.ts';

// docs/domain.md: the EPA's NowCast test vector, oldest first, the 11th hour missing → 28.4098.
const EPA_VECTOR_OLDEST_FIRST = [34.9, 43, 50, 64.9, 69.2, 66.2, 53.7, 48.6, 49.2, 35, undefined, 21];
const epaVector = [...EPA_VECTOR_OLDEST_FIRST].reverse(); // newest first, as usNowCast reads

describe('usNowCast', () => {
  it('reproduces the EPA test vector: 28.4098', () => {
    expect(usNowCast(epaVector)).toBeCloseTo(28.4098, 4);
  });

  it('is invalid without 2 of the 3 latest hours', () => {
    expect(usNowCast([21, undefined, undefined, 49.2])).toBeUndefined();
    expect(usNowCast([undefined, undefined, 35])).toBeUndefined();
    // The vector itself: 21 and 35 present, the hour between missing — valid.
    expect(usNowCast(epaVector)).toBeDefined();
  });

  it('gives the vector an AQI of 87 (truncated to 28.4, moderate)', () => {
    const r = usAqi({ pm25: usNowCast(epaVector) });
    expect(r?.aqi).toBe(87);
    expect(r?.category.key).toBe('moderate');
  });
});

describe('US AQI breakpoints', () => {
  it('gives every band its ends, and the next step the next band', () => {
    for (const p of US_POLLUTANTS) {
      const { bands, step } = US_BREAKPOINTS[p];
      bands.forEach((band, i) => {
        expect(usSubIndex(p, band.cLo), `${p} ${band.cLo}`).toBeCloseTo(band.iLo, 9);
        expect(usSubIndex(p, band.cHi), `${p} ${band.cHi}`).toBeCloseTo(band.iHi, 9);
        const next = bands[i + 1];
        if (next === undefined) return;
        expect(next.cLo).toBeCloseTo(band.cHi + step, 9);
        expect(next.iLo).toBe(band.iHi + 1);
        expect(usSubIndex(p, band.cHi + step), `${p} ${band.cHi} + step`).toBeCloseTo(next.iLo, 9);
        // Just under the next band truncates back into this one.
        expect(usSubIndex(p, band.cHi + step * 0.99), `${p} under ${next.cLo}`).toBeCloseTo(band.iHi, 9);
      });
    }
  });

  it('holds the 2024 PM2.5 bands', () => {
    expect(US_BREAKPOINTS.pm25.bands.map((b) => [b.cLo, b.cHi, b.iLo, b.iHi])).toEqual([
      [0, 9.0, 0, 50],
      [9.1, 35.4, 51, 100],
      [35.5, 55.4, 101, 150],
      [55.5, 125.4, 151, 200],
      [125.5, 225.4, 201, 300],
      [225.5, 325.4, 301, 500],
    ]);
  });

  it('truncates before the lookup', () => {
    expect(usTruncate('pm25', 9.09)).toBe(9.0);
    expect(usTruncate('pm10', 54.9)).toBe(54);
    expect(usTruncate('o3', 0.0549)).toBe(0.054);
    expect(usTruncate('o3', 0.029)).toBe(0.029); // 0.029 × 1000 is 28.999…96 in floating point
    expect(usTruncate('no2', 53.9)).toBe(53);
    expect(usSubIndex('pm25', 9.09)).toBe(50);
    expect(usSubIndex('pm10', 54.9)).toBe(50);
  });

  it('caps PM and NO₂ at 500 above the table, and gives no O₃ 8h index above 0.200 ppm', () => {
    expect(usSubIndex('pm25', 325.4)).toBeCloseTo(500, 9);
    expect(usSubIndex('pm25', 900)).toBe(500);
    expect(usSubIndex('pm10', 2000)).toBe(500);
    expect(usSubIndex('no2', 2050)).toBe(500);
    expect(usSubIndex('o3', 0.2)).toBeCloseTo(300, 9);
    expect(usSubIndex('o3', 0.201)).toBeUndefined();
    expect(usAqi({ o3Ppm: 0.3 })).toBeUndefined();
  });

  it('is monotone non-decreasing in concentration (property)', () => {
    const max = { pm25: 400, pm10: 700, o3: 0.2, no2: 2200 } as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...US_POLLUTANTS),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (p, x, y) => {
          const [lo, hi] = (x <= y ? [x, y] : [y, x]).map((f) => f * max[p]) as [number, number];
          const a = usSubIndex(p, lo);
          const b = usSubIndex(p, hi);
          return a !== undefined && b !== undefined && a <= b && a >= 0 && b <= 500;
        },
      ),
    );
  });
});

describe('usAqi', () => {
  it('equals the largest sub-index, rounded (property)', () => {
    const c = (max: number) => fc.option(fc.double({ min: 0, max, noNaN: true }), { nil: undefined });
    const input = fc.record({ pm25: c(400), pm10: c(700), o3Ppm: c(0.2), no2Ppb: c(2200) });
    fc.assert(
      fc.property(input, (i) => {
        const r = usAqi(i);
        const present = Object.values(i).some((v) => v !== undefined);
        if (!present) return r === undefined;
        if (r === undefined) return false;
        const max = Math.max(...Object.values(r.subIndices));
        return (
          r.aqi === Math.round(max) && r.subIndices[r.dominant] === max && r.category === usCategory(r.aqi)
        );
      }),
    );
  });

  it('converts O₃ and NO₂ from µg/m³ in usHourlyAqi', () => {
    // 0.070 ppm of O₃ (the top of "moderate") and 100 ppb of NO₂ (likewise), expressed in µg/m³.
    const r = usHourlyAqi({
      pm25Hours: [5, 5],
      o3Mean8h: ppbToUgm3('o3', 70.0001),
      no2: ppbToUgm3('no2', 100.0001),
    });
    expect(r?.subIndices.o3).toBeCloseTo(100, 9);
    expect(r?.subIndices.no2).toBeCloseTo(100, 9);
    expect(r?.aqi).toBe(100);
    expect(r?.dominant).toBe('o3');
    expect(r?.nowCast).toEqual({ pm25: 5 });
  });
});

describe('US AQI categories', () => {
  it("has the EPA's bands, names and colours", () => {
    expect(US_CATEGORIES.map((c) => [c.min, c.max, c.name.en, c.hex])).toEqual([
      [0, 50, 'Good', '#00E400'],
      [51, 100, 'Moderate', '#FFFF00'],
      [101, 150, 'Unhealthy for Sensitive Groups', '#FF7E00'],
      [151, 200, 'Unhealthy', '#FF0000'],
      [201, 300, 'Very Unhealthy', '#8F3F97'],
      [301, 500, 'Hazardous', '#7E0023'],
    ]);
    for (const c of US_CATEGORIES) {
      expect(usCategory(c.min)).toBe(c);
      expect(usCategory(c.max)).toBe(c);
    }
  });
});

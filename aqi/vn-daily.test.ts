// The daily VN_AQI (Decision 1459/QĐ-TCMT §2.2.2): the Decision's worked examples for the daily index and
// for the day's highest 8-hour O₃ mean, the O₃ rule, and the completeness options.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eightHourMeans, vnDailyAqi, vnDailyInputs } from './vn-daily.ts';
import { vnSubIndex } from './vn-aqi.ts';

// The Decision's 8-hour example (§2.2.2.a): O₃ hourly means from 18:00 of the day before to 00:00 at the
// end of the day, and the 8-hour means it prints for the hours 01:00 … 00:00. These numbers are not in
// docs/domain.md; they are from the Decision's own table, as published by the Vietnam Environment
// Administration.
const O3_PREVIOUS = [15.7, 14.2, 17.7, 18.9, 19.3, 15.7, 19.7]; // 18:00 … 00:00
const O3_DAY = [
  22.6, 27.1, 29.0, 31.9, 25.3, 34.7, 35.2, 41.6, 45.7, 49.2, 55.8, 69.6, 78.3, 91.5, 97.7, 81.2, 71.8, 43.5,
  34.3, 21.5, 20.5, 19.4, 20.4, 21.3,
]; // 01:00 … 00:00
const O3_8H_PRINTED = [
  18.0, 19.4, 21.2, 23.0, 23.8, 25.8, 28.2, 30.9, 33.8, 36.6, 39.9, 44.7, 51.3, 58.4, 66.2, 71.1, 74.4, 73.7,
  71.0, 65.0, 57.8, 48.7, 39.1, 31.6,
];

describe('vnDailyAqi', () => {
  it("the Decision's daily example: O₃ 8h 45, O₃ 1h 36, NO₂ 65, PM2.5 110 → AQI 110", () => {
    expect(vnSubIndex('o3_8h', 89.3)?.toFixed(0)).toBe('45');
    expect(vnSubIndex('o3_1h', 114.6)?.toFixed(0)).toBe('36');
    expect(vnSubIndex('no2', 130.8)?.toFixed(0)).toBe('65');
    expect(Math.round(vnSubIndex('pm25', 55.7) ?? NaN)).toBe(110);
    const r = vnDailyAqi({ o3Max8h: 89.3, o3Max1h: 114.6, no2Max1h: 130.8, pm25Mean24h: 55.7 });
    expect(r?.aqi).toBe(110);
    expect(r?.dominant).toBe('pm25');
    expect(r?.subIndices.o3).toBeCloseTo(44.65, 9); // the larger of the two O₃ sub-indices
    expect(r?.category.key).toBe('poor');
  });

  it('takes the larger O₃ sub-index, and only the 1h one when the 8h mean is above 400 µg/m³', () => {
    expect(vnDailyAqi({ pm10Mean24h: 0, o3Max1h: 300, o3Max8h: 150 })?.subIndices.o3).toBeCloseTo(150, 9);
    expect(vnDailyAqi({ pm10Mean24h: 0, o3Max1h: 200, o3Max8h: 190 })?.subIndices.o3).toBeCloseTo(175, 9);
    expect(vnDailyAqi({ pm10Mean24h: 0, o3Max1h: 900, o3Max8h: 500 })?.subIndices.o3).toBeCloseTo(350, 9);
    expect(vnDailyAqi({ pm10Mean24h: 0, o3Max8h: 500 })?.subIndices.o3).toBeUndefined();
  });

  it('needs a PM mean', () => {
    expect(vnDailyAqi({ o3Max1h: 100, no2Max1h: 100 })).toBeUndefined();
  });

  it('equals the largest sub-index, rounded (property)', () => {
    const c = (max: number) => fc.option(fc.double({ min: 0, max, noNaN: true }), { nil: undefined });
    const input = fc.record({
      pm25Mean24h: fc.double({ min: 0, max: 600, noNaN: true }),
      pm10Mean24h: c(700),
      o3Max1h: c(1500),
      o3Max8h: c(600),
      no2Max1h: c(5000),
      so2Max1h: c(3000),
      coMax1h: c(200_000),
    });
    fc.assert(
      fc.property(input, (i) => {
        const r = vnDailyAqi(i);
        if (r === undefined) return false;
        const max = Math.max(...Object.values(r.subIndices));
        return r.aqi === Math.round(max) && r.subIndices[r.dominant] === max;
      }),
    );
  });
});

describe('eightHourMeans and vnDailyInputs', () => {
  it("reproduce the Decision's 8-hour O₃ table and its maximum, 74.4", () => {
    const means = eightHourMeans(O3_DAY, O3_PREVIOUS);
    expect(means).toHaveLength(24);
    means.forEach((m, i) => {
      const printed = O3_8H_PRINTED[i] ?? NaN;
      if (i === 11) {
        // 12:00: the Decision prints 44.7; the mean of its eight hours (05:00–12:00) is 357.1 / 8 = 44.6375.
        expect(m).toBeCloseTo(357.1 / 8, 9);
        return;
      }
      // The printed table is rounded to 0.1 (21.25 printed as 21.2, 25.75 as 25.8): within half a step.
      expect(Math.abs((m ?? NaN) - printed), `hour ${i + 1}`).toBeLessThanOrEqual(0.05 + 1e-9);
    });
    expect(vnDailyInputs({ o3: O3_DAY, o3Previous: O3_PREVIOUS }).o3Max8h?.toFixed(1)).toBe('74.4');
  });

  it('give no 8-hour mean where the window lacks hours, unless allowed', () => {
    expect(eightHourMeans(O3_DAY)[0]).toBeUndefined();
    expect(eightHourMeans(O3_DAY)[7]).toBeCloseTo(O3_DAY.slice(0, 8).reduce((a, b) => a + b) / 8, 9);
    expect(eightHourMeans(O3_DAY, [], 1)[0]).toBe(22.6);
  });

  it('compute the 24-hour mean and the maxima from a whole day', () => {
    const day = Array.from({ length: 24 }, (_, i) => i);
    const inputs = vnDailyInputs({ pm25: day, pm10: day, no2: day, so2: day, co: day, o3: day });
    expect(inputs.pm25Mean24h).toBeCloseTo(11.5, 12);
    expect(inputs.pm10Mean24h).toBeCloseTo(11.5, 12);
    expect(inputs.no2Max1h).toBe(23);
    expect(inputs.so2Max1h).toBe(23);
    expect(inputs.coMax1h).toBe(23);
    expect(inputs.o3Max1h).toBe(23);
    expect(inputs.o3Max8h).toBeCloseTo(19.5, 12); // 16 … 23
  });

  it('ask for the whole day by default; minHoursPerDay lowers that', () => {
    const day = [...Array.from({ length: 23 }, () => 40), undefined];
    expect(vnDailyInputs({ pm25: day }).pm25Mean24h).toBeUndefined();
    expect(vnDailyInputs({ pm25: day }, { minHoursPerDay: 18 }).pm25Mean24h).toBe(40);
    expect(vnDailyAqi(vnDailyInputs({ pm25: day }, { minHoursPerDay: 18 }))?.aqi).toBe(80); // 50 + 15·50/25
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createFloodModel,
  FLOOD_RATES,
  FLOOD_SCENARIO_MS,
  hydrograph,
  RAIN_TIP_MM,
  riverProfile,
  type FloodGaugeMeta,
} from './flood.ts';
import { instants, num, outOfRange, runSeries } from '../../test/kits/sim-models.ts';
import { DAY_MS, HOUR_MS } from './time.ts';

const T0 = Date.UTC(2025, 9, 26, 17); // midnight local time, 27 October 2025
const KIM_LONG: FloodGaugeMeta = { type: 'river', alarm_levels_m: [1, 2, 3.5] };
const PHU_OC_RADAR: FloodGaugeMeta = { type: 'river', alarm_levels_m: [1.5, 3, 4.5], datum_m: 9 };

function model(meta: FloodGaugeMeta, scenario: 'normal' | 'flood' = 'flood', seed = 5) {
  return createFloodModel({ seed, deviceId: `gauge-${meta.type}`, scenario, meta });
}

/** Ten-minute reports over the whole scenario plus a day, scenario time sped up 60 times. */
const SERIES = instants(T0, 10_000, Math.ceil((FLOOD_SCENARIO_MS + DAY_MS) / 600_000), 60);

describe('flood model', () => {
  it('drives Kim Long past alarm 3 and back below alarm 1 in the flood scenario', () => {
    const levels = runSeries(model(KIM_LONG), SERIES).map((r) => num(r, 'water_level_m'));
    const peakAt = levels.indexOf(Math.max(...levels));
    expect(levels[peakAt]).toBeGreaterThan(3.5);
    expect(levels.slice(peakAt).some((l) => l < 1)).toBe(true);
    expect(levels.at(-1)).toBeLessThan(1);
  });

  it('rises and falls no faster than the rates seen in real floods', () => {
    const p = riverProfile([1, 2, 3.5]);
    for (let h = 0; h < 60; h += 0.25) {
      const rate = (hydrograph(p, h + 0.25) - hydrograph(p, h)) / 0.25;
      expect(rate).toBeLessThanOrEqual(FLOOD_RATES.fastRiseMph + 1e-9);
      expect(rate).toBeGreaterThanOrEqual(-FLOOD_RATES.fallMph - 1e-9);
    }
  });

  it('reports a radar gauge as distance = datum − level, passing its own alarm 3', () => {
    const distances = runSeries(model(PHU_OC_RADAR), SERIES).map((r) => num(r, 'distance_m'));
    expect(9 - Math.min(...distances)).toBeGreaterThan(4.5);
    expect(9 - (distances.at(-1) ?? 0)).toBeLessThan(1.5);
  });

  it('keeps the river near its normal level without a flood', () => {
    const levels = runSeries(model(KIM_LONG, 'normal'), SERIES).map((r) => num(r, 'water_level_m'));
    expect(Math.max(...levels)).toBeLessThan(1);
  });

  it('reports rain in whole 0.2 mm tips and loses none of it', () => {
    const reports = runSeries(model({ type: 'rain' }), SERIES).map((r) => num(r, 'rain_mm'));
    for (const mm of reports)
      expect(Math.abs(mm / RAIN_TIP_MM - Math.round(mm / RAIN_TIP_MM))).toBeLessThan(1e-6);
    const total = reports.reduce((s, x) => s + x, 0);
    // The scenario's 229 mm, caught at 0.8–1.2 times by this gauge, plus a little everyday rain.
    expect(total).toBeGreaterThan(0.8 * 229);
    expect(total).toBeLessThan(1.2 * 229 + 40);
  });

  it('keeps streets dry without heavy rain and floods them by centimetres in the storm', () => {
    const dry = runSeries(model({ type: 'street' }, 'normal'), SERIES).map((r) => num(r, 'water_level_m'));
    expect(dry.every((d) => d === 0)).toBe(true);
    const wet = runSeries(model({ type: 'street' }), SERIES).map((r) => num(r, 'water_level_m'));
    expect(Math.max(...wet)).toBeGreaterThan(0.1);
    expect(Math.max(...wet)).toBeLessThan(1.5);
    expect(wet.at(-1)).toBe(0);
  });

  it('gives the same series for the same seed', () => {
    const a = runSeries(model(KIM_LONG), SERIES.slice(0, 500));
    expect(runSeries(model(KIM_LONG), SERIES.slice(0, 500))).toEqual(a);
    expect(runSeries(model(KIM_LONG, 'flood', 6), SERIES.slice(0, 500))).not.toEqual(a);
  });

  it('stays within the field ranges for any gauge, scenario and reporting interval', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<FloodGaugeMeta>(KIM_LONG, PHU_OC_RADAR, { type: 'street' }, { type: 'rain' }),
        fc.constantFrom('normal' as const, 'flood' as const),
        fc.integer({ min: 10_000, max: 2 * HOUR_MS }),
        fc.integer({ min: 1, max: 600 }),
        (meta, scenario, stepMs, speedup) => {
          const series = runSeries(model(meta, scenario), instants(T0, stepMs, 60, speedup));
          for (const r of series) expect(outOfRange('flood', r)).toEqual([]);
        },
      ),
      { numRuns: 50 },
    );
  });
});

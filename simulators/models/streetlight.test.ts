import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  activeFault,
  createStreetlightModel,
  isSunDown,
  newLampControl,
  schedule,
  type StreetlightOptions,
} from './streetlight.ts';
import { instants, num, outOfRange, runSeries } from '../../test/kits/sim-models.ts';
import { DAY_MS, HOUR_MS } from './time.ts';

const HUE = { lat: 16.46, lon: 107.59 };
/** Local time (UTC+7) as epoch ms. */
const local = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h - 7, mi);
const opts: StreetlightOptions = {
  seed: 9,
  deviceId: 'sl-le-loi-01',
  location: HUE,
  meta: { rated_w: 150, tolerance_pct: 10 },
  faultsPerDay: 0,
};
const lamp = (o: StreetlightOptions = opts) => createStreetlightModel(o);

describe('streetlight model', () => {
  it('is off at noon and on at midnight in Huế', () => {
    expect(schedule(opts, local(2025, 6, 21, 12)).on).toBe(false);
    expect(schedule(opts, local(2025, 6, 21, 0)).on).toBe(true);
    expect(schedule(opts, local(2025, 12, 21, 12)).on).toBe(false);
    expect(schedule(opts, local(2025, 12, 21, 0)).on).toBe(true);
  });

  it('switches at the computed sunset and sunrise (June about 18:22 and 05:17)', () => {
    expect(isSunDown(local(2025, 6, 21, 18, 10), HUE.lat, HUE.lon)).toBe(false);
    expect(isSunDown(local(2025, 6, 21, 18, 35), HUE.lat, HUE.lon)).toBe(true);
    expect(isSunDown(local(2025, 6, 21, 5, 5), HUE.lat, HUE.lon)).toBe(true);
    expect(isSunDown(local(2025, 6, 21, 5, 30), HUE.lat, HUE.lon)).toBe(false);
    // December: sunset about 17:20.
    expect(isSunDown(local(2025, 12, 21, 17, 10), HUE.lat, HUE.lon)).toBe(false);
    expect(isSunDown(local(2025, 12, 21, 17, 30), HUE.lat, HUE.lon)).toBe(true);
  });

  it('runs at full power until 22:00, then dimmed, drawing about rated × dim', () => {
    const [evening, late] = runSeries(lamp(), [
      { t: local(2025, 12, 10, 20), scenarioMs: 0 },
      { t: local(2025, 12, 10, 23), scenarioMs: 0 },
    ]);
    if (!evening || !late) throw new Error('no readings');
    expect(evening.dim_pct).toBe(100);
    expect(num(evening, 'power_w')).toBeGreaterThan(150 * 0.95);
    expect(late.dim_pct).toBe(50);
    expect(num(late, 'power_w')).toBeCloseTo(75, -1);
  });

  it('reports current = P / (V · pf) with pf 0.9–0.98 and V about 220–230', () => {
    for (const r of runSeries(lamp(), instants(local(2025, 12, 10, 18), 7 * 60_000, 100))) {
      if (r.lamp_on !== true) continue;
      const pf = num(r, 'power_factor');
      expect(pf).toBeGreaterThanOrEqual(0.9);
      expect(pf).toBeLessThanOrEqual(0.98);
      expect(num(r, 'voltage_v')).toBeGreaterThan(215);
      expect(num(r, 'voltage_v')).toBeLessThan(235);
      expect(num(r, 'current_a')).toBeCloseTo(num(r, 'power_w') / (num(r, 'voltage_v') * pf), 2);
    }
  });

  it('counts energy that never decreases and grows by what the lamp drew', () => {
    const series = runSeries(lamp(), instants(local(2025, 12, 10, 0), 5 * 60_000, 288 * 2));
    const energy = series.map((r) => num(r, 'energy_kwh'));
    for (let i = 1; i < energy.length; i++) expect(energy[i]).toBeGreaterThanOrEqual(energy[i - 1] ?? 0);
    const perDay = ((energy.at(-1) ?? 0) - (energy[0] ?? 0)) / 2;
    // About 4–5 h at 150 W and 8 h at 75 W each night: 1.2–1.5 kWh.
    expect(perDay).toBeGreaterThan(1);
    expect(perDay).toBeLessThan(1.8);
  });

  it('shows each fault the way rules detect it', () => {
    const faulty = { ...opts, faultsPerDay: 1 };
    const seen = new Set<string>();
    for (const at of instants(local(2025, 1, 1, 0), HOUR_MS, 24 * 200)) {
      const fault = activeFault(faulty, at.t);
      if (!fault) continue;
      const [r] = runSeries(lamp(faulty), [at]);
      if (!r) continue;
      if (fault === 'lamp_failure' && r.lamp_on === true) {
        expect(num(r, 'power_w')).toBeLessThan(2);
        seen.add(fault);
      }
      if (fault === 'day_burning' && !isSunDown(at.t, HUE.lat, HUE.lon)) {
        expect(r.lamp_on).toBe(true);
        seen.add(fault);
      }
      if (fault === 'power_too_high' && r.lamp_on === true) {
        expect(num(r, 'power_w')).toBeGreaterThan(150 * (Number(r.dim_pct) / 100) * 1.1);
        seen.add(fault);
      }
    }
    expect([...seen].sort()).toEqual(['day_burning', 'lamp_failure', 'power_too_high']);
  });

  it('gives the same series for the same seed', () => {
    const at = instants(local(2025, 3, 1, 0), 10 * 60_000, 300);
    const withFaults = { ...opts, faultsPerDay: 0.3 };
    const a = runSeries(lamp(withFaults), at);
    expect(runSeries(lamp(withFaults), at)).toEqual(a);
    expect(runSeries(lamp({ ...withFaults, seed: 10 }), at)).not.toEqual(a);
  });

  it('stays within the field ranges at any time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2021, 0, 1), max: Date.UTC(2035, 0, 1) }),
        fc.constantFrom(120, 150, 180),
        fc.integer({ min: 0, max: 1000 }),
        (t, rated, seed) => {
          const o = { ...opts, seed, faultsPerDay: 0.2, meta: { rated_w: rated, tolerance_pct: 10 } };
          for (const r of runSeries(lamp(o), instants(t, 20 * 60_000, 5)))
            expect(outOfRange('streetlight', r)).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('has no fault when faults are switched off', () => {
    for (const at of instants(local(2025, 1, 1, 0), 3 * HOUR_MS, (365 * DAY_MS) / (3 * HOUR_MS))) {
      expect(activeFault(opts, at.t)).toBeUndefined();
    }
  });
});

describe("a lamp's commands", () => {
  const step = (o: StreetlightOptions, t: number) => {
    const model = createStreetlightModel(o);
    return model.step(model.initial({ t, scenarioMs: 0 }), { t, scenarioMs: 0 }).fields;
  };

  it('follows a schedule through a December night: full from sunset, 30 % from 23:00, off at sunrise', () => {
    const control = newLampControl();
    control.steps = [
      { from: { sun_altitude_deg: -0.833, direction: 'setting' }, level_pct: 100 },
      { from: '23:00', level_pct: 30 },
      { from: { sun_altitude_deg: -0.833, direction: 'rising' }, level_pct: 0 },
    ];
    const o = { ...opts, control };
    const night: Array<[number, boolean, number]> = [];
    // Every half hour from 16:00 on 21 December to 08:00 the next morning.
    for (let t = local(2025, 12, 21, 16); t <= local(2025, 12, 22, 8); t += HOUR_MS / 2) {
      const f = step(o, t);
      night.push([t, f.lamp_on as boolean, f.dim_pct as number]);
    }
    const at = (d: number, h: number, mi = 0) => night.find(([t]) => t === local(2025, 12, d, h, mi))!;
    expect(at(21, 17).slice(1)).toEqual([false, 0]); // before sunset (about 17:20)
    expect(at(21, 17, 30).slice(1)).toEqual([true, 100]);
    expect(at(21, 22, 30).slice(1)).toEqual([true, 100]); // the lamp's own programme would dim at 22:00
    expect(at(21, 23, 30).slice(1)).toEqual([true, 30]);
    expect(at(22, 5, 30).slice(1)).toEqual([true, 30]);
    expect(at(22, 6, 30).slice(1)).toEqual([false, 0]); // after sunrise (about 06:10)
    // Power follows the level: 30 % of 150 W, give or take the driver's noise.
    expect(step(o, local(2025, 12, 22, 1)).power_w).toBeCloseTo(45, -1);
  });

  it('dims to a set level while lit, switches off and on, and goes back to its programme on auto', () => {
    const control = newLampControl();
    const o = { ...opts, control };
    const evening = local(2025, 12, 21, 19);
    control.dimPct = 40;
    expect([step(o, evening).lamp_on, step(o, evening).dim_pct]).toEqual([true, 40]);
    expect(step(o, local(2025, 12, 21, 12)).lamp_on).toBe(false); // a dim level does not light it by day
    control.switch = 'off';
    expect([step(o, evening).lamp_on, step(o, evening).power_w]).toEqual([false, 0]);
    control.switch = 'on';
    expect([step(o, local(2025, 12, 21, 12)).lamp_on, step(o, local(2025, 12, 21, 12)).dim_pct]).toEqual([
      true,
      40,
    ]);
    control.switch = 'auto';
    control.dimPct = undefined;
    expect(step(o, evening).dim_pct).toBe(100);
  });

  it("leaves the city story's failed lamp on its own programme, whatever it is told", () => {
    const control = newLampControl();
    control.dimPct = 40;
    const failed = { ...opts, control, storyRole: 'failed-lamp' as const };
    expect(step(failed, local(2025, 12, 21, 19)).dim_pct).toBe(100);
  });
});

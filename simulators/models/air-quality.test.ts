import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { airQualityAt, createAirQualityModel, EPISODE_SCENARIO, pmDailyFactor } from './air-quality.ts';
import { instants, num, outOfRange, runSeries } from '../../test/kits/sim-models.ts';
import { DAY_MS, HOUR_MS, localHour } from './time.ts';

// Midnight local time (UTC+7) on 1 December 2025 and on 1 July 2025.
const DEC = Date.UTC(2025, 10, 30, 17);
const JUL = Date.UTC(2025, 5, 30, 17);
const opts = { seed: 3, deviceId: 'aq-hung-vuong', scenario: 'normal' as const, episodesPerDay: 0 };

function meanOver(start: number, days: number, hours: (h: number) => boolean, field = 'pm25'): number {
  const xs = instants(start, 10 * 60_000, days * 144)
    .filter((at) => hours(localHour(at.t)))
    .map((at) => num(airQualityAt(opts, at), field));
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

describe('air quality model', () => {
  it('has rush-hour PM2.5 above the night mean', () => {
    const peak = meanOver(DEC, 14, (h) => (h >= 7 && h < 9) || (h >= 17 && h < 19));
    const night = meanOver(DEC, 14, (h) => h >= 0 && h < 5);
    expect(peak).toBeGreaterThan(night * 1.4);
  });

  it('keeps the daily PM2.5 factor at a mean of one', () => {
    let sum = 0;
    for (let m = 0; m < 1440; m++) sum += pmDailyFactor(m / 60);
    expect(sum / 1440).toBeCloseTo(1, 6);
  });

  it('follows the seasons: 18–22 µg/m³ in winter, 9–17 in the wet season (monthly means)', () => {
    const winter = meanOver(DEC, 30, () => true);
    const summer = meanOver(JUL, 30, () => true);
    expect(winter).toBeGreaterThan(15);
    expect(winter).toBeLessThan(25);
    expect(summer).toBeGreaterThan(7);
    expect(summer).toBeLessThan(17);
    expect(winter).toBeGreaterThan(summer);
  });

  it('keeps PM10 between about 1.5 and 2 times PM2.5 away from episodes', () => {
    for (const at of instants(DEC, 37 * 60_000, 400)) {
      const r = airQualityAt(opts, at);
      const ratio = num(r, 'pm10') / num(r, 'pm25');
      expect(ratio).toBeGreaterThan(1.3);
      expect(ratio).toBeLessThan(2.2);
    }
  });

  it('peaks ozone around midday', () => {
    const noon = meanOver(JUL, 7, (h) => h >= 12 && h < 15, 'o3');
    const night = meanOver(JUL, 7, (h) => h < 5, 'o3');
    expect(noon).toBeGreaterThan(night * 2);
  });

  it('raises PM2.5 several-fold during the episode scenario and returns afterwards', () => {
    const ep = { ...opts, scenario: 'episode' as const };
    const t = DEC + 12 * HOUR_MS;
    const atPeak = { t, scenarioMs: EPISODE_SCENARIO.durationMs / 2 };
    const after = { t, scenarioMs: EPISODE_SCENARIO.durationMs + HOUR_MS };
    expect(num(airQualityAt(ep, atPeak), 'pm25')).toBeGreaterThan(
      3 * num(airQualityAt(opts, atPeak), 'pm25'),
    );
    expect(airQualityAt(ep, after)).toEqual(airQualityAt(opts, after));
  });

  it('has occasional citywide episodes in normal life', () => {
    const withEpisodes = { ...opts, episodesPerDay: 0.5 };
    const days = instants(DEC, DAY_MS, 60).map((d) =>
      Math.max(...instants(d.t, HOUR_MS, 24).map((at) => num(airQualityAt(withEpisodes, at), 'pm25'))),
    );
    expect(days.filter((max) => max > 50).length).toBeGreaterThan(5);
  });

  it('gives the same series for the same seed, and another for another seed', () => {
    const at = instants(DEC, 5 * 60_000, 100);
    const a = runSeries(createAirQualityModel(opts), at);
    expect(runSeries(createAirQualityModel(opts), at)).toEqual(a);
    expect(runSeries(createAirQualityModel({ ...opts, seed: 4 }), at)).not.toEqual(a);
  });

  it('stays within the field ranges at any time, in any scenario', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }),
        fc.integer({ min: -DAY_MS, max: 3 * DAY_MS }),
        fc.constantFrom('normal', 'flood', 'episode'),
        fc.integer({ min: 0, max: 1000 }),
        (t, scenarioMs, scenario, seed) => {
          const r = airQualityAt({ seed, deviceId: 'aq', scenario, episodesPerDay: 0.5 }, { t, scenarioMs });
          expect(outOfRange('air_quality', r)).toEqual([]);
        },
      ),
    );
  });
});

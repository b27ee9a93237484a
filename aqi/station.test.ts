// One station's indices from its readings: the Decision 1459 worked example and the EPA NowCast test
// vector fed as readings, the completed-hours choice against the hour in progress, missing pollutants,
// the InfluxDB fields, and a state that survives JSON.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../devices/index.ts';
import { AQI, AQI_FIELDS } from '../measurements/index.ts';
import { HOUR_MS } from './hourly.ts';
import {
  STATION_RETAIN_HOURS,
  StationState,
  stationFields,
  stationIndex,
  stationInit,
  stationReading,
  stationUs,
  stationVn,
} from './station.ts';
import { usHourlyAqi } from './us-aqi.ts';
import { vnHourlyAqi } from './vn-aqi.ts';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0); // 09:00, an hour boundary
const MIN = 60_000;

const reading = (time: number, fields: Reading['fields']): Reading => ({
  kind: 'air_quality',
  device: 'hue-aq-1',
  time,
  fields,
});

const feed = (readings: readonly Reading[], state = stationInit()): StationState =>
  readings.reduce((s, r) => stationReading(s, r), state);

/** Two readings per hour, at :10 and :40, whose mean is the hour's value; `undefined`: no reading. */
function hourly(field: string, oldestFirst: readonly (number | undefined)[], from = T0): Reading[] {
  return oldestFirst.flatMap((v, h) =>
    v === undefined
      ? []
      : [
          reading(from + h * HOUR_MS + 10 * MIN, { [field]: v * 0.5 }),
          reading(from + h * HOUR_MS + 40 * MIN, { [field]: v * 1.5 }),
        ],
  );
}

// The same inputs as vn-aqi.test.ts: the Decision's PM2.5 series 09:00 → 20:00, and O₃ 137.6 and NO₂ 120
// in the 20:00 hour (the concentrations behind its sub-indices O₃ 43 and NO₂ 60).
const DECISION_PM25_OLDEST_FIRST = [26.9, 24.7, 20.5, 23.5, 19.5, 16.5, 19.0, 16.5, 20.3, 22.4, 19.6, 20.6];
const H20 = T0 + 11 * HOUR_MS;
const decision = [
  ...hourly('pm25', DECISION_PM25_OLDEST_FIRST),
  reading(H20 + 15 * MIN, { o3: 137.6, no2: 120 }),
];

// The same input as us-aqi.test.ts: the EPA's NowCast test vector, oldest first, the 11th hour missing.
const EPA_VECTOR_OLDEST_FIRST = [34.9, 43, 50, 64.9, 69.2, 66.2, 53.7, 48.6, 49.2, 35, undefined, 21];

describe('stationIndex: the reference examples fed as readings', () => {
  it('the Decision 1459 example: VN_AQI 60, moderate, NO₂ dominant, once the 20:00 hour has ended', () => {
    const s = feed(decision);
    const index = stationIndex(s, H20 + HOUR_MS + 5 * MIN);
    expect(index?.vn).toEqual({ aqi: 60, category: 'moderate', dominant: 'no2' });
    // The US index of the same hours, as usHourlyAqi gives it (O₃ has 1 of the 6 hours its 8h mean needs).
    const pm25 = [...DECISION_PM25_OLDEST_FIRST].reverse();
    const us = usHourlyAqi({ pm25Hours: pm25, no2: 120 });
    expect(index?.us).toEqual({ aqi: us?.aqi, category: us?.category.key, dominant: us?.dominant });
    expect(index?.us?.dominant).toBe('pm25');
  });

  it('the EPA NowCast test vector: NowCast 28.4098 → US AQI 87 (moderate), VN_AQI 57', () => {
    const s = feed(hourly('pm25', EPA_VECTOR_OLDEST_FIRST));
    const index = stationIndex(s, T0 + 12 * HOUR_MS);
    // Truncated to 28.4: 51 + (100 − 51)/(35.4 − 9.1)·(28.4 − 9.1) = 86.96. VN: 50 + (28.4098 − 25)·2 = 56.8.
    expect(index?.us).toEqual({ aqi: 87, category: 'moderate', dominant: 'pm25' });
    expect(index?.vn).toEqual({ aqi: 57, category: 'moderate', dominant: 'pm25' });
  });
});

describe('stationIndex: completed hours, or the hour in progress', () => {
  it('leaves the hour in progress out by default, and takes it as c1 when asked', () => {
    const s = feed(decision);
    const at = H20 + 30 * MIN; // half way through the 20:00 hour
    const completed = [...DECISION_PM25_OLDEST_FIRST.slice(0, 11)].reverse(); // c1 = 19:00
    expect(stationVn(s, at)?.aqi).toBe(vnHourlyAqi({ pm25Hours: completed })?.aqi);
    expect(stationVn(s, at)?.dominant).toBe('pm25');
    expect(stationVn(s, at, { hourInProgress: true })).toEqual({
      aqi: 60,
      category: 'moderate',
      dominant: 'no2',
    });
  });

  it('a spike in the first minute of an hour does not move the index until the hour is complete', () => {
    const steady = feed(hourly('pm25', [20, 20, 20]));
    const spiked = stationReading(steady, reading(T0 + 3 * HOUR_MS + MIN, { pm25: 400 }));
    const at = T0 + 3 * HOUR_MS + 2 * MIN;
    expect(stationVn(spiked, at)).toEqual(stationVn(steady, at));
    expect(stationVn(spiked, at, { hourInProgress: true })?.aqi).toBeGreaterThan(200);
    // Once the hour has ended, the hour's mean (one reading: 400) is c1.
    expect(stationVn(spiked, T0 + 4 * HOUR_MS)?.aqi).toBeGreaterThan(200);
  });

  it('has no index before 2 of the 3 latest completed hours are there', () => {
    const s = feed(hourly('pm25', [30, 30]));
    expect(stationIndex(s, T0 + HOUR_MS + 50 * MIN)).toBeUndefined(); // only 09:00 is complete
    expect(stationIndex(s, T0 + 2 * HOUR_MS)?.vn?.aqi).toBe(60);
    expect(stationIndex(s, T0 + 4 * HOUR_MS)).toBeUndefined(); // c1..c3 = 12:00, 11:00, 10:00: one hour
  });
});

describe('stationIndex: missing pollutants', () => {
  it('PM10 alone is enough for both indices', () => {
    const s = feed(hourly('pm10', [100, 100]));
    const index = stationIndex(s, T0 + 2 * HOUR_MS);
    expect(index?.vn).toEqual({ aqi: 75, category: 'moderate', dominant: 'pm10' });
    expect(index?.us).toEqual({ aqi: 73, category: 'moderate', dominant: 'pm10' });
  });

  it('gases without PM: no VN_AQI (Decision 1459 needs PM), a US AQI from NO₂', () => {
    const s = feed([...hourly('no2', [300, 300]), ...hourly('so2', [900, 900])]);
    const index = stationIndex(s, T0 + 2 * HOUR_MS);
    expect(index?.vn).toBeUndefined();
    expect(index?.us?.dominant).toBe('no2');
    expect(stationFields(index ?? {})).toEqual({
      us_aqi: index?.us?.aqi,
      us_category: index?.us?.category,
      us_dominant: 'no2',
    });
  });

  it('SO₂ and CO count in VN_AQI only; US O₃ needs 6 of the 8 hours of its mean', () => {
    const pm = hourly('pm25', [10, 10, 10, 10, 10, 10]);
    const s = feed([...pm, ...hourly('co', [0, 0, 0, 0, 0, 100_000]), ...hourly('o3', [0, 0, 0, 0, 0, 300])]);
    const at = T0 + 6 * HOUR_MS;
    // CO 100 000 µg/m³: 300 + (100 000 − 90 000)·100/30 000 = 333.
    expect(stationVn(s, at)).toEqual({ aqi: 333, category: 'hazardous', dominant: 'co' });
    // O₃ 8h mean of six hours: 50 µg/m³ = 0.0255 ppm → 23; PM2.5 10 µg/m³ → 51 + 49/26.3·0.9 = 52.7.
    expect(stationUs(s, at)).toEqual({ aqi: 53, category: 'moderate', dominant: 'pm25' });
    // O₃ 300 µg/m³ = 0.153 ppm for 8 hours is US AQI 249; 5 hours of it make no 8-hour mean.
    const five = feed([...pm.slice(2), ...hourly('o3', [300, 300, 300, 300, 300], T0 + HOUR_MS)]);
    expect(stationUs(five, at)?.dominant).toBe('pm25');
    const six = feed([...pm, ...hourly('o3', [300, 300, 300, 300, 300, 300])]);
    expect(stationUs(six, at)).toEqual({ aqi: 249, category: 'very_unhealthy', dominant: 'o3' });
  });

  it('ignores fields that are not pollutants, not numbers or not finite, and returns the same state', () => {
    const s = feed(hourly('pm25', [20]));
    expect(stationReading(s, reading(T0 + 30 * MIN, { temperature: 31, humidity: 80 }))).toBe(s);
    expect(stationReading(s, reading(T0 + 30 * MIN, { pm25: true, pm10: NaN }))).toBe(s);
    expect(stationReading(s, reading(NaN, { pm25: 20 }))).toBe(s);
    expect(stationReading(stationInit(), reading(T0, { o3: Infinity })).hours).toEqual({});
  });

  it('keeps only the pollutants it is asked for', () => {
    const r = reading(T0, { pm25: 20, so2: 40, co: 900 });
    expect(Object.keys(stationReading(stationInit(), r, ['pm25', 'pm10']).hours)).toEqual(['pm25']);
    expect(Object.keys(stationReading(stationInit(), r).hours).sort()).toEqual(['co', 'pm25', 'so2']);
  });

  it('never changes the state it is given', () => {
    const s = feed(hourly('pm25', [20, 30]));
    const copy = structuredClone(s);
    stationReading(s, reading(T0 + 90 * MIN, { pm25: 500, o3: 80 }));
    stationReading(s, reading(T0 + 40 * HOUR_MS, { pm25: 5 }));
    expect(s).toEqual(copy);
  });
});

describe('stationFields', () => {
  it('names the aqi measurement and its fields as constants', () => {
    const index = stationIndex(feed(decision), H20 + HOUR_MS);
    expect(AQI.name).toBe('aqi');
    expect(stationFields(index ?? {})).toEqual({
      [AQI_FIELDS.vn.aqi]: 60,
      [AQI_FIELDS.vn.category]: 'moderate',
      [AQI_FIELDS.vn.dominant]: 'no2',
      [AQI_FIELDS.us.aqi]: index?.us?.aqi,
      [AQI_FIELDS.us.category]: index?.us?.category,
      [AQI_FIELDS.us.dominant]: 'pm25',
    });
    expect(Object.keys(stationFields(index ?? {})).sort()).toEqual([
      'us_aqi',
      'us_category',
      'us_dominant',
      'vn_aqi',
      'vn_category',
      'vn_dominant',
    ]);
    expect(stationFields({})).toEqual({});
  });
});

describe('StationState', () => {
  const pollutant = fc.constantFrom('pm25', 'pm10', 'o3', 'no2', 'so2', 'co');
  const arbReading = fc
    .tuple(
      fc.integer({ min: 0, max: 40 * HOUR_MS }),
      pollutant,
      fc.double({ min: 0, max: 2000, noNaN: true }),
    )
    .map(([t, p, v]) => reading(T0 + t, { [p]: v }));

  it('survives JSON, validates on the way back and gives the same index (property)', () => {
    fc.assert(
      fc.property(fc.array(arbReading, { maxLength: 60 }), fc.integer({ min: 0, max: 42 }), (rs, h) => {
        const s = feed(rs);
        const back = StationState.parse(JSON.parse(JSON.stringify(s)));
        expect(back).toEqual(s);
        expect(stationIndex(back, T0 + h * HOUR_MS)).toEqual(stationIndex(s, T0 + h * HOUR_MS));
        for (const hours of Object.values(s.hours)) {
          expect(hours?.buckets.length).toBeLessThanOrEqual(STATION_RETAIN_HOURS);
        }
      }),
    );
  });

  it('refuses a state that does not validate', () => {
    const good = feed(hourly('pm25', [20]));
    expect(StationState.safeParse(good).success).toBe(true);
    const bad: unknown[] = [
      { ...good, v: 2 },
      { ...good, hours: { nox: good.hours.pm25 } },
      { ...good, hours: { pm25: { ...good.hours.pm25, buckets: [{ start: T0 + 1, sum: 1, count: 1 }] } } },
      { v: 1 },
      { ...good, extra: true },
    ];
    for (const b of bad) expect(StationState.safeParse(b).success).toBe(false);
  });
});

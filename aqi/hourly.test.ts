// The clock-hour accumulator: its means against a direct computation, eviction, out-of-order readings,
// a state that survives JSON, and the errors it raises.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AqiError } from './errors.ts';
import {
  addReading,
  createHourlyState,
  evictHours,
  HOUR_MS,
  hourlyMeans,
  hourStart,
  parseHourlyState,
  type HourlyState,
} from './hourly.ts';
import { vnNowCast } from './vn-aqi.ts';

const T0 = Date.UTC(2026, 10, 28, 0, 0, 0); // an hour boundary
const MIN = 60_000;

const feed = (state: HourlyState, readings: readonly (readonly [number, number])[]) =>
  readings.reduce((s, [t, v]) => addReading(s, t, v), state);

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('hourly accumulator', () => {
  it('averages the readings of each clock hour, newest hour first', () => {
    const s = feed(createHourlyState(), [
      [T0 + 5 * MIN, 10],
      [T0 + 55 * MIN, 20],
      [T0 + HOUR_MS, 40],
      [T0 + 3 * HOUR_MS + 59 * MIN, 7],
    ]);
    expect(hourlyMeans(s, T0 + 3 * HOUR_MS + 30 * MIN, 5)).toEqual([7, undefined, 40, 15, undefined]);
  });

  it('accepts late readings into their hour and ignores those older than the window', () => {
    let s = feed(createHourlyState(12), [[T0 + 11 * HOUR_MS, 1]]);
    s = addReading(s, T0 + 10 * MIN, 3); // 11 hours back: still inside 12 hours
    expect(hourlyMeans(s, T0 + 11 * HOUR_MS, 12)[11]).toBe(3);
    const before = s;
    expect(addReading(s, T0 - 1, 99)).toBe(before); // 12 hours back: out
  });

  it('evicts hours that leave the window, as new hours come or on request', () => {
    let s = feed(createHourlyState(12), [
      [T0, 1],
      [T0 + HOUR_MS, 2],
    ]);
    s = addReading(s, T0 + 12 * HOUR_MS, 3);
    expect(s.buckets.map((b) => b.start)).toEqual([T0 + HOUR_MS, T0 + 12 * HOUR_MS]);
    expect(evictHours(s, T0 + 30 * HOUR_MS).buckets).toEqual([]);
    expect(evictHours(s, T0 + 12 * HOUR_MS)).toBe(s);
  });

  it('ignores non-finite times and values', () => {
    const s = createHourlyState();
    expect(addReading(s, NaN, 1)).toBe(s);
    expect(addReading(s, T0, Infinity)).toBe(s);
  });

  it('never changes the state it is given', () => {
    const s = deepFreeze(feed(createHourlyState(), [[T0, 1]]));
    expect(() => addReading(s, T0 + 1, 2)).not.toThrow();
    expect(() => addReading(s, T0 + 30 * HOUR_MS, 2)).not.toThrow();
    expect(s.buckets).toEqual([{ start: T0, sum: 1, count: 1 }]);
  });

  it('matches a direct computation of the hourly means, in any arrival order (property)', () => {
    const reading = fc.tuple(
      fc.integer({ min: 0, max: 40 * HOUR_MS - 1 }),
      fc.double({ min: 0, max: 1000, noNaN: true }),
    );
    fc.assert(
      fc.property(
        fc.array(reading, { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 12, max: 48 }),
        (readings, retain) => {
          const s = feed(
            createHourlyState(retain),
            readings.map(([t, v]) => [T0 + t, v] as const),
          );
          const newest = hourStart(T0 + Math.max(...readings.map(([t]) => t)));
          const expected: (number | undefined)[] = [];
          for (let i = 0; i < retain; i++) {
            const inHour = readings.filter(([t]) => hourStart(T0 + t) === newest - i * HOUR_MS);
            expected.push(
              inHour.length === 0 ? undefined : inHour.reduce((a, [, v]) => a + v, 0) / inHour.length,
            );
          }
          const actual = hourlyMeans(s, newest, retain);
          actual.forEach((m, i) => {
            const e = expected[i];
            if (e === undefined) expect(m).toBeUndefined();
            else expect(m).toBeCloseTo(e, 9);
          });
          expect(s.buckets.length).toBeLessThanOrEqual(retain);
        },
      ),
    );
  });

  it('survives JSON and validates on the way back (property)', () => {
    const reading = fc.tuple(
      fc.integer({ min: 0, max: 30 * HOUR_MS }),
      fc.double({ min: 0, max: 1000, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.array(reading, { maxLength: 40 }), (readings) => {
        const s = feed(
          createHourlyState(),
          readings.map(([t, v]) => [T0 + t, v] as const),
        );
        expect(parseHourlyState(JSON.parse(JSON.stringify(s)))).toEqual(s);
      }),
    );
  });

  it('refuses a state that does not validate, with AQI_ERR_STATE and the cause', () => {
    const good = { version: 1, retainHours: 24, buckets: [{ start: T0, sum: 1, count: 1 }] };
    const bad: unknown[] = [
      { ...good, version: 2 },
      { ...good, retainHours: 6 },
      { ...good, buckets: [{ start: T0 + 1, sum: 1, count: 1 }] },
      { ...good, buckets: [{ start: T0, sum: 1, count: 0 }] },
      {
        ...good,
        buckets: [
          { start: T0 + HOUR_MS, sum: 1, count: 1 },
          { start: T0, sum: 1, count: 1 },
        ],
      },
      {
        ...good,
        buckets: [
          { start: T0, sum: 1, count: 1 },
          { start: T0 + 24 * HOUR_MS, sum: 1, count: 1 },
        ],
      },
      null,
    ];
    expect(parseHourlyState(good)).toEqual(good);
    for (const b of bad) {
      let caught: unknown;
      try {
        parseHourlyState(b);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(AqiError);
      expect((caught as AqiError).code).toBe('AQI_ERR_STATE');
      expect((caught as AqiError).cause).toBeDefined();
    }
  });

  it('refuses a window outside 12–48 hours with AQI_ERR_RETAIN_HOURS', () => {
    for (const n of [11, 49, 12.5]) {
      expect(() => createHourlyState(n)).toThrow(expect.objectContaining({ code: 'AQI_ERR_RETAIN_HOURS' }));
    }
    expect(createHourlyState(12).retainHours).toBe(12);
  });

  it('feeds the NowCast: readings every 10 minutes over 12 hours', () => {
    let s = createHourlyState();
    for (let h = 0; h < 12; h++) {
      for (let m = 0; m < 60; m += 10) s = addReading(s, T0 + h * HOUR_MS + m * MIN, 20 + h);
    }
    const hours = hourlyMeans(s, T0 + 11 * HOUR_MS);
    expect(hours[0]).toBe(31);
    expect(hours[11]).toBe(20);
    const nowCast = vnNowCast(hours);
    expect(nowCast).toBeGreaterThan(20);
    expect(nowCast).toBeLessThan(31);
  });
});

// The air-quality index of one station, computed from its readings: one clock-hour accumulator per
// pollutant (hourly.ts), and from those the hourly VN_AQI (Decision 1459/QĐ-TCMT, PM by NowCast) and the
// US EPA AQI (2024 PM2.5 breakpoints, PM by NowCast). The state is plain JSON so the rules engine can
// persist it; restore it through `StationState` (parse, never cast). Every function is pure.
//
// Which hours count. The index at time `at` is built from COMPLETED clock hours: c1 is the hour that
// ended at or before `at`, and the hour in progress is left out. Reasons:
// - Decision 1459's c1 is "the current hour" as a completed 1-hour mean (§2.2.1), and so is the EPA's
//   hourly NowCast: the value an operator sees in an alert is then the one published for the station.
// - A partial hour of one or two readings would be c1, the hour the NowCast weighs most: about half of
//   the index when the air is changing (w = ½, Σwⁱ ≈ 2). One spike in the first minute of an hour could
//   raise an alert that the hour's full mean would not support, and the index would jump back later.
// - The cost is latency: the first reading after an hour ends brings that hour in, so an alert comes at
//   most one hour (plus a report interval) late. A fast event is what a threshold rule on `pm25` is for.
// `{ hourInProgress: true }` lets c1 be the partial hour, for a display that wants the live value.
import { z } from 'zod';
import type { Reading } from '../devices/index.ts';

import { addReading, createHourlyState, HOUR_MS, HourlyState, hourlyMeans } from './hourly.ts';
import { isValidHour, NOWCAST_HOURS, type HourValue } from './nowcast.ts';
import { usHourlyAqi } from './us-aqi.ts';
import { VN_POLLUTANTS, vnHourlyAqi, type VnPollutant } from './vn-aqi.ts';
import { AQI_FIELDS } from '../measurements/index.ts';

/** Every field either index reads (`air_quality` field names, µg/m³): VN_AQI all six, the US AQI the four
 * of `US_POLLUTANTS` (pm25, pm10, o3, no2). */
export const STATION_POLLUTANTS = VN_POLLUTANTS;
export type StationPollutant = VnPollutant;

/** The NowCast's 12 completed hours plus the hour in progress. */
export const STATION_RETAIN_HOURS = NOWCAST_HOURS + 1;

/** US O₃ is an 8-hour mean, valid with 75 % of its hours (6 of 8), the EPA's completeness rule for an
 * 8-hour O₃ average (40 CFR Part 50, Appendix U). */
const O3_HOURS = 8;
const O3_MIN_HOURS = 6;

export const StationState = z.strictObject({
  v: z.literal(1),
  /** One accumulator per pollutant the station has reported; absent until its first reading. */
  hours: z.partialRecord(z.enum(STATION_POLLUTANTS), HourlyState),
});
export type StationState = z.infer<typeof StationState>;

export const stationInit = (): StationState => ({ v: 1, hours: {} });

/**
 * Adds the reading's pollutant fields (those in `pollutants`) to their hours. A field that is missing or
 * not a finite number is skipped; so is a reading too old for the retained hours. Returns the same
 * object when nothing was added, a new state otherwise: the one given is never changed.
 */
export function stationReading(
  state: StationState,
  reading: Reading,
  pollutants: readonly StationPollutant[] = STATION_POLLUTANTS,
): StationState {
  let hours = state.hours;
  for (const p of pollutants) {
    const x = Object.hasOwn(reading.fields, p) ? reading.fields[p] : undefined;
    if (typeof x !== 'number') continue;
    const before = hours[p] ?? createHourlyState(STATION_RETAIN_HOURS);
    const after = addReading(before, reading.time, x);
    if (after === before) continue;
    if (hours === state.hours) hours = { ...hours };
    hours[p] = after;
  }
  // A literal, not `{ ...state, hours }`: V8 copies a spread with an overridden key several times slower.
  return hours === state.hours ? state : { v: 1, hours };
}

/** One index at one time: the rounded value, its category key and the pollutant that set it. */
export interface StationAqi {
  readonly aqi: number;
  /** `VN_CATEGORIES` / `US_CATEGORIES` key: good, moderate, poor, … */
  readonly category: string;
  readonly dominant: StationPollutant;
}

export interface StationIndex {
  readonly vn?: StationAqi;
  readonly us?: StationAqi;
}

export interface StationIndexOptions {
  /** Let the hour in progress be c1 (default false: completed hours only, see the top of this file). */
  readonly hourInProgress?: boolean;
}

/** A time inside the hour that is c1. */
const c1Time = (at: number, opts: StationIndexOptions): number => (opts.hourInProgress ? at : at - HOUR_MS);

/** Hourly means newest first (c1 first); `undefined` for a pollutant never reported. */
function means(state: StationState, p: StationPollutant, t: number, count: number): HourValue[] | undefined {
  const h = state.hours[p];
  return h === undefined ? undefined : hourlyMeans(h, t, count);
}

const hourMean = (state: StationState, p: StationPollutant, t: number): HourValue =>
  means(state, p, t, 1)?.[0];

/** The mean of the valid hours when at least 6 of the 8 are there. */
function eightHourMean(hours: readonly HourValue[] | undefined): number | undefined {
  const valid = (hours ?? []).filter(isValidHour);
  return valid.length < O3_MIN_HOURS ? undefined : valid.reduce((a, c) => a + c, 0) / valid.length;
}

/** The hourly VN_AQI at `at`: PM by NowCast over 12 hours, O₃ (1h column), NO₂, SO₂, CO from c1's mean.
 * `undefined` without a PM NowCast (2 of the 3 latest hours), as Decision 1459 requires. */
export function stationVn(
  state: StationState,
  at: number,
  opts: StationIndexOptions = {},
): StationAqi | undefined {
  const t = c1Time(at, opts);
  const r = vnHourlyAqi({
    pm25Hours: means(state, 'pm25', t, NOWCAST_HOURS),
    pm10Hours: means(state, 'pm10', t, NOWCAST_HOURS),
    o3: hourMean(state, 'o3', t),
    no2: hourMean(state, 'no2', t),
    so2: hourMean(state, 'so2', t),
    co: hourMean(state, 'co', t),
  });
  return r === undefined ? undefined : { aqi: r.aqi, category: r.category.key, dominant: r.dominant };
}

/** The US AQI at `at`: PM by NowCast, O₃ from the 8-hour mean ending with c1, NO₂ from c1's mean. SO₂ and
 * CO are not indexed (us-aqi.ts has no tables for them). `undefined` when no sub-index can be computed. */
export function stationUs(
  state: StationState,
  at: number,
  opts: StationIndexOptions = {},
): StationAqi | undefined {
  const t = c1Time(at, opts);
  const r = usHourlyAqi({
    pm25Hours: means(state, 'pm25', t, NOWCAST_HOURS),
    pm10Hours: means(state, 'pm10', t, NOWCAST_HOURS),
    o3Mean8h: eightHourMean(means(state, 'o3', t, O3_HOURS)),
    no2: hourMean(state, 'no2', t),
  });
  return r === undefined ? undefined : { aqi: r.aqi, category: r.category.key, dominant: r.dominant };
}

/** Both indices at `at`, each only when it can be computed; `undefined` when neither can. */
export function stationIndex(
  state: StationState,
  at: number,
  opts: StationIndexOptions = {},
): StationIndex | undefined {
  const vn = stationVn(state, at, opts);
  const us = stationUs(state, at, opts);
  if (vn === undefined && us === undefined) return undefined;
  return { ...(vn && { vn }), ...(us && { us }) };
}

/** The fields to write for an index: `vn_aqi: 60, vn_category: 'moderate', vn_dominant: 'no2', …`, only
 * those of the indices that were computed. The AQI is always a whole number. */
export function stationFields(index: StationIndex): Record<string, number | string> {
  const fields: Record<string, number | string> = {};
  for (const key of ['vn', 'us'] as const) {
    const v = index[key];
    if (v === undefined) continue;
    const names = AQI_FIELDS[key];
    fields[names.aqi] = v.aqi;
    fields[names.category] = v.category;
    fields[names.dominant] = v.dominant;
  }
  return fields;
}

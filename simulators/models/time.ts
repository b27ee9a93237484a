// The two clocks every model reads, and local-time helpers for Huế.
import { z } from 'zod';

/**
 * Scenarios the fleet can play. `city` (the demo's): a storyline already under way when the simulator
 * goes live and repeating after (CITY_STORY). `normal`: everyday life. `flood`: a rain event starting when
 * the simulator goes live that drives the river gauges past alarm 3 and back down. `episode`: a pollution
 * episode starting when the simulator goes live.
 */
export const Scenario = z.enum(['city', 'normal', 'flood', 'episode']);
export type Scenario = z.infer<typeof Scenario>;

/**
 * One instant as the models see it. `t` is the reading's own time (epoch ms, never in the future): it
 * drives everything tied to the day (traffic, the sun, temperature). `scenarioMs` is scenario time since
 * the scenario began — negative before it — and runs faster than `t` when the simulator is sped up, so a
 * two-day flood can be watched in an hour while every reading keeps a true timestamp.
 */
export interface SimInstant {
  readonly t: number;
  readonly scenarioMs: number;
}

export type SimFields = Record<string, number | boolean>;

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/**
 * The `city` scenario: what an operations centre handles in a bad week, in scenario time, placed so that
 * the 24 hours before going live (the demo's backfill, at real speed) hold its first day, and repeating
 * after, sped up (an hour a minute in the demo), so something happens every few minutes.
 * - A flood every 72 hours: the flood scenario's rain from hour 0, the rivers past alarm 3 near hour 22
 *   (Kim Long's crest), the worst streets under water while the river blocks the drains; the simulator
 *   goes live at the crest, and the rivers fall back through their alarm levels over the next hours.
 * - A pollution episode every 48 hours, 12 hours long, at its peak when the simulator goes live.
 * - Lamp faults drawn in scenario time (a quarter of the lamps a day), one lamp (the fleet's first)
 *   failed for the first 40 hours, so a night of the backfill sees it, and another (the second) stuck on
 *   at full power and drawing more than its rating for the same hours, which is an alert whatever the
 *   time of day (the failed lamp's clears at dawn, when it is switched off).
 */
export const CITY_STORY = {
  liveAtMs: 22 * HOUR_MS,
  floodCycleMs: 72 * HOUR_MS,
  episode: { cycleMs: 48 * HOUR_MS, startMs: 16 * HOUR_MS, durationMs: 12 * HOUR_MS, amplitude: 5 },
  lampFaultsPerDay: 0.25,
  failedLampUntilMs: 40 * HOUR_MS,
} as const;

/** The part a device plays in the city story, beyond its kind's everyday life. */
export type StoryRole = 'failed-lamp' | 'overdriven-lamp';

/** Scenario time when the simulator goes live: under way already in the `city` story, else 0. */
export function liveScenarioMs(scenario: Scenario): number {
  return scenario === 'city' ? CITY_STORY.liveAtMs : 0;
}

/** Position within a repeating cycle, in [0, cycle), negative times included. */
export function inCycle(ms: number, cycleMs: number): number {
  return ((ms % cycleMs) + cycleMs) % cycleMs;
}

/** A model is pure: the next reading and state follow from the previous state and the instant alone. */
export interface Model<S> {
  initial(at: SimInstant): S;
  step(state: S, at: SimInstant): { readonly state: S; readonly fields: SimFields };
}

/** Huế keeps Indochina Time, UTC+7, with no daylight saving. */
export const HUE_UTC_OFFSET_MS = 7 * HOUR_MS;

/** Hour of the local day, fractional, in [0, 24). */
export function localHour(t: number): number {
  const ms = (((t + HUE_UTC_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS;
  return ms / HOUR_MS;
}

/** Whole local days since the epoch: the key for things that happen at most once a day. */
export function localDay(t: number): number {
  return Math.floor((t + HUE_UTC_OFFSET_MS) / DAY_MS);
}

/** Start of local day `day`, epoch ms. */
export function localDayStart(day: number): number {
  return day * DAY_MS - HUE_UTC_OFFSET_MS;
}

/**
 * Position in the year as a fractional month index in [0, 12), 0 being the middle of January, for
 * interpolating monthly tables without steps at month boundaries.
 */
export function monthPosition(t: number): number {
  const d = new Date(t + HUE_UTC_OFFSET_MS);
  const year = d.getUTCFullYear();
  const start = Date.UTC(year, 0, 1);
  const yearMs = Date.UTC(year + 1, 0, 1) - start;
  const pos = ((d.getTime() - start) / yearMs) * 12 - 0.5;
  return (pos + 12) % 12;
}

/** Linear interpolation in a 12-entry monthly table (values for mid-January … mid-December). */
export function monthly(table: readonly number[], t: number): number {
  const pos = monthPosition(t);
  const i = Math.floor(pos);
  const f = pos - i;
  const a = table[i % 12] ?? 0;
  const b = table[(i + 1) % 12] ?? 0;
  return a + (b - a) * f;
}

/** A Gaussian bump on the circular 24-hour clock. */
export function hourBump(hour: number, centre: number, sigma: number): number {
  let d = Math.abs(hour - centre);
  d = Math.min(d, 24 - d);
  return Math.exp(-(d * d) / (2 * sigma * sigma));
}

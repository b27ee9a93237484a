// Clock-hour means of one field of one device, for the NowCasts and the daily index: a small accumulator
// whose state is plain JSON, so the rules engine can persist it with its other per-(rule, device) state
// and restore it after a restart (parse, never cast: `parseHourlyState`).
//
// Hours are absolute: [k·3 600 000, (k+1)·3 600 000) ms since the epoch. Vietnam's offset (UTC+7) is a
// whole number of hours, so these are also the local clock hours; a zone with a half-hour offset would
// need the offset added before bucketing. Every function is pure: it returns a new state and never
// changes the one it is given, and it takes the time as an argument.
import { z } from 'zod';
import { AqiError } from './errors.ts';

export const HOUR_MS = 3_600_000;
/** 24 covers the NowCast (12) and a 24-hour mean; 31 covers the day and the 7 hours a day's first
 * 8-hour O₃ mean reaches back for (vn-daily.ts). */
export const DEFAULT_RETAIN_HOURS = 24;
export const MIN_RETAIN_HOURS = 12;
export const MAX_RETAIN_HOURS = 48;

const HourBucket = z.object({
  /** Start of the hour, ms since the epoch. */
  start: z.number().int().multipleOf(HOUR_MS),
  sum: z.number(),
  count: z.number().int().positive(),
});

export const HourlyState = z
  .object({
    version: z.literal(1),
    retainHours: z.number().int().min(MIN_RETAIN_HOURS).max(MAX_RETAIN_HOURS),
    /** Oldest first, one per hour that has readings, at most `retainHours` hours apart end to end. */
    buckets: z.array(HourBucket),
  })
  .refine(
    (s) => s.buckets.every((b, i) => i === 0 || b.start > (s.buckets[i - 1]?.start ?? Infinity)),
    'buckets must be in strictly ascending hour order',
  )
  .refine((s) => {
    const first = s.buckets[0];
    const last = s.buckets[s.buckets.length - 1];
    return first === undefined || last === undefined || last.start - first.start < s.retainHours * HOUR_MS;
  }, 'buckets must span no more than retainHours');
export type HourlyState = z.infer<typeof HourlyState>;
type HourBucket = z.infer<typeof HourBucket>;

/** An empty accumulator keeping the last `retainHours` clock hours. */
export function createHourlyState(retainHours: number = DEFAULT_RETAIN_HOURS): HourlyState {
  if (!Number.isInteger(retainHours) || retainHours < MIN_RETAIN_HOURS || retainHours > MAX_RETAIN_HOURS) {
    throw new AqiError('AQI_ERR_RETAIN_HOURS', String(retainHours));
  }
  return { version: 1, retainHours, buckets: [] };
}

/** A persisted state, validated; throws `AQI_ERR_STATE` with the zod error as its cause. */
export function parseHourlyState(json: unknown): HourlyState {
  const parsed = HourlyState.safeParse(json);
  if (!parsed.success) throw new AqiError('AQI_ERR_STATE', parsed.error.message, { cause: parsed.error });
  return parsed.data;
}

/** The start of the clock hour holding `time` (ms since the epoch). */
export function hourStart(time: number): number {
  return Math.floor(time / HOUR_MS) * HOUR_MS;
}

/** The oldest hour start kept when the newest hour starts at `newest`. */
function cutoff(state: HourlyState, newest: number): number {
  return newest - (state.retainHours - 1) * HOUR_MS;
}

/**
 * Adds one reading. Readings may arrive out of order; one older than the retained hours (counted back
 * from the newest hour seen) is ignored, and so is a non-finite time or value: the same state comes back.
 * A newer hour evicts the hours that fall out of the window.
 */
export function addReading(state: HourlyState, time: number, value: number): HourlyState {
  if (!Number.isFinite(time) || !Number.isFinite(value)) return state;
  const start = hourStart(time);
  const n = state.buckets.length;
  const last = state.buckets[n - 1];
  if (last !== undefined && last.start === start) {
    // The usual case, a reading in the newest hour: nothing is evicted (the newest hour is the same), so
    // the array is copied once with that hour's bucket replaced. Literals, not spreads: V8 copies an
    // object spread with an overridden key several times slower, and this runs per reading and field.
    const buckets = state.buckets.slice();
    buckets[n - 1] = { start, sum: last.sum + value, count: last.count + 1 };
    return { version: 1, retainHours: state.retainHours, buckets };
  }
  const oldest = cutoff(state, Math.max(start, last?.start ?? start));
  if (start < oldest) return state;

  const buckets: HourBucket[] = [];
  let placed = false;
  for (const b of state.buckets) {
    if (b.start < oldest) continue;
    if (!placed && b.start === start) {
      buckets.push({ start, sum: b.sum + value, count: b.count + 1 });
      placed = true;
      continue;
    }
    if (!placed && b.start > start) {
      buckets.push({ start, sum: value, count: 1 });
      placed = true;
    }
    buckets.push(b);
  }
  if (!placed) buckets.push({ start, sum: value, count: 1 });
  return { version: 1, retainHours: state.retainHours, buckets };
}

/** Drops the hours that are out of the window at `now`, e.g. for a device that has gone silent. */
export function evictHours(state: HourlyState, now: number): HourlyState {
  const oldest = cutoff(state, hourStart(now));
  const buckets = state.buckets.filter((b) => b.start >= oldest);
  return buckets.length === state.buckets.length ? state : { ...state, buckets };
}

/**
 * The means of `count` clock hours, newest first: index 0 is the hour holding `at`, index i the hour i
 * hours before it; `undefined` for an hour without readings. This is the c1..c12 order of the NowCasts.
 * Pass `at` inside the hour in progress to let its partial mean be c1, or `at − HOUR_MS` to use completed
 * hours only (Decision 1459's "current hour" is a completed 1-hour mean). Reverse the array for the
 * oldest-first day that `vnDailyInputs` takes.
 */
export function hourlyMeans(state: HourlyState, at: number, count: number = 12): (number | undefined)[] {
  const c1 = hourStart(at);
  const means: (number | undefined)[] = [];
  // Buckets are oldest first: walk them from the newest, as the hours go back from c1.
  let j = state.buckets.length - 1;
  for (let i = 0; i < count; i++) {
    const start = c1 - i * HOUR_MS;
    while (j >= 0 && state.buckets[j]!.start > start) j--;
    const b = state.buckets[j];
    means.push(b !== undefined && b.start === start ? b.sum / b.count : undefined);
  }
  return means;
}

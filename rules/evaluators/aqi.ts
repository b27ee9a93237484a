// The `aqi` condition: a station's hourly VN_AQI or US AQI (aqi/station.ts) through the same level
// machine as a threshold, so it has a sustain (`for`), hysteresis (`clear`) and escalation. Category keys
// in the rule become index bounds. The index is built from completed clock hours (station.ts explains
// why), so it moves when the first reading of a new hour arrives.
//
// No tick: the index changes with time only as hours complete, and acting on that without a reading
// would raise or clear on no evidence from the device (the rule threshold.ts follows). Hours that fall
// out of the NowCast's 12 are not read, and the accumulators drop them as new readings come.
import { z } from 'zod';
import type { Reading } from '../../devices/index.ts';
import {
  hourStart,
  StationState,
  stationInit,
  stationReading,
  stationUs,
  stationVn,
  US_CATEGORIES,
  US_POLLUTANTS,
  usCategory,
  VN_CATEGORIES,
  VN_POLLUTANTS,
  vnCategory,
  type AqiCategory,
} from '../../aqi/index.ts';
import type { AqiCondition, Op } from '../schema.ts';
import type { Severity } from '../../alerts/index.ts';
import { idleLevels, LevelState, stepLevels, type ClearLimit, type Limit } from './levels.ts';
import type { EvalContext, EvalRule, Step } from './types.ts';
import { negate } from './values.ts';

export type AqiIndex = AqiCondition['index'];

/**
 * The index last computed and the clock hour it is for. It reads completed hours only, so it holds for
 * every reading of that hour: the hour's later readings step the levels with it instead of computing
 * the NowCast again. A reading added to an earlier hour (late) drops it. `aqi` null: no index then.
 */
const AqiCached = z.strictObject({
  index: z.enum(['vn', 'us']),
  hour: z.number(),
  aqi: z.number().nullable(),
});
type AqiCached = z.infer<typeof AqiCached>;

export const AqiState = z.strictObject({
  type: z.literal('aqi'),
  v: z.literal(1),
  /** Time of the latest reading the levels were stepped with; an older one only feeds the hours. */
  last: z.number().nullable(),
  station: StationState,
  levels: LevelState,
  /** Optional: states saved before it existed restore without it, and compute it afresh. */
  cached: AqiCached.optional(),
});
export type AqiState = z.infer<typeof AqiState>;

export const aqiInit = (): AqiState => ({
  type: 'aqi',
  v: 1,
  last: null,
  station: stationInit(),
  levels: idleLevels(),
});

const CATEGORIES: Readonly<Record<AqiIndex, readonly AqiCategory[]>> = {
  vn: VN_CATEGORIES,
  us: US_CATEGORIES,
};
/** The fields each index reads: SO₂ and CO are kept only for VN_AQI. */
const READS = { vn: VN_POLLUTANTS, us: US_POLLUTANTS } as const;

/**
 * The index bound a rule value stands for. A number is itself. A category key stands for the whole band,
 * and the op is read against the band: `>= poor` is "poor or worse" (≥ its lower bound, 101); `> poor`
 * "worse than poor" (> its upper bound, 150); `<= moderate` "moderate or better" (≤ its upper bound,
 * 100); `< moderate` "better than moderate" (< its lower bound, 51). The index is a whole number, so
 * these are exact. `undefined` for a key the index does not have (the rule schema refuses those).
 */
export function aqiBound(index: AqiIndex, op: Op, value: number | string): number | undefined {
  if (typeof value === 'number') return value;
  const band = CATEGORIES[index].find((c) => c.key === value);
  if (band === undefined) return undefined;
  return op === '>=' || op === '<' ? band.min : band.max;
}

/** The condition's levels and clear as index bounds. Without `clear`, the raise's negation clears. */
export function aqiLevels(
  c: AqiCondition,
  severity: Severity,
): { limits: Limit[]; clear: ClearLimit } | undefined {
  const limits: Limit[] = [];
  for (const e of [{ value: c.value, severity }, ...(c.escalate ?? [])]) {
    const value = aqiBound(c.index, c.op, e.value);
    if (value === undefined) return undefined;
    limits.push({ op: c.op, value, severity: e.severity });
  }
  const base = limits[0]!;
  if (c.clear === undefined) return { limits, clear: { op: negate(c.op), value: base.value, forMs: 0 } };
  const value = aqiBound(c.index, c.clear.op, c.clear.value);
  return value === undefined ? undefined : { limits, clear: { op: c.clear.op, value, forMs: 0 } };
}

// Levels per condition (and severity): they read no metadata, so one object serves every station.
const levelsCache = new WeakMap<
  AqiCondition,
  { severity: Severity; levels?: ReturnType<typeof aqiLevels> }
>();
function levelsOf(c: AqiCondition, severity: Severity): ReturnType<typeof aqiLevels> {
  const hit = levelsCache.get(c);
  if (hit !== undefined && hit.severity === severity) return hit.levels;
  const levels = aqiLevels(c, severity);
  levelsCache.set(c, levels === undefined ? { severity } : { severity, levels });
  return levels;
}

/** The index at `at` from `station`, from `cached` when that is for the same index and hour. */
function indexAt(index: AqiIndex, station: StationState, at: number, cached?: AqiCached): AqiCached {
  const hour = hourStart(at);
  if (cached !== undefined && cached.index === index && cached.hour === hour) return cached;
  const computed = index === 'vn' ? stationVn(station, at) : stationUs(station, at);
  return { index, hour, aqi: computed?.aqi ?? null };
}

/**
 * Feeds one reading. Its pollutant fields go into the station's hours; the index at the reading's time
 * then steps the levels. A reading older than `last` still counts in its hour's mean (a backtest over
 * stored history, sorted by time, counts it too) but steps nothing: a sustain needs readings in order.
 * A reading with none of the index's pollutants, or before the index can be computed (a NowCast needs 2
 * of its 3 latest hours), changes no level.
 */
export function aqiReading(
  rule: EvalRule<AqiCondition>,
  state: AqiState,
  reading: Reading,
  _ctx: EvalContext,
): Step<AqiState> {
  const c = rule.condition;
  const station = stationReading(state.station, reading, READS[c.index]);
  if (station === state.station) return { state };
  // A reading in an hour before the cached index's changes an hour that index was computed from.
  const kept = state.cached !== undefined && hourStart(reading.time) >= state.cached.hour;
  if (state.last !== null && reading.time < state.last) {
    const { last, levels } = state;
    return {
      state: kept
        ? { type: 'aqi', v: 1, last, station, levels, cached: state.cached }
        : { type: 'aqi', v: 1, last, station, levels },
    };
  }
  const cached = indexAt(c.index, station, reading.time, kept ? state.cached : undefined);
  const resolved = levelsOf(c, rule.severity);
  const step =
    cached.aqi === null || resolved === undefined
      ? undefined
      : stepLevels(state.levels, reading.time, cached.aqi, true, resolved.limits, resolved.clear, c.for ?? 0);
  const levels = step?.state ?? state.levels;
  const next: AqiState = { type: 'aqi', v: 1, last: reading.time, station, levels, cached };
  return step?.transition === undefined ? { state: next } : { state: next, transition: step.transition };
}

/** What `{{index}}` shows. */
export const AQI_INDEX_NAMES: Readonly<Record<AqiIndex, string>> = { vn: 'VN_AQI', us: 'US AQI' };

/**
 * What `{{category}}` shows: the category's display name for an index value, in English by default
 * (the rule messages are English); `vi` gives Decision 1459's Vietnamese name where there is one.
 */
export function aqiCategoryOf(index: AqiIndex, aqi: number, lang: 'en' | 'vi' = 'en'): string {
  const band = index === 'vn' ? vnCategory(aqi) : usCategory(aqi);
  return (lang === 'vi' ? band.name.vi : undefined) ?? band.name.en;
}

/** The placeholders an `aqi` rule adds to the common ones, for a transition's value. */
export function aqiTemplateVars(index: AqiIndex, aqi: number): { index: string; category: string } {
  return { index: AQI_INDEX_NAMES[index], category: aqiCategoryOf(index, aqi) };
}

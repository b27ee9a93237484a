// Flood gauges: river level (or radar distance), street water depth and tipping-bucket rain, with the
// rates seen in real floods on the Hương and Bồ rivers (docs/domain.md, "Flood").
import { clamp, gaussAt, hashSeed, noiseSlot, round, smoothNoise, uniformAt } from './prng.ts';
import {
  CITY_STORY,
  HOUR_MS,
  inCycle,
  localHour,
  monthly,
  type Model,
  type Scenario,
  type SimFields,
  type SimInstant,
} from './time.ts';

export interface FloodGaugeMeta {
  readonly type: 'river' | 'street' | 'rain';
  /** Elevation of a radar gauge above the level datum: such a gauge reports distance_m = datum − level. */
  readonly datum_m?: number;
  readonly alarm_levels_m?: readonly [number, number, number];
}

export interface FloodOptions {
  /** The world's seed: rain falls on the whole city at once. */
  readonly seed: number;
  readonly deviceId: string;
  readonly scenario: Scenario;
  readonly meta: FloodGaugeMeta;
}

/** Tipping-bucket resolution: 0.2 mm per tip (docs/domain.md). */
export const RAIN_TIP_MM = 0.2;

// Real rates (docs/domain.md): Kim Long rose 0.67 m in 8 h; basins upstream rise 0.3–0.7 m/h (we use the
// low end for the first surge, which reaches a lowland gauge attenuated); a fall of 1.04 m in 10 h.
export const FLOOD_RATES = {
  fastRiseMph: 0.3,
  slowRiseMph: 0.67 / 8,
  fallMph: 1.04 / 10,
} as const;

/** Hours of rain before the river starts to answer; how long the crest lasts; how far past alarm 3. */
const LAG_H = 2;
const CREST_H = 2;
const CREST_ABOVE_ALARM3_M = 0.3;
/** The last metre before the crest rises at the slow, lowland rate. */
const SLOW_SPAN_M = 1;

// The flood scenario's rain, mm/h for each scenario hour from 0: about 230 mm in 18 h, "very heavy"
// rain (> 100 mm/24 h, docs/domain.md), peaking near 30 mm/h — well under Huế's 96 mm in one hour.
export const FLOOD_RAIN_MMPH = [8, 15, 25, 30, 28, 22, 18, 15, 12, 10, 10, 8, 8, 6, 5, 4, 3, 2] as const;

/** The city story's storm: the flood scenario's rain, then a second band over the hours before the rivers
 * crest, which keeps the worst streets under water when the demo goes live (CITY_STORY). */
const CITY_RAIN_MMPH = [...FLOOD_RAIN_MMPH, 0, 8, 15, 12, 6] as const;

/** Alarm levels used when a river gauge has none in the registry: Kim Long's (docs/hue-places.md). */
const DEFAULT_ALARMS: readonly [number, number, number] = [1, 2, 3.5];

export interface RiverProfile {
  readonly baseline: number;
  readonly crest: number;
}

/** Normal level well under alarm 1 (an assumption: 40 % of it, as a dry-season level). */
export function riverProfile(alarms: readonly [number, number, number] = DEFAULT_ALARMS): RiverProfile {
  return { baseline: 0.4 * alarms[0], crest: alarms[2] + CREST_ABOVE_ALARM3_M };
}

/** Phases of the flood hydrograph, in scenario hours. */
export function hydrographPhases(p: RiverProfile) {
  const rise = p.crest - p.baseline;
  const slow = Math.min(SLOW_SPAN_M, rise);
  const fastEnd = LAG_H + (rise - slow) / FLOOD_RATES.fastRiseMph;
  const crestStart = fastEnd + slow / FLOOD_RATES.slowRiseMph;
  const fallStart = crestStart + CREST_H;
  const end = fallStart + rise / FLOOD_RATES.fallMph;
  return { fastEnd, crestStart, fallStart, end };
}

/** River level in the flood scenario at scenario hour `h` (the baseline outside the event). */
export function hydrograph(p: RiverProfile, h: number): number {
  const ph = hydrographPhases(p);
  const slowFrom = p.crest - Math.min(SLOW_SPAN_M, p.crest - p.baseline);
  if (h <= LAG_H || h >= ph.end) return p.baseline;
  if (h < ph.fastEnd) return p.baseline + (h - LAG_H) * FLOOD_RATES.fastRiseMph;
  if (h < ph.crestStart) return slowFrom + (h - ph.fastEnd) * FLOOD_RATES.slowRiseMph;
  if (h < ph.fallStart) return p.crest;
  return p.crest - (h - ph.fallStart) * FLOOD_RATES.fallMph;
}

/** Length of the flood scenario (until Kim Long is back to normal), ms of scenario time. */
export const FLOOD_SCENARIO_MS = hydrographPhases(riverProfile()).end * HOUR_MS;

/**
 * Hours since the scenario's flood began, at scenario hour `h`: the flood scenario's one event from hour 0,
 * the city story's events every 72 hours; undefined without a flood (or before the flood scenario's).
 */
function floodHour(scenario: Scenario, h: number): number | undefined {
  if (scenario === 'flood') return h < 0 ? undefined : h;
  if (scenario === 'city') return inCycle(h, CITY_STORY.floodCycleMs / HOUR_MS);
  return undefined;
}

/** Scenario rain intensity (mm/h) at scenario hour `h`. */
function scenarioRain(scenario: Scenario, h: number): number {
  const f = floodHour(scenario, h);
  const table: readonly number[] = scenario === 'city' ? CITY_RAIN_MMPH : FLOOD_RAIN_MMPH;
  return f === undefined ? 0 : (table[Math.floor(f)] ?? 0);
}

/** Integral of the scenario rain (mm) between scenario hours a < b. */
function scenarioRainBetween(scenario: Scenario, a: number, b: number): number {
  if (scenario !== 'flood' && scenario !== 'city') return 0;
  let mm = 0;
  for (let h = Math.floor(a); h < b; h++) {
    mm += scenarioRain(scenario, h) * (Math.min(b, h + 1) - Math.max(a, h));
  }
  return mm;
}

// Everyday showers: in each 3-hour block a shower may fall for 30–90 min at 1–8 mm/h, more often in
// the wet season (September–December). They stay under a street drain's capacity, so streets stay dry.
const SHOWER_BLOCK_MS = 3 * HOUR_MS;
const SHOWER_CHANCE = [0.15, 0.1, 0.08, 0.08, 0.12, 0.12, 0.12, 0.15, 0.25, 0.3, 0.3, 0.25] as const;

/** Everyday rain (mm) fallen between wall times a < b, the same over the whole city. */
function showersBetween(seed: number, a: number, b: number): number {
  const s = hashSeed(seed, 'showers');
  let mm = 0;
  for (let blk = Math.floor(a / SHOWER_BLOCK_MS); blk * SHOWER_BLOCK_MS < b; blk++) {
    const blockStart = blk * SHOWER_BLOCK_MS;
    if (uniformAt(s, blk * 4) >= monthly(SHOWER_CHANCE, blockStart)) continue;
    const length = (0.5 + uniformAt(s, blk * 4 + 1)) * HOUR_MS;
    const start = blockStart + uniformAt(s, blk * 4 + 2) * (SHOWER_BLOCK_MS - length);
    const rate = 1 + 7 * uniformAt(s, blk * 4 + 3);
    const overlap = Math.min(b, start + length) - Math.max(a, start);
    if (overlap > 0) mm += (rate * overlap) / HOUR_MS;
  }
  return mm;
}

export interface FloodState {
  readonly t: number;
  readonly scenarioMs: number;
  /** Rain in the bucket that has not tipped yet, mm. */
  readonly bucketMm: number;
  /** Water on the road, m (street gauges). */
  readonly depthM: number;
}

// Street flooding: drains take about 10 mm/h of rain (an assumption); when the river is high they back
// up. Excess rain gathers at the low point (a gain of 3–12 for the catchment around it) and drains away
// with a time constant of 2 h, longer while the river stays high. With the scenario's rain this gives
// 0.2–1 m on the worst streets, as reported in Huế (docs/hue-places.md, "Streets that flood first").
const DRAIN_MMPH = 10;
const DRAIN_TAU_H = 2;
const MAX_DEPTH_M = 1.5;

/** How blocked the drains are, 0–1, from Kim Long's stage between alarm 2 and alarm 3. */
function drainBlockage(scenario: Scenario, h: number): number {
  const f = floodHour(scenario, h);
  if (f === undefined) return 0;
  const level = hydrograph(riverProfile(), f);
  return clamp((level - DEFAULT_ALARMS[1]) / (DEFAULT_ALARMS[2] - DEFAULT_ALARMS[1]), 0, 1);
}

/** Advances the street depth over scenario hours a < b in steps of at most 5 minutes. */
function streetDepth(opts: FloodOptions, gain: number, depth: number, a: number, b: number): number {
  const step = 1 / 12;
  for (let h = a; h < b; h += step) {
    const dt = Math.min(step, b - h);
    const blockage = drainBlockage(opts.scenario, h);
    const excess = Math.max(
      0,
      scenarioRain(opts.scenario, h) * rainFactor(opts) - DRAIN_MMPH * (1 - blockage),
    );
    const tau = DRAIN_TAU_H * (1 + 3 * blockage);
    const steady = (gain * excess * tau) / 1000;
    depth = steady + (depth - steady) * Math.exp(-dt / tau);
  }
  return clamp(depth, 0, MAX_DEPTH_M);
}

/** Each gauge catches a little more or less of the same storm. */
function rainFactor(opts: FloodOptions): number {
  return 0.8 + 0.4 * uniformAt(hashSeed(opts.seed, opts.deviceId, 'rain'), 0);
}

function battery(opts: FloodOptions, t: number): number {
  const dev = hashSeed(opts.seed, opts.deviceId, 'battery');
  const noise = 0.01 * gaussAt(dev, noiseSlot(t));
  if (opts.meta.type === 'street') return 3.6 - 0.05 * uniformAt(dev, 0) + noise; // lithium primary cell
  // Solar-charged 12 V lead-acid: charging voltage by day, resting voltage by night.
  const hour = localHour(t);
  const charging = hour > 8 && hour < 16 ? Math.sin((Math.PI * (hour - 8)) / 8) : 0;
  return 12.5 + 1.1 * charging + noise;
}

function riverLevel(opts: FloodOptions, at: SimInstant): number {
  const dev = hashSeed(opts.seed, opts.deviceId, 'level');
  const p = riverProfile(opts.meta.alarm_levels_m ?? DEFAULT_ALARMS);
  const f = floodHour(opts.scenario, at.scenarioMs / HOUR_MS);
  const base = f === undefined ? p.baseline : hydrograph(p, f);
  return base + 0.03 * smoothNoise(dev, at.t, 6 * HOUR_MS) + 0.005 * gaussAt(dev, noiseSlot(at.t));
}

export function createFloodModel(opts: FloodOptions): Model<FloodState> {
  const gain = 3 + 9 * uniformAt(hashSeed(opts.seed, opts.deviceId, 'street'), 0);
  return {
    initial: (at) => ({ t: at.t, scenarioMs: at.scenarioMs, bucketMm: 0, depthM: 0 }),
    step(state, at) {
      const fromH = state.scenarioMs / HOUR_MS;
      const toH = at.scenarioMs / HOUR_MS;
      const fallen =
        showersBetween(opts.seed, state.t, at.t) * rainFactor(opts) +
        scenarioRainBetween(opts.scenario, fromH, toH) * rainFactor(opts);
      const bucket = state.bucketMm + fallen;
      const tips = Math.floor(bucket / RAIN_TIP_MM + 1e-9);
      const depthM = opts.meta.type === 'street' ? streetDepth(opts, gain, state.depthM, fromH, toH) : 0;
      const next: FloodState = {
        t: at.t,
        scenarioMs: at.scenarioMs,
        bucketMm: bucket - tips * RAIN_TIP_MM,
        depthM,
      };
      const fields: SimFields = { battery_v: round(battery(opts, at.t), 2) };
      if (opts.meta.type === 'street') {
        // Depth sensors read cm; a dry road reads 0.
        fields.water_level_m = depthM < 0.005 ? 0 : round(depthM, 2);
      } else {
        fields.rain_mm = round(tips * RAIN_TIP_MM, 1);
      }
      if (opts.meta.type === 'river') {
        const level = riverLevel(opts, at);
        if (opts.meta.datum_m !== undefined)
          fields.distance_m = round(Math.max(0, opts.meta.datum_m - level), 3);
        else fields.water_level_m = round(level, 3);
      }
      return { state: next, fields };
    },
  };
}

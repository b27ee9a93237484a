// Streetlight controller model (TALQ 2.7 measurements, docs/domain.md "Streetlights"): on from sunset to
// sunrise at the lamp's own location, full power until 22:00 then dimmed, with the faults rules look for.
import SunCalc from 'suncalc';
import { scheduleLevel, type ScheduleStep } from '../../devices/index.ts';
import { clamp, gaussAt, hashSeed, noiseSlot, round, smoothNoise, uniformAt } from './prng.ts';
import {
  CITY_STORY,
  HOUR_MS,
  localDay,
  localDayStart,
  localHour,
  type Model,
  type Scenario,
  type SimFields,
  type StoryRole,
  type SimInstant,
} from './time.ts';

export interface StreetlightMetaInput {
  readonly rated_w: number;
  readonly tolerance_pct: number;
}

export interface StreetlightOptions {
  readonly seed: number;
  readonly deviceId: string;
  readonly location: { readonly lat: number; readonly lon: number };
  readonly meta: StreetlightMetaInput;
  /** Dimming level after 22:00, %. Default 50: the region dims or switches lamps off after 22:00
   * (docs/hue-places.md, "Streetlights"). */
  readonly nightDimPct?: number;
  /** Chance that a lamp develops a fault on a given day. Default 0.01 (in the city story, 0.25 a day of
   * scenario time). */
  readonly faultsPerDay?: number;
  /** Default `normal`: faults come by the wall clock. In the city story they come by scenario time. */
  readonly scenario?: Scenario;
  /** Its part in the city story: the failed lamp, or the lamp stuck on and drawing too much. */
  readonly storyRole?: StoryRole | undefined;
  /** What the platform's commands have set (fleet-sim.ts changes it as they come); read at each reading. */
  readonly control?: LampControl;
}

/** A lamp's controller as the platform's commands leave it (devices/commands.ts). */
export interface LampControl {
  /** switch: on or off until told otherwise; auto follows the schedule. */
  switch: 'auto' | 'on' | 'off';
  /** set_dim: the level while the lamp is lit, until it is switched back to auto. */
  dimPct: number | undefined;
  /** schedule: the day's steps; without one, the lamp's own programme (dusk to dawn, dimmed from 22:00). */
  steps: readonly ScheduleStep[] | undefined;
}

export function newLampControl(): LampControl {
  return { switch: 'auto', dimPct: undefined, steps: undefined };
}

/**
 * Whether the lamp is lit and at what level, as its commands and its programme say. The city story's failed
 * lamp has a controller that answers but a driver that does not follow: it keeps its own programme.
 */
function controlled(opts: StreetlightOptions, t: number): { on: boolean; dimPct: number } {
  const c = opts.control;
  if (c === undefined || opts.storyRole === 'failed-lamp') return schedule(opts, t);
  if (c.switch === 'off') return { on: false, dimPct: 0 };
  if (c.switch === 'on') return { on: true, dimPct: c.dimPct ?? 100 };
  let base = schedule(opts, t);
  if (c.steps !== undefined) {
    const level = scheduleLevel(c.steps, t, opts.location, (at) => localDayStart(localDay(at)));
    base = { on: level > 0, dimPct: level };
  }
  return base.on && c.dimPct !== undefined ? { on: c.dimPct > 0, dimPct: c.dimPct } : base;
}

export type StreetlightFault = 'lamp_failure' | 'day_burning' | 'power_too_high';

/** Local hour from which lamps are dimmed (docs/hue-places.md: full power from dusk to about 22:00). */
export const DIM_FROM_HOUR = 22;

// Sunrise and sunset are when the sun's upper limb touches the horizon, refraction included: a centre
// altitude of −0.833° (the definition suncalc uses for its own `sunrise` and `sunset`).
const HORIZON_RAD = (-0.833 * Math.PI) / 180;

/** Whether the sun is down at `t` at this place. */
export function isSunDown(t: number, lat: number, lon: number): boolean {
  return SunCalc.getPosition(new Date(t), lat, lon).altitude < HORIZON_RAD;
}

/** The fault active on the lamp at `t`, if any: a pure function of the seed, the lamp and the time. */
export function activeFault(opts: StreetlightOptions, t: number): StreetlightFault | undefined {
  const s = hashSeed(opts.seed, opts.deviceId, 'fault');
  const perDay = opts.faultsPerDay ?? 0.01;
  const today = localDay(t);
  // A fault starts at a random hour and lasts 4–28 h (until a crew replaces the lamp or resets it).
  for (const day of [today - 1, today]) {
    if (uniformAt(s, day * 4) >= perDay) continue;
    const start = localDayStart(day) + 24 * uniformAt(s, day * 4 + 1) * HOUR_MS;
    const end = start + (4 + 24 * uniformAt(s, day * 4 + 2)) * HOUR_MS;
    if (t < start || t >= end) continue;
    const kind = uniformAt(s, day * 4 + 3);
    return kind < 0.45 ? 'lamp_failure' : kind < 0.8 ? 'day_burning' : 'power_too_high';
  }
  return undefined;
}

/** The fault of the lamp at an instant: by scenario time in the city story, by the wall clock otherwise. */
export function faultAt(opts: StreetlightOptions, at: SimInstant): StreetlightFault | undefined {
  if (opts.scenario !== 'city') return activeFault(opts, at.t);
  if (opts.storyRole === 'failed-lamp' && at.scenarioMs < CITY_STORY.failedLampUntilMs) return 'lamp_failure';
  return activeFault(
    { ...opts, faultsPerDay: opts.faultsPerDay ?? CITY_STORY.lampFaultsPerDay },
    at.scenarioMs,
  );
}

/** What the controller commands: on or off, and at what level. */
export function schedule(opts: StreetlightOptions, t: number): { on: boolean; dimPct: number } {
  const { lat, lon } = opts.location;
  if (!isSunDown(t, lat, lon)) return { on: false, dimPct: 0 };
  const hour = localHour(t);
  // After 22:00 and before dawn the lamp runs dimmed; the evening from sunset to 22:00 at full power.
  const dimmed = hour >= DIM_FROM_HOUR || hour < 12;
  return { on: true, dimPct: dimmed ? (opts.nightDimPct ?? 50) : 100 };
}

export interface StreetlightState {
  readonly t: number;
  readonly energyKwh: number;
  readonly powerW: number;
}

// The 2019–20 LED project (docs/hue-places.md): lamps counted from mid-2020, eight full-power hours a night
// on average (a few hours at full power, the rest dimmed), for a plausible starting meter reading.
const INSTALLED = Date.UTC(2020, 5, 1);
const FULL_POWER_HOURS_PER_DAY = 8;

function initialEnergy(opts: StreetlightOptions, t: number): number {
  const days = Math.max(0, (t - INSTALLED) / (24 * HOUR_MS));
  const spread = 0.9 + 0.2 * uniformAt(hashSeed(opts.seed, opts.deviceId, 'energy'), 0);
  return (opts.meta.rated_w * FULL_POWER_HOURS_PER_DAY * days * spread) / 1000;
}

function measure(opts: StreetlightOptions, at: SimInstant): SimFields {
  const { t } = at;
  const dev = hashSeed(opts.seed, opts.deviceId, 'measure');
  const sample = noiseSlot(t);
  const fault = faultAt(opts, at);
  // The city story's overdriven lamp: stuck on at full power (burning by day) and above its rating.
  const overdriven = opts.storyRole === 'overdriven-lamp' && at.scenarioMs < CITY_STORY.failedLampUntilMs;
  let { on, dimPct } = controlled(opts, t);
  if ((fault === 'day_burning' && !on) || overdriven) {
    on = true;
    dimPct = 100;
  }
  // Lamps on one feeder see the same supply: 220–230 V, drifting over half an hour.
  const voltage = clamp(
    225 + 5 * smoothNoise(hashSeed(opts.seed, 'supply'), t, HOUR_MS / 2) + 0.5 * gaussAt(dev, sample * 4),
    215,
    235,
  );
  let power = on ? opts.meta.rated_w * (dimPct / 100) * (1 + 0.01 * gaussAt(dev, sample * 4 + 1)) : 0;
  if (on && fault === 'lamp_failure') power = 0.3 + 0.4 * uniformAt(dev, sample); // driver standby only
  if (on && (fault === 'power_too_high' || overdriven))
    power *= 1 + opts.meta.tolerance_pct / 100 + 0.1 + 0.2 * uniformAt(dev, 1);
  const fields: SimFields = {
    lamp_on: on,
    dim_pct: on ? dimPct : 0,
    power_w: round(power, 1),
    voltage_v: round(voltage, 1),
  };
  if (power >= 1) {
    // LED drivers: power factor about 0.96–0.98 at full load, lower when dimmed (0.9–0.98 overall).
    const pf = clamp(
      0.98 - 0.08 * (1 - dimPct / 100) - 0.01 * uniformAt(dev, 2) + 0.003 * gaussAt(dev, sample * 4 + 2),
      0.9,
      0.98,
    );
    fields.power_factor = round(pf, 3);
    fields.current_a = round(power / (voltage * pf), 3);
  } else {
    fields.current_a = round(power / voltage, 3);
  }
  return fields;
}

export function createStreetlightModel(opts: StreetlightOptions): Model<StreetlightState> {
  return {
    initial: (at: SimInstant) => {
      const first = measure(opts, at);
      return { t: at.t, energyKwh: initialEnergy(opts, at.t), powerW: Number(first.power_w) };
    },
    step(state, at) {
      const fields = measure(opts, at);
      const powerW = Number(fields.power_w);
      // Trapezoid between the two readings: the meter counts continuously, the model samples.
      const hours = Math.max(0, at.t - state.t) / HOUR_MS;
      const energyKwh = state.energyKwh + (((state.powerW + powerW) / 2) * hours) / 1000;
      fields.energy_kwh = round(energyKwh, 3);
      return { state: { t: at.t, energyKwh, powerW }, fields };
    },
  };
}

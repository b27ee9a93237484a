// Commands to devices, the downlink half of the contract (docs/commands.md): each type with the kinds that
// take it and a zod schema of its parameters, the message a device receives on
// `<prefix>/<kind>/<id>/commands` and the answer it sends on `…/commands/ack`. Checked here, before anything
// is stored or sent, so a bad command is refused with its field and reason.
//
// Streetlights take TALQ's light commands: a dimming level, a switch (on, off, or back to its programme),
// and a programme (TALQ calls it a switching profile) of steps by time of day or by the sun's altitude, as
// astronomical clocks do. Flood gauges take a reporting interval: every minute when a river rises, every
// ten at rest. Every kind takes reboot and ping.
import { z } from 'zod';
import { KINDS, type Kind } from './kinds.ts';
import { sunAltitudeDeg } from './sun.ts';

export const COMMAND_TYPES = ['set_dim', 'switch', 'schedule', 'set_interval', 'reboot', 'ping'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

const Level = z.number().int().min(0).max(100).describe('light output, percent of full');
/** Local time in the city's time zone, 24-hour: 22:00. */
const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM, such as 22:00');
/** When the sun crosses an altitude: −0.833° is sunrise and sunset, −6° civil twilight. */
const SunCrossing = z.strictObject({
  sun_altitude_deg: z.number().min(-18).max(60),
  direction: z.enum(['rising', 'setting']),
});
const Step = z.strictObject({
  from: z.union([ClockTime, SunCrossing]).describe('when the step starts: HH:MM, or a sun crossing'),
  level_pct: Level,
});
export type ScheduleStep = z.infer<typeof Step>;

export const COMMAND_PARAMS = {
  set_dim: z.strictObject({ level_pct: Level }),
  switch: z.strictObject({
    state: z
      .enum(['on', 'off', 'auto'])
      .describe('on or off until told otherwise; auto: back to its schedule'),
  }),
  schedule: z.strictObject({
    steps: z
      .array(Step)
      .min(1)
      .max(12)
      .describe("the day's steps; the lamp keeps the level of the step that started last"),
  }),
  set_interval: z.strictObject({ seconds: z.number().int().min(10).max(86_400) }),
  reboot: z.strictObject({}),
  ping: z.strictObject({}),
} as const satisfies Record<CommandType, z.ZodType>;

/** Which kinds take which command. */
export const COMMAND_KINDS: Readonly<Record<CommandType, readonly Kind[]>> = {
  set_dim: ['streetlight'],
  switch: ['streetlight'],
  schedule: ['streetlight'],
  set_interval: ['flood'],
  reboot: KINDS,
  ping: KINDS,
};

/** A command as asked for: its type and parameters, checked against each other. */
export const CommandSpec = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('set_dim'), params: COMMAND_PARAMS.set_dim }),
  z.strictObject({ type: z.literal('switch'), params: COMMAND_PARAMS.switch }),
  z.strictObject({ type: z.literal('schedule'), params: COMMAND_PARAMS.schedule }),
  z.strictObject({ type: z.literal('set_interval'), params: COMMAND_PARAMS.set_interval }),
  z.strictObject({ type: z.literal('reboot'), params: COMMAND_PARAMS.reboot.default({}) }),
  z.strictObject({ type: z.literal('ping'), params: COMMAND_PARAMS.ping.default({}) }),
]);
export type CommandSpec = z.infer<typeof CommandSpec>;

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** How long a command may wait for a device that is away, as the API, the CLI and a rule write it. */
export const CommandExpiry = z.string().regex(DURATION, 'a duration such as 90s, 10m, 1h or 2d');

/** A CommandExpiry in milliseconds. */
export function expiryMs(text: string): number {
  const m = DURATION.exec(text);
  if (m === null) throw new RangeError(`not a duration: ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** What a device receives on its commands topic (QoS 1). A device acts on an id once: it may come twice. */
export interface CommandMessage {
  readonly id: number;
  readonly type: CommandType;
  readonly params: CommandSpec['params'];
  /** RFC 3339; a device receiving it later does not act on it. */
  readonly expires_at: string;
}

/** What a device (or its gateway) answers on `…/commands/ack`. */
export const CommandAck = z.strictObject({
  id: z.number().int().positive(),
  result: z.enum(['done', 'refused']),
  reason: z.string().min(1).max(500).optional().describe('why a command was refused, in the device’s words'),
});
export type CommandAck = z.infer<typeof CommandAck>;

/** What a reading must show after a command, and when a reading can show it at all. */
export interface ExpectedReading {
  readonly field: string;
  readonly value: number | boolean;
  /** Only readings with this field at this value count: a lamp off by day shows no dim level. */
  readonly when?: { readonly field: string; readonly value: number | boolean };
}

/**
 * The reading that shows a command carried out (TALQ's "command not executed" check): after set_dim 40 the
 * lamp's next reading while lit should say dim_pct 40; after switch off, lamp_on false. Undefined when no
 * reading shows it.
 */
export function expectedReading(spec: CommandSpec): ExpectedReading | undefined {
  if (spec.type === 'set_dim')
    return { field: 'dim_pct', value: spec.params.level_pct, when: { field: 'lamp_on', value: true } };
  if (spec.type === 'switch' && spec.params.state !== 'auto')
    return { field: 'lamp_on', value: spec.params.state === 'on' };
  return undefined;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Crossings found, by day, altitude, direction and place to 0.01° (a kilometre: seconds of sun time). */
const crossings = new Map<string, number | undefined>();

function sunCrossing(
  from: number,
  altitude: number,
  direction: 'rising' | 'setting',
  place: { readonly lat: number; readonly lon: number },
): number | undefined {
  const key = `${from}|${altitude}|${direction}|${place.lat.toFixed(2)}|${place.lon.toFixed(2)}`;
  if (crossings.has(key)) return crossings.get(key);
  if (crossings.size > 10_000) crossings.clear();
  const found = findSunCrossing(from, altitude, direction, place);
  crossings.set(key, found);
  return found;
}

/**
 * When the sun crosses `altitude` in the given direction within [from, from + 1 day), ms; undefined when it
 * does not that day (a polar day or night, or an altitude it never reaches). Ten-minute steps, then halving.
 */
function findSunCrossing(
  from: number,
  altitude: number,
  direction: 'rising' | 'setting',
  place: { readonly lat: number; readonly lon: number },
): number | undefined {
  const above = (t: number) => sunAltitudeDeg(t, place.lat, place.lon) >= altitude;
  let before = above(from);
  for (let t = from + 10 * MINUTE_MS; t <= from + DAY_MS; t += 10 * MINUTE_MS) {
    const now = above(t);
    if (now !== before && now === (direction === 'rising')) {
      let lo = t - 10 * MINUTE_MS;
      let hi = t;
      while (hi - lo > 1000) {
        const mid = (lo + hi) / 2;
        if (above(mid) === now) hi = mid;
        else lo = mid;
      }
      return Math.round(hi);
    }
    before = now;
  }
  return undefined;
}

/**
 * The level a schedule gives at `t` (what a lamp on `auto` does): the level of the step that started
 * last, today's steps or, before the first of them, yesterday's. `dayStart` is the start of the local day
 * holding a time (the city's midnight), where clock times are counted from.
 */
export function scheduleLevel(
  steps: readonly ScheduleStep[],
  t: number,
  place: { readonly lat: number; readonly lon: number },
  dayStart: (t: number) => number,
): number {
  let best: { at: number; level: number } | undefined;
  for (const day of [dayStart(t) - DAY_MS, dayStart(t)]) {
    for (const step of steps) {
      const at =
        typeof step.from === 'string'
          ? day + Number(step.from.slice(0, 2)) * 3_600_000 + Number(step.from.slice(3)) * MINUTE_MS
          : sunCrossing(day, step.from.sun_altitude_deg, step.from.direction, place);
      if (at !== undefined && at <= t && (best === undefined || at >= best.at))
        best = { at, level: step.level_pct };
    }
  }
  return best?.level ?? 0;
}

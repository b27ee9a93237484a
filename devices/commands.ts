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

/**
 * The reading that shows a command carried out (TALQ's "command not executed" check): after set_dim 40 the
 * lamp's next reading should say dim_pct 40; after switch off, lamp_on false. Undefined when no reading
 * shows it.
 */
export function expectedReading(spec: CommandSpec): { field: string; value: number | boolean } | undefined {
  if (spec.type === 'set_dim') return { field: 'dim_pct', value: spec.params.level_pct };
  if (spec.type === 'switch' && spec.params.state !== 'auto')
    return { field: 'lamp_on', value: spec.params.state === 'on' };
  return undefined;
}

// Absence: no reading from a device for `for`. It fires on a tick, when no message arrives at all, and
// once per silence: the alert stays open until a reading newer than the last one before the silence
// arrives. A backfilled older reading (a gateway emptying its buffer) does not end the silence, and a new
// silence needs a full `for` again. Time is the reading's own (device clock, or receive time without
// `ts`); ingest refuses clocks more than 5 minutes ahead, and a clock that lags adds its lag here.
import { z } from 'zod';
import type { Reading } from '../../devices/index.ts';
import type { AbsenceCondition } from '../schema.ts';
import type { EvalContext, EvalRule, Step } from './types.ts';

export const AbsenceState = z.strictObject({
  type: z.literal('absence'),
  v: z.literal(1),
  /** The latest reading's time, or when watching began (a device never heard from is silent too). */
  lastSeen: z.number(),
  raised: z.boolean(),
});
export type AbsenceState = z.infer<typeof AbsenceState>;

/** `now`: when the engine starts watching the device. */
export const absenceInit = (now: number): AbsenceState => ({
  type: 'absence',
  v: 1,
  lastSeen: now,
  raised: false,
});

export function absenceReading(
  rule: EvalRule<AbsenceCondition>,
  state: AbsenceState,
  reading: Reading,
  _ctx: EvalContext,
): Step<AbsenceState> {
  if (reading.time <= state.lastSeen) return { state };
  const next: AbsenceState = { type: 'absence', v: 1, lastSeen: reading.time, raised: false };
  if (!state.raised) return { state: next };
  return {
    state: next,
    transition: {
      type: 'clear',
      severity: rule.severity,
      value: reading.time - state.lastSeen,
      threshold: rule.condition.for,
      level: 1,
      at: reading.time,
    },
  };
}

export function absenceTick(
  rule: EvalRule<AbsenceCondition>,
  state: AbsenceState,
  now: number,
  _ctx: EvalContext,
): Step<AbsenceState> {
  const silent = now - state.lastSeen;
  if (state.raised || silent < rule.condition.for) return { state };
  return {
    state: { type: 'absence', v: 1, lastSeen: state.lastSeen, raised: true },
    transition: {
      type: 'raise',
      severity: rule.severity,
      value: silent,
      threshold: rule.condition.for,
      level: 1,
      at: now,
    },
  };
}

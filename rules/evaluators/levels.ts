// The level machine every comparing condition shares (threshold, rate, window, and the AQI later): sustain
// timers, hysteresis and escalation, for one (rule, device). A value hovering around a limit raises one
// alert: once raised, only the clear condition (by default the raise's negation, ideally a lower limit)
// ends it, and while the raise condition holds nothing clears. Escalation only goes up while the alert is
// open; the alert clears as a whole when the value clears the rule's own (first) level, so a flood that
// passed alarm 3 stays one alert at its highest severity until the river is back under alarm 1.
import { z } from 'zod';
import type { Op } from '../schema.ts';
import type { Severity } from '../../alerts/index.ts';
import type { Step, Transition } from './types.ts';
import { compare } from './values.ts';

/** One level, resolved for a device: index 0 is the rule's own, then its `escalate` entries in order. */
export interface Limit {
  readonly op: Op;
  readonly value: number;
  readonly severity: Severity;
}

export interface ClearLimit {
  readonly op: Op;
  readonly value: number;
  /** How long the clear must hold, ms (0: at once). */
  readonly forMs: number;
}

export const MAX_LEVELS = 6;

export const LevelState = z.strictObject({
  /** 0: no alert; k: open at `limits[k - 1]`. */
  level: z.number().int().min(0).max(MAX_LEVELS),
  /** Per level, when the current unbroken run of readings beyond its limit began; null: not beyond it. */
  since: z.array(z.number().nullable()).max(MAX_LEVELS),
  /** When the current unbroken run of readings meeting the clear began. */
  clearSince: z.number().nullable(),
});
export type LevelState = z.infer<typeof LevelState>;

export const idleLevels = (): LevelState => ({ level: 0, since: [], clearSince: null });

/**
 * Each level's run start after an observation: `st.since` itself (the same array) when no run began or
 * ended, so a step that changes nothing allocates nothing.
 */
function runsOf(
  st: LevelState,
  t: number,
  x: number,
  guard: boolean,
  limits: readonly Limit[],
): (number | null)[] {
  const old = st.since;
  let since: (number | null)[] | undefined = old.length === limits.length ? undefined : [];
  for (let i = 0; i < limits.length; i++) {
    const lim = limits[i]!;
    const s = guard && compare(x, lim.op, lim.value) ? (old[i] ?? t) : null;
    if (since === undefined) {
      if (s === old[i]) continue;
      since = old.slice(0, i);
    }
    since.push(s);
  }
  return since ?? old;
}

/** The transition into level `i + 1` (`limits[i]`'s). */
const leveled = (type: 'raise' | 'escalate', lim: Limit, x: number, i: number, t: number): Transition => ({
  type,
  severity: lim.severity,
  value: x,
  threshold: lim.value,
  level: i + 1,
  at: t,
});

/**
 * One observation `x` at time `t`. `guard` false means the rule's precondition does not hold (a lamp that
 * is switched off cannot have failed to light): nothing can be raised, and an open alert clears. The
 * state given comes back itself when the observation changes nothing (the engine saves only the states
 * that changed), and is never modified.
 */
export function stepLevels(
  st: LevelState,
  t: number,
  x: number,
  guard: boolean,
  limits: readonly Limit[],
  clear: ClearLimit,
  forMs: number,
): Step<LevelState> {
  const since = runsOf(st, t, x, guard, limits);
  // The highest level whose run has lasted `for`; a level only counts when every level below it does.
  let reached = -1;
  for (let i = 0; i < limits.length; i++) {
    const s = since[i];
    if (s === null || s === undefined || t - s < forMs) break;
    reached = i;
  }
  if (st.level === 0) {
    if (reached >= 0)
      return {
        state: { level: reached + 1, since, clearSince: null },
        transition: leveled('raise', limits[reached]!, x, reached, t),
      };
    if (since === st.since && st.clearSince === null) return { state: st };
    return { state: { level: 0, since, clearSince: null } };
  }
  const clearing = !guard || (since[0] === null && compare(x, clear.op, clear.value));
  const clearSince = clearing ? (st.clearSince ?? t) : null;
  if (clearSince !== null && t - clearSince >= clear.forMs) {
    const open = limits[Math.min(st.level, limits.length) - 1] ?? limits[0]!;
    return {
      state: idleLevels(),
      transition: {
        type: 'clear',
        severity: open.severity,
        value: x,
        threshold: clear.value,
        level: st.level,
        at: t,
      },
    };
  }
  if (reached + 1 > st.level) {
    return {
      state: { level: reached + 1, since, clearSince },
      transition: leveled('escalate', limits[reached]!, x, reached, t),
    };
  }
  if (since === st.since && clearSince === st.clearSince) return { state: st };
  return { state: { level: st.level, since, clearSince } };
}

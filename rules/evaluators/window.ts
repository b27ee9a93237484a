// Windowed aggregate of one field: PM2.5 24-hour mean above 50 µg/m³ (QCVN 05:2023/BTNMT), rain summed
// over 1 h. The window is bounded (buckets.ts); the aggregate then goes through the level machine, so it
// has hysteresis and escalation like a threshold. Ticks re-evaluate as old samples leave the window, so
// a rain alert clears once the storm's hour has passed even between two reports. An empty window has no
// mean, sum, min or max (no data is not "no rain"): nothing changes until samples arrive; the absence
// rule is what reports a silent gauge. `count` of an empty window is 0.
import { z } from 'zod';
import type { Reading } from '../../devices/index.ts';
import type { WindowCondition } from '../schema.ts';
import { addSample, bucketCount, Buckets, evict, summarize, type Bucket } from './buckets.ts';
import { idleLevels, LevelState, stepLevels } from './levels.ts';
import { levelsFor } from './threshold.ts';
import type { EvalContext, EvalRule, Step } from './types.ts';

export const WindowState = z.strictObject({
  type: z.literal('window'),
  v: z.literal(1),
  /** The latest time seen by a reading or by a tick that changed the state: the window ends there. */
  now: z.number().nullable(),
  buckets: Buckets,
  levels: LevelState,
});
export type WindowState = z.infer<typeof WindowState>;

export const windowInit = (): WindowState => ({
  type: 'window',
  v: 1,
  now: null,
  buckets: [],
  levels: idleLevels(),
});

/**
 * A sum of binary fractions without its rounding noise: 250 rain tips of 0.2 mm add up to
 * 50.00000000000001, which is above 50 mm; to nine decimals it is 50.
 */
function unNoised(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

/** The aggregate over the buckets; `undefined` when it has no value (no samples, or too few buckets). */
export function aggregate(
  c: Pick<WindowCondition, 'aggregate' | 'over' | 'resolution' | 'min_coverage'>,
  buckets: readonly Bucket[],
): number | undefined {
  const s = summarize(buckets);
  if (s.filled < c.min_coverage * bucketCount(c)) return undefined;
  if (c.aggregate === 'count') return s.n;
  if (s.n === 0) return undefined;
  switch (c.aggregate) {
    case 'mean':
      return unNoised(s.sum / s.n);
    case 'sum':
      return unNoised(s.sum);
    case 'min':
      return s.min;
    case 'max':
      return s.max;
  }
}

/**
 * Steps the levels with the aggregate of `buckets` at `now`. The state given comes back itself when
 * neither the buckets nor the levels changed and `now` is not later: a tick that lets no sample go and
 * changes no level is not recorded, and the window then ends at the latest time that changed it.
 */
function evaluate(
  rule: EvalRule<WindowCondition>,
  state: WindowState,
  buckets: readonly Bucket[],
  now: number,
  ctx: EvalContext,
  tick: boolean,
): Step<WindowState> {
  const x = aggregate(rule.condition, buckets);
  const resolved = levelsFor(rule.condition, rule.severity, ctx);
  const step =
    x === undefined || resolved === undefined
      ? undefined
      : stepLevels(state.levels, now, x, true, resolved.limits, resolved.clear, 0);
  const levels = step?.state ?? state.levels;
  if (buckets === state.buckets && levels === state.levels && (tick || now === state.now)) return { state };
  const next: WindowState = { type: 'window', v: 1, now, buckets, levels };
  return step?.transition === undefined ? { state: next } : { state: next, transition: step.transition };
}

/** Adds the reading's value; a late reading still inside the window counts, one outside it does not. */
export function windowReading(
  rule: EvalRule<WindowCondition>,
  state: WindowState,
  reading: Reading,
  ctx: EvalContext,
): Step<WindowState> {
  const c = rule.condition;
  const x = reading.fields[c.field];
  if (typeof x !== 'number') return { state };
  const now = Math.max(state.now ?? reading.time, reading.time);
  return evaluate(rule, state, addSample(state.buckets, reading.time, x, c, now), now, ctx, false);
}

export function windowTick(
  rule: EvalRule<WindowCondition>,
  state: WindowState,
  now: number,
  ctx: EvalContext,
): Step<WindowState> {
  if (state.now !== null && now <= state.now) return { state };
  return evaluate(rule, state, evict(state.buckets, now, rule.condition), now, ctx, true);
}

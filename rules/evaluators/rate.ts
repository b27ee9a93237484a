// Rate of change of one field: the river rising at least 0.3 m within 1 h (docs/domain.md: upstream basins
// rise 0.3–0.7 m/h; Phú Ốc rose 0.91 m in 8 h). The change is the latest value against the lowest (for
// `rise`) or highest (for `fall`) value still inside the window, so a steady climb is seen however often
// the gauge reports. The window is bounded (buckets.ts); the change goes through the level machine, and
// clears when it drops under `clear_below` (default: the rise itself).
import { z } from 'zod';
import type { Reading } from '../../devices/index.ts';
import type { RateCondition } from '../schema.ts';
import type { Severity } from '../../alerts/index.ts';
import {
  addSample,
  Buckets,
  BUCKETS_PER_WINDOW,
  evict,
  summarize,
  type Bucket,
  type Span,
} from './buckets.ts';
import { idleLevels, LevelState, stepLevels, type ClearLimit, type Limit } from './levels.ts';
import type { EvalContext, EvalRule, Step } from './types.ts';

export const RateState = z.strictObject({
  type: z.literal('rate'),
  v: z.literal(1),
  /** The latest reading's time and value: the change is measured to it. */
  latest: z.strictObject({ t: z.number(), x: z.number() }).nullable(),
  /** The latest time seen by a reading or by a tick that let values go. */
  now: z.number().nullable(),
  buckets: Buckets,
  levels: LevelState,
});
export type RateState = z.infer<typeof RateState>;

export const rateInit = (): RateState => ({
  type: 'rate',
  v: 1,
  latest: null,
  now: null,
  buckets: [],
  levels: idleLevels(),
});

const span = (c: RateCondition): Span => ({ over: c.within, resolution: BUCKETS_PER_WINDOW });

/** Rise (or fall) from the window's extreme to `x`, never negative. */
export function change(
  c: Pick<RateCondition, 'rise' | 'fall'>,
  buckets: readonly Bucket[],
  x: number,
): number {
  const s = summarize(buckets);
  if (s.n === 0) return 0;
  return Math.max(0, c.rise !== undefined ? x - s.min : s.max - x);
}

/** The rule's one level and its clear: built once per condition (and severity), as they read no metadata. */
const levelsCache = new WeakMap<RateCondition, { severity: Severity; limits: Limit[]; clear: ClearLimit }>();
function levelsOf(rule: EvalRule<RateCondition>): { limits: readonly Limit[]; clear: ClearLimit } {
  const c = rule.condition;
  const hit = levelsCache.get(c);
  if (hit !== undefined && hit.severity === rule.severity) return hit;
  const amount = c.rise ?? c.fall ?? 0;
  const made = {
    severity: rule.severity,
    limits: [{ op: '>=' as const, value: amount, severity: rule.severity }],
    clear: { op: '<' as const, value: c.clear_below ?? amount, forMs: 0 },
  };
  levelsCache.set(c, made);
  return made;
}

/** Steps the levels with the change to the latest value; `next` is the state with the new buckets. */
function evaluate(
  rule: EvalRule<RateCondition>,
  state: RateState,
  next: RateState,
  now: number,
): Step<RateState> {
  if (next.latest === null) return { state: next };
  const x = change(rule.condition, next.buckets, next.latest.x);
  const { limits, clear } = levelsOf(rule);
  const step = stepLevels(state.levels, now, x, true, limits, clear, 0);
  if (step.state === next.levels) return { state: next };
  const out: RateState = {
    type: 'rate',
    v: 1,
    latest: next.latest,
    now,
    buckets: next.buckets,
    levels: step.state,
  };
  return step.transition === undefined ? { state: out } : { state: out, transition: step.transition };
}

/** Readings older than the latest one are ignored: the change is measured forwards in time. */
export function rateReading(
  rule: EvalRule<RateCondition>,
  state: RateState,
  reading: Reading,
  _ctx: EvalContext,
): Step<RateState> {
  const c = rule.condition;
  const x = reading.fields[c.field];
  if (typeof x !== 'number' || (state.latest !== null && reading.time < state.latest.t)) return { state };
  const now = Math.max(state.now ?? reading.time, reading.time);
  const buckets = addSample(state.buckets, reading.time, x, span(c), now);
  const latest = { t: reading.time, x };
  return evaluate(rule, state, { type: 'rate', v: 1, latest, now, buckets, levels: state.levels }, now);
}

/**
 * As time passes the oldest values leave the window, and a rise that is no longer recent clears. A tick
 * that lets no value go changes nothing (the change is the same) and gives the same state back; the
 * window then ends at the latest time that changed it.
 */
export function rateTick(
  rule: EvalRule<RateCondition>,
  state: RateState,
  now: number,
  _ctx: EvalContext,
): Step<RateState> {
  if (state.now !== null && now <= state.now) return { state };
  const buckets = evict(state.buckets, now, span(rule.condition));
  if (buckets === state.buckets) return { state };
  return evaluate(
    rule,
    state,
    { type: 'rate', v: 1, latest: state.latest, now, buckets, levels: state.levels },
    now,
  );
}

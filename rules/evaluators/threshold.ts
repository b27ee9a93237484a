// Threshold on one field of each reading: `water_level_m >= $meta.alarm_levels_m[0]`, with an optional
// sustain (`for`), a separate clear (hysteresis), escalation levels and guards (`when: lamp_on == true`).
// It acts on evidence only: a sustain completes on the first reading after `for` has passed, never on a
// tick, because a device that went silent has not shown that the condition still holds.
import { z } from 'zod';
import type { Reading } from '../../devices/index.ts';
import type { Op, ThresholdCondition, ValueRef, WindowCondition } from '../schema.ts';
import type { Severity } from '../../alerts/index.ts';
import { idleLevels, LevelState, stepLevels, type ClearLimit, type Limit } from './levels.ts';
import type { EvalContext, EvalRule, Step } from './types.ts';
import { guardsHold, negate, resolveValue } from './values.ts';

export const ThresholdState = z.strictObject({
  type: z.literal('threshold'),
  v: z.literal(1),
  /** Time of the latest reading used; an older one arriving later is ignored (sustain needs order). */
  last: z.number().nullable(),
  levels: LevelState,
});
export type ThresholdState = z.infer<typeof ThresholdState>;

export const thresholdInit = (): ThresholdState => ({
  type: 'threshold',
  v: 1,
  last: null,
  levels: idleLevels(),
});

type Leveled = Pick<ThresholdCondition | WindowCondition, 'op' | 'value' | 'escalate'> & {
  readonly clear?: { readonly op: Op; readonly value: ValueRef; readonly for?: number };
};

/** The condition's levels and clear for one device; `undefined` when its metadata lacks a value. */
export function resolveLevels(
  c: Leveled,
  severity: Severity,
  ctx: EvalContext,
): { limits: Limit[]; clear: ClearLimit } | undefined {
  const entries = [{ value: c.value, severity }, ...(c.escalate ?? [])];
  const limits: Limit[] = [];
  for (const e of entries) {
    const value = resolveValue(e.value, ctx.meta);
    if (value === undefined) return undefined;
    limits.push({ op: c.op, value, severity: e.severity });
  }
  const base = limits[0]!;
  if (c.clear === undefined) return { limits, clear: { op: negate(c.op), value: base.value, forMs: 0 } };
  const value = resolveValue(c.clear.value, ctx.meta);
  if (value === undefined) return undefined;
  return { limits, clear: { op: c.clear.op, value, forMs: c.clear.for ?? 0 } };
}

export interface ResolvedLevels {
  readonly limits: readonly Limit[];
  readonly clear: ClearLimit;
}

// Resolved levels per condition and metadata object: resolving allocates, and a rule's levels for a
// device change only with its registry record, which the engine replaces (never changes in place) when
// the record changes. Weak keys: a reloaded rule or a new record drops its entries with it.
const resolvedCache = new WeakMap<
  object,
  WeakMap<object, { severity: Severity; resolved?: ResolvedLevels }>
>();

/** `resolveLevels`, computed once per (condition, metadata object, severity) and shared: do not change. */
export function levelsFor(c: Leveled, severity: Severity, ctx: EvalContext): ResolvedLevels | undefined {
  let byMeta = resolvedCache.get(c);
  if (byMeta === undefined) {
    byMeta = new WeakMap();
    resolvedCache.set(c, byMeta);
  }
  const hit = byMeta.get(ctx.meta);
  if (hit !== undefined && hit.severity === severity) return hit.resolved;
  const resolved = resolveLevels(c, severity, ctx);
  byMeta.set(ctx.meta, resolved === undefined ? { severity } : { severity, resolved });
  return resolved;
}

/** A reading older than the latest one used, or without the field or a guarded field, changes nothing
 * (the same state comes back). */
export function thresholdReading(
  rule: EvalRule<ThresholdCondition>,
  state: ThresholdState,
  reading: Reading,
  ctx: EvalContext,
): Step<ThresholdState> {
  const c = rule.condition;
  const x = reading.fields[c.field];
  if (typeof x !== 'number' || (state.last !== null && reading.time < state.last)) return { state };
  const guard = guardsHold(c.when, reading.fields);
  const resolved = levelsFor(c, rule.severity, ctx);
  if (guard === undefined || resolved === undefined) return { state };
  const step = stepLevels(state.levels, reading.time, x, guard, resolved.limits, resolved.clear, c.for ?? 0);
  if (step.state === state.levels && reading.time === state.last) return { state };
  const next: ThresholdState = { type: 'threshold', v: 1, last: reading.time, levels: step.state };
  return step.transition === undefined ? { state: next } : { state: next, transition: step.transition };
}

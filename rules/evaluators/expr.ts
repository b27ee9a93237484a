// A custom condition in CEL (rules/cel.ts compiles it), run by @bufbuild/cel, never by eval
// (docs/architecture.md, decision 6): `fields.lamp_on == true && sun.altitude_deg > 0.0`. It goes through
// the same level machine as a threshold (levels.ts): the raise holding counts as 1, the clear holding
// (or, with no clear, the raise not holding) as −1, neither as 0. An expression that fails at run time (a
// field the reading lacks) or yields no boolean is no evidence: the state is left as it was, as a
// threshold leaves it on a reading without its field.
import type { CelInput } from '@bufbuild/cel';
import { z } from 'zod';
import { sunPosition, type Reading } from '../../devices/index.ts';
import { compileExpr, type CompiledExpr } from '../cel.ts';
import type { ExprCondition } from '../schema.ts';
import { idleLevels, LevelState, stepLevels, type ClearLimit, type Limit } from './levels.ts';
import type { EvalContext, EvalRule, Step } from './types.ts';

// ---- evaluating ----

export const ExprState = z.strictObject({
  type: z.literal('expr'),
  v: z.literal(1),
  /** Time of the latest reading used; an older one arriving later is ignored (sustain needs order). */
  last: z.number().nullable(),
  levels: LevelState,
});
export type ExprState = z.infer<typeof ExprState>;

export const exprInit = (): ExprState => ({ type: 'expr', v: 1, last: null, levels: idleLevels() });

// The observation the level machine compares: 1 raises, −1 clears, 0 does neither.
const CLEARED: ClearLimit = { op: '<=', value: -1, forMs: 0 };

/**
 * One reading. The transition's `value` is 1 on a raise (the expression held) and 0 on a clear, its
 * `threshold` 1: an expression has no single measured value, and the engine shows none for expr alerts.
 */
export function exprReading(
  rule: EvalRule<ExprCondition>,
  state: ExprState,
  reading: Reading,
  ctx: EvalContext,
): Step<ExprState> {
  if (state.last !== null && reading.time < state.last) return { state };
  const c = rule.condition;
  const x = observe(c, state.levels.level > 0, reading, ctx);
  if (x === undefined) return { state };
  const limits: Limit[] = [{ op: '>=', value: 1, severity: rule.severity }];
  const step = stepLevels(state.levels, reading.time, x, true, limits, CLEARED, c.for ?? 0);
  const t = step.transition;
  return {
    state: { ...state, last: reading.time, levels: step.state },
    transition: t && { ...t, value: t.type === 'clear' ? 0 : 1, threshold: 1 },
  };
}

/** 1, −1 or 0 for the reading; `undefined` when the raise expression gives no answer. The clear is only
 * asked while an alert is open and the raise does not hold; a clear that fails counts as not holding. */
function observe(c: ExprCondition, open: boolean, reading: Reading, ctx: EvalContext): number | undefined {
  const raise = compileExpr(c.expr);
  const clear = c.clear === undefined ? undefined : compileExpr(c.clear);
  const bindings = bind(reading, ctx, raise.usesSun || clear?.usesSun === true);
  const held = holds(raise, bindings);
  if (held === undefined) return undefined;
  if (held) return 1;
  if (!open) return 0;
  if (clear === undefined) return -1;
  return holds(clear, bindings) === true ? -1 : 0;
}

type Bindings = Record<string, CelInput>;

function holds(c: CompiledExpr, bindings: Bindings): boolean | undefined {
  const result = c.program?.(bindings);
  return typeof result === 'boolean' ? result : undefined;
}

function bind(reading: Reading, ctx: EvalContext, withSun: boolean): Bindings {
  const bindings: Bindings = { fields: reading.fields, meta: metaInput(ctx.meta) };
  if (withSun && ctx.location !== undefined)
    bindings['sun'] = { ...sunPosition(reading.time, ctx.location.lat, ctx.location.lon) };
  return bindings;
}

// The same metadata object comes with every reading of a device: converted once.
const metaInputs = new WeakMap<object, CelInput>();

function metaInput(meta: Readonly<Record<string, unknown>>): CelInput {
  let input = metaInputs.get(meta);
  if (input === undefined) {
    input = toCel(meta);
    metaInputs.set(meta, input);
  }
  return input;
}

/** JSON as CEL input; anything else (a function, undefined) becomes null rather than a value CEL rejects. */
function toCel(v: unknown): CelInput {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(toCel);
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  return null;
}

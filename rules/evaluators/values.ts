// Turning a rule's value references into numbers for one device, and comparing. A reference the device's
// metadata cannot satisfy (a gauge with no alarm levels) resolves to `undefined`: the rule does not apply
// to that device, and the engine reports it instead of comparing against a made-up number.
import type { FieldValue } from '../../devices/index.ts';
import type { Guard, Op, Operand, ValueRef } from '../schema.ts';

export function compare(x: number, op: Op, limit: number): boolean {
  switch (op) {
    case '>':
      return x > limit;
    case '>=':
      return x >= limit;
    case '<':
      return x < limit;
    case '<=':
      return x <= limit;
  }
}

/** The condition that holds exactly when `op` does not: the default clear of a threshold. */
export function negate(op: Op): Op {
  const opposite = { '>': '<=', '>=': '<', '<': '>=', '<=': '>' } as const;
  return opposite[op];
}

function operand(ref: Operand, meta: Readonly<Record<string, unknown>>): number | undefined {
  if (typeof ref === 'number') return ref;
  const raw = Object.hasOwn(meta, ref.meta) ? meta[ref.meta] : undefined;
  const v: unknown =
    ref.index === undefined ? raw : Array.isArray(raw) ? (raw[ref.index] as unknown) : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function resolveValue(ref: ValueRef, meta: Readonly<Record<string, unknown>>): number | undefined {
  if (typeof ref === 'number' || 'meta' in ref) return operand(ref, meta);
  const of = operand(ref.of, meta);
  const plus = ref.plus_pct === undefined ? undefined : operand(ref.plus_pct, meta);
  const minus = ref.minus_pct === undefined ? undefined : operand(ref.minus_pct, meta);
  if (of === undefined) return undefined;
  // (100 ± p) / 100 rather than 1 ± p/100: 150 W at minus 95 % is 7.5 W exactly, not 7.500000000000007.
  if (plus !== undefined) return (of * (100 + plus)) / 100;
  if (minus !== undefined) return (of * (100 - minus)) / 100;
  return undefined;
}

/** Whether every guard holds on the reading; `undefined` when a guarded field is missing (no evidence). */
export function guardsHold(
  guards: readonly Guard[] | undefined,
  fields: Readonly<Record<string, FieldValue>>,
): boolean | undefined {
  if (guards === undefined) return true;
  let all = true;
  for (const g of guards) {
    const v = Object.hasOwn(fields, g.field) ? fields[g.field] : undefined;
    if (v === undefined) return undefined;
    all &&= guardHolds(v, g);
  }
  return all;
}

function guardHolds(v: FieldValue, g: Guard): boolean {
  if (g.op === '==') return v === g.value;
  if (g.op === '!=') return v !== g.value;
  return typeof v === 'number' && typeof g.value === 'number' && compare(v, g.op, g.value);
}

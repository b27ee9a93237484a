// Which devices a rule watches, and whether it can be evaluated for one of them. Both are pure, so the
// engine can match the registry against the rule set at load and when a device is provisioned.
import type { Kind } from '../../devices/index.ts';
import type { Rule, Select, ValueRef } from '../schema.ts';
import type { EvalContext } from './types.ts';
import { resolveValue } from './values.ts';

/** What selection reads of a registry record. */
export interface SelectableDevice {
  readonly id: string;
  readonly kind: Kind;
  readonly district: string;
  readonly tags: readonly string[];
}

/** Every criterion given must match: kind, one of the districts, one of the ids, all of the tags. */
export function selects(select: Select, device: SelectableDevice): boolean {
  if (select.kind !== undefined && select.kind !== device.kind) return false;
  if (select.devices !== undefined && !select.devices.includes(device.id)) return false;
  if (select.district !== undefined && !select.district.includes(device.district)) return false;
  return select.tags === undefined || select.tags.every((t) => device.tags.includes(t));
}

function valueRefs(rule: Rule): ValueRef[] {
  const c = rule.condition;
  if (c.type !== 'threshold' && c.type !== 'window') return [];
  return [c.value, ...(c.clear ? [c.clear.value] : []), ...(c.escalate ?? []).map((e) => e.value)];
}

/**
 * Why the rule cannot be evaluated for a selected device, or `undefined` when it can: a `$meta` value the
 * device's registry record does not have (a river rule selecting a gauge with no alarm levels).
 */
export function whyNotApplicable(rule: Rule, ctx: EvalContext): string | undefined {
  const missing = valueRefs(rule).filter((v) => resolveValue(v, ctx.meta) === undefined);
  return missing.length === 0
    ? undefined
    : `the device's metadata lacks ${missing.length} value(s) the rule compares with`;
}

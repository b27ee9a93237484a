// A saved rule state carries a print of the condition it was made under. A rule file edited while the
// platform was stopped then starts its changed rules afresh at the next start, as a reload does while
// running (and the reconciliation resolves their open alerts with a note), instead of reading an old
// state under a new condition: a threshold state of three levels under a rule that now has two, a window
// summed over 24 h under a rule that now means 1 h.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Rule } from '../schema.ts';
import type { SavedRuleState } from './core.ts';

const Sealed = z.strictObject({ condition: z.string(), state: z.unknown() });

const prints = new WeakMap<Rule, string>();

/** A short print of the rule's condition: equal conditions, equal prints. */
export function conditionPrint(rule: Rule): string {
  let print = prints.get(rule);
  if (print === undefined) {
    print = createHash('sha256').update(JSON.stringify(rule.condition)).digest('base64url').slice(0, 16);
    prints.set(rule, print);
  }
  return print;
}

/** The state as saved: with the print of its rule's condition. */
export function seal(saved: SavedRuleState, rule: Rule): SavedRuleState {
  return { ...saved, state: { condition: conditionPrint(rule), state: saved.state } };
}

/**
 * The states as the core restores them: a state made under another condition is left out (its rule
 * starts afresh); one saved before states were sealed is taken as it is.
 */
export function unseal(
  saved: readonly SavedRuleState[],
  rules: ReadonlyMap<string, Rule>,
): { states: SavedRuleState[]; changed: number } {
  const states: SavedRuleState[] = [];
  let changed = 0;
  for (const s of saved) {
    const sealed = Sealed.safeParse(s.state);
    const rule = rules.get(s.rule);
    if (!sealed.success) states.push(s);
    else if (rule !== undefined && sealed.data.condition !== conditionPrint(rule)) changed++;
    else states.push({ ...s, state: sealed.data.state });
  }
  return { states, changed };
}

// The rule core: a rule set, the devices it watches, and a state per (rule, device). Readings and the
// passing of time go in, rendered transitions ("firings") come out. Pure apart from its own memory: no
// I/O, time passed in. The live engine, the rule unit tests and the backtest all run this one core, so a
// rule behaves the same in a test file, over history and on the live stream.
import type { Kind, Reading } from '../../devices/index.ts';
import {
  initialState,
  onReading,
  onTick,
  restoreState,
  type EvaluatorState,
} from '../evaluators/evaluate.ts';
import { selects, whyNotApplicable } from '../evaluators/select.ts';
import type { EvalContext, Transition } from '../evaluators/types.ts';
import { renderMessage } from '../evaluators/template.ts';
import type { Rule } from '../schema.ts';
import { messageVars } from './message.ts';

/** What the core reads of a registry record. */
export interface RuleDevice {
  readonly id: string;
  readonly kind: Kind;
  readonly name: string;
  readonly district: string;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, unknown>>;
  readonly location?: { readonly lat: number; readonly lon: number };
}

/** A transition of one (rule, device), with its message rendered and the state that follows it. */
export interface Firing {
  readonly rule: Rule;
  readonly device: RuleDevice;
  readonly transition: Transition;
  readonly message: string;
  readonly state: EvaluatorState;
}

export interface SavedRuleState {
  readonly rule: string;
  readonly device: string;
  readonly state: unknown;
}

interface Entry {
  readonly rule: Rule;
  state: EvaluatorState;
  dirty: boolean;
}

interface Watched {
  readonly device: RuleDevice;
  readonly ctx: EvalContext;
  readonly entries: Entry[];
}

export interface RuleCore {
  /** The rules in force, in file order. */
  rules(): readonly Rule[];
  /** Starts watching a device (or takes its new registry record), `now` starting absence watches. */
  watch(device: RuleDevice, now: number): void;
  /** Stops watching a device (decommissioned); its states are dropped. */
  forget(deviceId: string): void;
  isWatched(deviceId: string): boolean;
  /** Feeds one reading of a watched device (an unwatched one is watched first). */
  reading(reading: Reading, device: RuleDevice): Firing[];
  /** Lets time pass: absence fires, windows and rates let old values go. */
  tick(now: number): Firing[];
  /** Puts persisted states back; a state that no longer validates or fits its rule starts afresh. */
  restore(saved: readonly SavedRuleState[], now: number): { restored: number; discarded: number };
  /** The states changed since the last call (for the periodic checkpoint). */
  takeDirty(): SavedRuleState[];
  /** Every state (for a final checkpoint). */
  allStates(): SavedRuleState[];
  /** Resets one (rule, device) to its initial state: an operator resolved its alert by hand. */
  reset(ruleId: string, deviceId: string, now: number): SavedRuleState | undefined;
  /**
   * Replaces the rule set (a reload). A rule whose definition is unchanged keeps its states; a changed or
   * new rule starts afresh for every device.
   */
  setRules(rules: readonly Rule[], now: number): void;
}

export function createRuleCore(initialRules: readonly Rule[]): RuleCore {
  let rules: readonly Rule[] = initialRules;
  const watched = new Map<string, Watched>();

  function entriesFor(device: RuleDevice, ctx: EvalContext, now: number, old?: Watched): Entry[] {
    const previous = new Map(old?.entries.map((e) => [e.rule.id, e]));
    const entries: Entry[] = [];
    for (const rule of rules) {
      if (!selects(rule.select, device) || whyNotApplicable(rule, ctx) !== undefined) continue;
      const kept = previous.get(rule.id);
      if (kept !== undefined && kept.rule === rule) {
        entries.push(kept);
        continue;
      }
      const state = initialState(rule, now);
      if (state !== undefined) entries.push({ rule, state, dirty: true });
    }
    return entries;
  }

  function watch(device: RuleDevice, now: number): Watched {
    const ctx: EvalContext =
      device.location === undefined
        ? { meta: device.meta }
        : { meta: device.meta, location: device.location };
    const w: Watched = { device, ctx, entries: entriesFor(device, ctx, now, watched.get(device.id)) };
    watched.set(device.id, w);
    return w;
  }

  function fire(w: Watched, e: Entry, transition: Transition): Firing {
    const vars = messageVars(e.rule, w.device, transition);
    return {
      rule: e.rule,
      device: w.device,
      transition,
      message: renderMessage(e.rule.message, vars),
      state: e.state,
    };
  }

  const saved = (deviceId: string, e: Entry): SavedRuleState => ({
    rule: e.rule.id,
    device: deviceId,
    state: e.state,
  });

  return {
    rules: () => rules,
    watch(device, now) {
      watch(device, now);
    },
    forget(deviceId) {
      watched.delete(deviceId);
    },
    isWatched: (deviceId) => watched.has(deviceId),
    reading(reading, device) {
      let w = watched.get(device.id);
      if (w === undefined || w.device !== device) w = watch(device, reading.time);
      const out: Firing[] = [];
      for (const e of w.entries) {
        const step = onReading(e.rule, e.state, reading, w.ctx);
        if (step === undefined) continue;
        if (step.state !== e.state) {
          e.state = step.state;
          e.dirty = true;
        }
        if (step.transition) out.push(fire(w, e, step.transition));
      }
      return out;
    },
    tick(now) {
      const out: Firing[] = [];
      for (const w of watched.values()) {
        for (const e of w.entries) {
          if (e.rule.condition.type === 'threshold') continue;
          const step = onTick(e.rule, e.state, now, w.ctx);
          if (step === undefined) continue;
          if (step.state !== e.state) {
            e.state = step.state;
            e.dirty = true;
          }
          if (step.transition) out.push(fire(w, e, step.transition));
        }
      }
      return out;
    },
    restore(list, now) {
      let restored = 0;
      let discarded = 0;
      for (const s of list) {
        const e = watched.get(s.device)?.entries.find((x) => x.rule.id === s.rule);
        if (e === undefined) {
          discarded++;
          continue;
        }
        try {
          const state = restoreState(e.rule, s.state, now);
          if (state === undefined || state.type !== e.rule.condition.type) discarded++;
          else {
            e.state = state;
            e.dirty = false;
            restored++;
          }
        } catch {
          discarded++;
        }
      }
      return { restored, discarded };
    },
    takeDirty() {
      const out: SavedRuleState[] = [];
      for (const [id, w] of watched)
        for (const e of w.entries)
          if (e.dirty) {
            e.dirty = false;
            out.push(saved(id, e));
          }
      return out;
    },
    allStates() {
      const out: SavedRuleState[] = [];
      for (const [id, w] of watched) for (const e of w.entries) out.push(saved(id, e));
      return out;
    },
    reset(ruleId, deviceId, now) {
      const e = watched.get(deviceId)?.entries.find((x) => x.rule.id === ruleId);
      const state = e && initialState(e.rule, now);
      if (e === undefined || state === undefined) return undefined;
      e.state = state;
      e.dirty = false;
      return saved(deviceId, e);
    },
    setRules(next, now) {
      const byId = new Map(rules.map((r) => [r.id, r]));
      // An unchanged rule keeps its object, so `entriesFor` keeps its states.
      rules = next.map((r) => {
        const old = byId.get(r.id);
        return old !== undefined && JSON.stringify(old) === JSON.stringify(r) ? old : r;
      });
      for (const w of [...watched.values()]) watch(w.device, now);
    },
  };
}

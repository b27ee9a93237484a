// The rule core: a rule set, the devices it watches, and a state per (rule, device). Readings and the
// passing of time go in, rendered transitions ("firings") come out. Pure apart from its own memory: no
// I/O, time passed in. The live engine, the rule unit tests and the backtest all run this one core, so a
// rule behaves the same in a test file, over history and on the live stream.
import type { Reading } from '../../devices/index.ts';
import {
  initialState,
  onReading,
  onTick,
  restoreState,
  type EvaluatorState,
} from '../evaluators/evaluate.ts';
import { selects, whyNotApplicable } from '../evaluators/select.ts';
import type { EvalContext, Step, Transition } from '../evaluators/types.ts';
import { renderMessage } from '../evaluators/template.ts';
import { DEFAULT_CLEAR_MESSAGE, type Rule } from '../schema.ts';
import { messageVars } from './message.ts';
import type { RuleDevice } from './rule-device.ts';

/** A transition of one (rule, device), with its message rendered and the state that follows it. */
export interface Firing {
  readonly rule: Rule;
  readonly device: RuleDevice;
  readonly transition: Transition;
  readonly message: string;
  readonly state: EvaluatorState;
  /** The state before the transition: put back by `revert` when the transition could not be recorded. */
  readonly previous: EvaluatorState;
}

export interface SavedRuleState {
  readonly rule: string;
  readonly device: string;
  readonly state: unknown;
}

export interface RuleCoreOptions {
  /**
   * A rule whose evaluation throws (a bug, or a value no check foresaw) is skipped for that reading or
   * tick and reported here, so one rule cannot stop the others or the ingest stream. Without it the
   * error is thrown: rule tests and backtests should fail loudly.
   */
  readonly onError?: (err: unknown, rule: string, device: string) => void;
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
  /** Feeds one reading of a watched device (an unwatched one is watched first). */
  reading(reading: Reading, device: RuleDevice): Firing[];
  /** Lets time pass: absence fires, windows and rates let old values go; `skip`ped devices wait for the next. */
  tick(now: number, skip?: (deviceId: string) => boolean): Firing[];
  /** Puts persisted states back; a state that no longer validates or fits its rule starts afresh. */
  /**
   * Puts persisted states back; a state that no longer validates or fits its rule starts afresh. `downSince`:
   * when the platform was last seen running (its last save); the time since then is not a device's silence.
   */
  restore(
    saved: readonly SavedRuleState[],
    now: number,
    downSince?: number,
  ): { restored: number; discarded: number };
  /** The states changed since the last call (for the periodic checkpoint). */
  takeDirty(): SavedRuleState[];
  /** Every state (for a final checkpoint). */
  allStates(): SavedRuleState[];
  /**
   * An operator resolved the (rule, device)'s alert by hand: its levels start afresh (a condition that
   * still holds raises again after its sustain), its windows, rates and hours are kept.
   */
  reset(ruleId: string, deviceId: string, now: number): SavedRuleState | undefined;
  /** Puts back the state before a transition the alert store could not record, so that it fires again. */
  revert(firing: Firing): void;
  /** Whether the (rule, device) has an alert up by its state; undefined when it is not evaluated at all. */
  firing(ruleId: string, deviceId: string): boolean | undefined;
  /** Every (rule, device) whose state has an alert up. */
  firingKeys(): Array<{ rule: string; device: string }>;
  /**
   * Replaces the rule set (a reload). A rule whose selection and condition are unchanged keeps its
   * states (a new title, message, owner or severity takes effect at once); a changed or new rule starts
   * afresh for every device.
   */
  setRules(rules: readonly Rule[], now: number): void;
}

export function createRuleCore(initialRules: readonly Rule[], options: RuleCoreOptions = {}): RuleCore {
  let rules: readonly Rule[] = initialRules;
  const watched = new Map<string, Watched>();
  const { onError } = options;

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
      if (kept !== undefined && sameEvaluation(kept.rule, rule)) {
        entries.push({ rule, state: kept.state, dirty: kept.dirty });
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

  /** Takes one evaluation step's result into the entry; the firing, if the step made a transition. */
  function advance(
    w: Watched,
    e: Entry,
    step: (state: EvaluatorState) => Step<EvaluatorState> | undefined,
  ): Firing | undefined {
    const previous = e.state;
    let next: Step<EvaluatorState> | undefined;
    try {
      next = step(previous);
    } catch (err) {
      if (onError === undefined) throw err;
      onError(err, e.rule.id, w.device.id);
      return undefined;
    }
    if (next === undefined) return undefined;
    if (next.state !== previous) {
      e.state = next.state;
      e.dirty = true;
    }
    if (next.transition === undefined) return undefined;
    const vars = messageVars(e.rule, w.device, next.transition);
    return {
      rule: e.rule,
      device: w.device,
      transition: next.transition,
      message: renderMessage(templateOf(e.rule, next.transition), vars),
      state: e.state,
      previous,
    };
  }

  const entryOf = (ruleId: string, deviceId: string): Entry | undefined =>
    watched.get(deviceId)?.entries.find((x) => x.rule.id === ruleId);

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
    reading(reading, device) {
      let w = watched.get(device.id);
      if (w === undefined || w.device !== device) w = watch(device, reading.time);
      const out: Firing[] = [];
      for (const e of w.entries) {
        const ctx = w.ctx;
        const f = advance(w, e, (state) => onReading(e.rule, state, reading, ctx));
        if (f) out.push(f);
      }
      return out;
    },
    tick(now, skip) {
      const out: Firing[] = [];
      for (const [id, w] of watched) {
        if (skip?.(id) === true) continue;
        for (const e of w.entries) {
          if (e.rule.condition.type === 'threshold') continue;
          const ctx = w.ctx;
          const f = advance(w, e, (state) => onTick(e.rule, state, now, ctx));
          if (f) out.push(f);
        }
      }
      return out;
    },
    restore(list, now, downSince = now) {
      const downtime = Math.max(0, now - downSince);
      let restored = 0;
      let discarded = 0;
      for (const s of list) {
        const e = entryOf(s.rule, s.device);
        if (e === undefined) {
          discarded++;
          continue;
        }
        try {
          const state = restoreState(e.rule, s.state, now);
          if (state === undefined || state.type !== e.rule.condition.type) discarded++;
          else {
            e.state = resumed(state, now, downtime);
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
      const e = entryOf(ruleId, deviceId);
      const fresh = e && initialState(e.rule, now);
      if (e === undefined || fresh === undefined) return undefined;
      e.state = 'levels' in fresh && 'levels' in e.state ? { ...e.state, levels: fresh.levels } : fresh;
      // Also saved at the next checkpoint: the caller's own save may fail.
      e.dirty = true;
      return saved(deviceId, e);
    },
    revert(f) {
      const e = entryOf(f.rule.id, f.device.id);
      if (e === undefined || e.state !== f.state) return;
      e.state = f.previous;
      e.dirty = true;
    },
    firing(ruleId, deviceId) {
      const state = entryOf(ruleId, deviceId)?.state;
      return state === undefined ? undefined : isUp(state);
    },
    firingKeys() {
      const out: Array<{ rule: string; device: string }> = [];
      for (const [device, w] of watched)
        for (const e of w.entries) if (isUp(e.state)) out.push({ rule: e.rule.id, device });
      return out;
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

const isUp = (state: EvaluatorState): boolean =>
  state.type === 'absence' ? state.raised : state.levels.level > 0;

function templateOf(rule: Rule, t: Transition): string {
  return t.type === 'clear' ? (rule.clear_message ?? DEFAULT_CLEAR_MESSAGE) : rule.message;
}

/**
 * Same condition: a device's state fits, whatever changed in the title, message, severity or selection
 * (which devices have an entry at all is `entriesFor`'s business).
 */
function sameEvaluation(a: Rule, b: Rule): boolean {
  return JSON.stringify(a.condition) === JSON.stringify(b.condition);
}

/**
 * A restored state, as of `now`: the platform's own downtime is not a device's silence, so an absence
 * watch that had not fired moves on by the downtime (else every device would raise on the first tick
 * after a long stop, before it had the chance to reconnect; and one silent before the stop keeps what
 * it had of its `for`).
 */
function resumed(state: EvaluatorState, now: number, downtime: number): EvaluatorState {
  if (state.type !== 'absence' || state.raised || downtime === 0) return state;
  return { ...state, lastSeen: Math.min(now, state.lastSeen + downtime) };
}

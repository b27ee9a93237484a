// What every evaluator takes and returns. An evaluator is pure: the state in, a reading or the time in,
// a new state and at most one transition out. The state is plain JSON (numbers, booleans, arrays), so the
// engine can persist it with each alert and restore it after a restart through the state's zod schema.
import type { Severity } from '../../alerts/index.ts';

export interface EvalContext {
  /** The device's registry metadata: rated wattage, tolerance, alarm levels, datum (devices/schemas.ts). */
  readonly meta: Readonly<Record<string, unknown>>;
  /** Where the device is, for conditions that need the sun's position there (a CEL rule's `sun`). */
  readonly location?: { readonly lat: number; readonly lon: number };
}

/** The parts of a rule an evaluator reads; a `Rule` whose condition has the right type is one. */
export interface EvalRule<C> {
  readonly severity: Severity;
  readonly condition: C;
}

export type TransitionType = 'raise' | 'escalate' | 'clear';

export interface Transition {
  readonly type: TransitionType;
  /** The severity the alert has after a raise or an escalation, or had when it cleared. */
  readonly severity: Severity;
  /** What was compared: the field's value, the change (rate), the aggregate (window), the silence in ms
   * (absence). */
  readonly value: number;
  /** What it was compared with, resolved from metadata: the level's limit, or the clear's. */
  readonly threshold: number;
  /** The level reached, counted from 1 as everywhere else (alerts, messages, InfluxDB): 1 for the rule's
   * own level, k + 1 for its k-th `escalate` entry. A clear carries the level it cleared from. */
  readonly level: number;
  /** The reading's time or the tick's, ms since the epoch. */
  readonly at: number;
}

export interface Step<S> {
  readonly state: S;
  readonly transition?: Transition;
}

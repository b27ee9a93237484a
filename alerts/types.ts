// The alert contract: what an alert is, what happens to it, and the store that keeps it. The engine
// (rule transitions), the API (operators acting) and Node-RED (alerts raised by flows) all go through
// this one lifecycle, so an alert looks the same to operators whichever way it was raised.
import { z } from 'zod';
import { Kind } from '../devices/index.ts';
import { SEVERITIES } from '../measurements/index.ts';
import type { Fence } from './partitions.ts';

/** How urgent an alert is, least first; ranked 1 to 3 by SEVERITY_RANK (measurements/alerts.ts). */
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export const AlertState = z.enum(ALERT_STATES);
export type AlertState = z.infer<typeof AlertState>;

/** Where an alert came from: a rule file, or a flow that raised it through the platform. */
/** Who raised an alert: a rule file, a flow (Node-RED), or the commands' check (a command not carried out). */
export const ALERT_SOURCES = ['rule', 'flow', 'command'] as const;
export const AlertSource = z.enum(ALERT_SOURCES);
export type AlertSource = z.infer<typeof AlertSource>;

/**
 * What happened to an alert, in past tense: `raised` opens it; `updated` is a second trigger while it is
 * open (never a second alert); `escalated` raises its severity or level; `referred` hands an alert not
 * acknowledged within its agency's target to the next step of its route's escalation chain (the note
 * says to whom); `acknowledged` and `resolved` are an operator's (or, for `resolved`, the rule's clear
 * condition).
 */
export const ALERT_EVENT_TYPES = [
  'raised',
  'updated',
  'escalated',
  'referred',
  'acknowledged',
  'resolved',
] as const;
export const AlertEventType = z.enum(ALERT_EVENT_TYPES);
export type AlertEventType = z.infer<typeof AlertEventType>;

/** One alert, as the store keeps it and the API shows it. Times are RFC 3339 strings. */
export const Alert = z.object({
  id: z.number().int().positive(),
  rule: z.string(),
  device: z.string(),
  kind: Kind,
  district: z.string(),
  owner: z.string(),
  title: z.string(),
  severity: Severity,
  state: AlertState,
  source: AlertSource,
  /** The latest rendered message. */
  message: z.string(),
  /** The latest compared value and its limit (null when the condition has none, e.g. a CEL rule). */
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  /**
   * How far the alert has escalated, counted as operators and messages count: a rule file's alerts are 1
   * at the rule's own level and k + 1 at its k-th escalation ("past alarm level 3" is level 3).
   */
  level: z.number().int().min(0),
  raisedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  acknowledgedAt: z.iso.datetime().nullable(),
  acknowledgedBy: z.string().nullable(),
  acknowledgeNote: z.string().nullable(),
  resolvedAt: z.iso.datetime().nullable(),
  /** Who resolved it: an operator's token label, or null when the rule's clear condition did. */
  resolvedBy: z.string().nullable(),
  resolveNote: z.string().nullable(),
  resolution: z.enum(['auto', 'operator']).nullable(),
});
export type Alert = z.infer<typeof Alert>;

/** One transition of an alert, kept in the store (the alert's history) and written to InfluxDB. */
export const AlertEvent = z.object({
  id: z.number().int().positive(),
  alertId: z.number().int().positive(),
  type: AlertEventType,
  at: z.iso.datetime(),
  severity: Severity,
  state: AlertState,
  message: z.string(),
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  level: z.number().int().min(0),
  by: z.string().nullable(),
  note: z.string().nullable(),
});
export type AlertEvent = z.infer<typeof AlertEvent>;

/** The result of every store operation that changes an alert: the event and the alert after it. */
export interface AlertChange {
  readonly alert: Alert;
  readonly event: AlertEvent;
}

/** What the engine (or a flow) reports for a (rule, device): the evaluator's transition, rendered. */
export interface TriggerInput {
  /** raise: open an alert, or update the open one; escalate: raise its severity; clear: resolve it. */
  readonly type: 'raise' | 'escalate' | 'clear';
  readonly rule: string;
  readonly device: string;
  readonly kind: Kind;
  readonly district: string;
  readonly owner: string;
  readonly title: string;
  readonly severity: Severity;
  readonly message: string;
  readonly value: number | null;
  readonly threshold: number | null;
  /** See Alert.level: 1 for a rule's own level. */
  readonly level: number;
  /** ms since the epoch: the reading's time or the tick's. */
  readonly at: number;
  readonly source: AlertSource;
  /** Why, on a clear the engine makes itself (the rule was removed or changed, the device decommissioned). */
  readonly note?: string | undefined;
}

export interface TriggerItem {
  readonly input: TriggerInput;
  readonly state?: SavedState | undefined;
  /**
   * In a cluster, the lease of the device's partition (partitions.ts) the transition is made under: refused
   * with ALERTS_ERR_FENCED when another node has taken the partition since. One process has none.
   */
  readonly fence?: Fence | undefined;
}

/** What one trigger of a batch did: the change, nothing (`undefined`), or the error that refused it. */
export type TriggerOutcome =
  | { readonly ok: true; readonly change: AlertChange | undefined }
  | { readonly ok: false; readonly error: Error };

/** The (rule, device) evaluator state saved in the same transaction as the change it caused. */
export interface SavedState {
  readonly rule: string;
  readonly device: string;
  /** Plain JSON (the evaluator's state); `null` deletes the saved state. */
  readonly state: unknown;
  /** In a cluster, the lease it is saved under; a state whose lease was taken since is not saved. */
  readonly fence?: Fence | undefined;
}

export const AlertFilter = z.object({
  state: z.array(AlertState).optional(),
  severity: z.array(Severity).optional(),
  owner: z.string().optional(),
  kind: Kind.optional(),
  district: z.string().optional(),
  device: z.string().optional(),
  rule: z.string().optional(),
  /** Alerts raised at or after / before these times, ms since the epoch. */
  from: z.number().optional(),
  to: z.number().optional(),
  limit: z.number().int().min(1).max(1_000).default(100),
});
export type AlertFilter = z.input<typeof AlertFilter>;

export interface AlertStore {
  /**
   * Applies a trigger. raise with no open alert for (rule, device) opens one (`raised`); raise or escalate
   * with one open updates it (`updated`, or `escalated` when the severity or level goes up; never down);
   * clear resolves it (`resolved`, resolution `auto`). Returns `undefined` when nothing changes (escalate
   * or clear with no open alert). `state`, when given, is saved in the same transaction.
   */
  trigger(input: TriggerInput, state?: SavedState): Promise<AlertChange | undefined>;
  /**
   * Applies several triggers in one transaction (one disk sync for the lot: a storm of transitions, such
   * as a district's gauges raising together, must not hold the event loop for a sync each). Each has its
   * own savepoint: one that fails is rolled back alone and its slot holds the error; the others stand.
   */
  triggerAll(items: readonly TriggerItem[]): Promise<TriggerOutcome[]>;
  /** An operator acknowledges an open alert. Throws ALERTS_ERR_NOT_FOUND / ALERTS_ERR_STATE. */
  acknowledge(id: number, by: string, note: string | undefined, at: number): Promise<AlertChange>;
  /** An operator resolves an open or acknowledged alert. Throws ALERTS_ERR_NOT_FOUND / ALERTS_ERR_STATE. */
  resolve(id: number, by: string, note: string | undefined, at: number): Promise<AlertChange>;
  /**
   * Refers an open alert to step `step` (0-based) of its escalation chain: a `referred` event with `note`.
   * Nothing is written (undefined) when the alert is no longer open (acknowledged or resolved: the chain
   * stops) or has not had exactly `step` referrals (that step is taken). Throws ALERTS_ERR_NOT_FOUND.
   */
  refer(id: number, step: number, note: string, at: number): Promise<AlertChange | undefined>;
  get(id: number): Promise<{ alert: Alert; events: AlertEvent[] } | undefined>;
  /** The alerts of these ids with their events, in id order; an id with no alert is left out. */
  getMany(ids: readonly number[]): Promise<Array<{ alert: Alert; events: AlertEvent[] }>>;
  /** Newest raised first. */
  list(filter?: AlertFilter): Promise<Alert[]>;
  /** The open (or acknowledged) alert for a (rule, device), if any. */
  openFor(rule: string, device: string): Promise<Alert | undefined>;
  /** Every alert not yet resolved. */
  listOpen(): Promise<Alert[]>;
  /**
   * The events after event id `afterId`, oldest first, at most `limit`, each with its alert as it is now:
   * the log every transition writes in its own transaction, which the notifier reads as its outbox.
   */
  eventsAfter(afterId: number, limit: number): Promise<AlertChange[]>;
  /** Saves evaluator states in one transaction (the engine's periodic checkpoint). */
  saveStates(states: readonly SavedState[]): Promise<void>;
  /** The saved states, each with when it was saved (ms since the epoch). */
  loadStates(filter?: {
    /** Only the states of the devices of these partitions (a cluster's node taking them over). */
    readonly partitions?: readonly number[];
  }): Promise<Array<SavedState & { readonly savedAt: number }>>;
  /**
   * Time to acknowledge and to resolve, per owner, over the alerts raised in [from, to) (ms since the
   * epoch; either end open when absent): how many of them were acknowledged and resolved (by an operator
   * or by the rule's clear condition), and the mean ms from raised to each, null when there is none.
   */
  responseTimes(filter: { from?: number; to?: number }): Promise<
    Array<{
      owner: string;
      acknowledged: number;
      meanAckMs: number | null;
      resolved: number;
      meanResolveMs: number | null;
    }>
  >;
  /**
   * A cluster's store (PostgreSQL): `listener` is told of the changes other nodes made, in order, soon
   * after they commit (this node's own changes are told by the alert service as it makes them).
   */
  onOthers?(listener: (changes: AlertChange[]) => void): void;
  close(): Promise<void>;
}

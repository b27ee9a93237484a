// What the alert store's two databases share (store-sqlite.ts, the single process; store-postgres.ts, a
// cluster): the checks at the store's boundary, the rows as they come out of either database, and the
// lifecycle's decision for a trigger, so that an alert moves the same way whichever database keeps it.
import { z } from 'zod';
import { Kind } from '../devices/index.ts';
import { SEVERITY_RANK } from '../measurements/index.ts';
import { AlertsError, isAlertsError } from './errors.ts';
import {
  Alert,
  AlertEvent,
  AlertSource,
  type AlertEventType,
  type SavedState,
  type TriggerInput,
  Severity,
} from './types.ts';

/** 9999-12-31T23:59:59.999Z: the last instant RFC 3339 (four-digit years) can write. */
export const MAX_MS = 253_402_300_799_999;
const Ms = z.number().int().min(0).max(MAX_MS);
const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export const Trigger = z.object({
  type: z.enum(['raise', 'escalate', 'clear']),
  rule: z.string().min(1),
  device: z.string().min(1),
  kind: Kind,
  district: z.string(),
  owner: z.string(),
  title: z.string(),
  severity: Severity,
  message: z.string(),
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  level: z.number().int().min(0),
  at: Ms,
  source: AlertSource,
  note: z.string().optional(),
}) satisfies z.ZodType<TriggerInput>;
export type Trigger = z.infer<typeof Trigger>;
export const Action = z.object({ id: z.number().int(), by: z.string(), note: z.string().optional(), at: Ms });
export type Action = z.infer<typeof Action>;
export const Referral = z.object({
  id: z.number().int(),
  step: z.number().int().min(0),
  note: z.string(),
  at: Ms,
});
export type Referral = z.infer<typeof Referral>;
export const State = z.object({ rule: z.string(), device: z.string(), state: z.unknown() });
export const RangeFilter = z.object({ from: z.number().optional(), to: z.number().optional() });

/** The alert's columns under the contract's names; only the times (ms) need converting. */
export const ALERT_COLUMNS = `id, rule, device, kind, district, owner, title, severity, state, source, message,
  value, threshold, level, raised_at AS "raisedAt", updated_at AS "updatedAt",
  acknowledged_at AS "acknowledgedAt", acknowledged_by AS "acknowledgedBy",
  acknowledge_note AS "acknowledgeNote", resolved_at AS "resolvedAt", resolved_by AS "resolvedBy",
  resolve_note AS "resolveNote", resolution`;
export const EVENT_COLUMNS = `id, alert_id AS "alertId", type, at, severity, state, message, value, threshold,
  level, actor AS "by", note`;
const AlertRow = Alert.extend({
  raisedAt: Ms,
  updatedAt: Ms,
  acknowledgedAt: Ms.nullable(),
  resolvedAt: Ms.nullable(),
});
const EventRow = AlertEvent.extend({ at: Ms });

export function toAlert(row: unknown): Alert {
  const r = AlertRow.parse(row);
  return {
    ...r,
    raisedAt: iso(r.raisedAt),
    updatedAt: iso(r.updatedAt),
    acknowledgedAt: isoOrNull(r.acknowledgedAt),
    resolvedAt: isoOrNull(r.resolvedAt),
  };
}

export function toEvent(row: unknown): AlertEvent {
  const r = EventRow.parse(row);
  return { ...r, at: iso(r.at) };
}

export const ResponseRow = z.object({
  owner: z.string(),
  acknowledged: z.number().int(),
  meanAckMs: z.number().nullable(),
  resolved: z.number().int(),
  meanResolveMs: z.number().nullable(),
});

/** The filters of `list`, in the order their clauses are written. */
export const FILTER_KEYS = [
  'state',
  'severity',
  'owner',
  'kind',
  'district',
  'device',
  'rule',
  'from',
  'to',
] as const;

/** Parses input at the store's boundary; a mismatch is ALERTS_ERR_INVALID with the zod error as cause. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new AlertsError('ALERTS_ERR_INVALID', `${what}: ${z.prettifyError(r.error)}`, { cause: r.error });
}

/** Anything but an AlertsError becomes ALERTS_ERR_STORE, its cause kept. */
export function storeError(err: unknown, what: string): Error {
  return isAlertsError(err) ? err : new AlertsError('ALERTS_ERR_STORE', what, { cause: err });
}

/** The state as JSON text, or null to delete it; what JSON cannot write (undefined, cycles, BigInt) is invalid. */
export function stateText(s: SavedState): string | null {
  if (s.state === null) return null;
  let text: unknown;
  try {
    text = JSON.stringify(s.state);
  } catch (err) {
    throw new AlertsError('ALERTS_ERR_INVALID', `state of ${s.rule}/${s.device}`, { cause: err });
  }
  if (typeof text !== 'string') throw new AlertsError('ALERTS_ERR_INVALID', `state of ${s.rule}/${s.device}`);
  return text;
}

/**
 * The time of an alert's next event: never before its latest one, and at least 1 ms after it. InfluxDB
 * keys a point by its time and tags, so two events of one alert in the same millisecond (two readings
 * in one ms, an operator's click as the rule clears) would keep only the last; and a reading from a
 * lagging clock or a gateway's backlog must not put an escalation before the raise it follows.
 */
export const after = (latestMs: number, atMs: number): number => Math.max(atMs, latestMs + 1);

/** The open alert as a trigger's decision needs it. */
export interface OpenRow {
  readonly id: number;
  readonly severity: Severity;
  readonly level: number;
  /** ms since the epoch. */
  readonly updatedAt: number;
}

/** What a trigger does to the (rule, device)'s alert; the row's new fields come with it. */
export type TriggerStep =
  | { readonly type: 'raised' }
  | {
      readonly type: Extract<AlertEventType, 'updated' | 'escalated' | 'resolved'>;
      readonly id: number;
      readonly at: number;
      readonly severity: Severity;
      readonly level: number;
    };

/**
 * The lifecycle's decision, the same in both databases. raise with no open alert opens one; escalate or
 * clear with none does nothing (undefined). clear resolves the open alert. raise and escalate refresh its
 * message; severity and level only go up, and an update that raises either is `escalated`.
 */
export function triggerStep(open: OpenRow | undefined, t: Trigger): TriggerStep | undefined {
  if (open === undefined) return t.type === 'raise' ? { type: 'raised' } : undefined;
  const at = after(open.updatedAt, t.at);
  if (t.type === 'clear')
    return { type: 'resolved', id: open.id, at, severity: open.severity, level: open.level };
  const higherSeverity = SEVERITY_RANK[t.severity] > SEVERITY_RANK[open.severity];
  return {
    type: higherSeverity || t.level > open.level ? 'escalated' : 'updated',
    id: open.id,
    at,
    severity: higherSeverity ? t.severity : open.severity,
    level: Math.max(open.level, t.level),
  };
}

/** Whether an operator's action is allowed in the alert's state: acknowledge needs open, resolve not resolved. */
export function operatorAllowed(type: 'acknowledged' | 'resolved', state: string): boolean {
  return type === 'acknowledged' ? state === 'open' : state !== 'resolved';
}

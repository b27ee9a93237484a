// The notification store's contract: how far the notifier has read the alert store's event log (its
// outbox), the groups waiting to be told, the alerts watched for their escalation chains, and every
// delivery with its attempts. One process keeps it in SQLite (store-sqlite.ts), a cluster in PostgreSQL
// (store-postgres.ts), where one node at a time, the holder of the notifier's lease, writes it.
//
// The notifier decides and the store writes: each step of the notifier hands the store its writes and
// the event it has read up to, and the store makes them in one transaction, so a crash replays the events
// rather than losing or doubling their notifications. A delivery's key is stable across a replay and is
// sent to the receiver, which can drop a repeat.
import { z } from 'zod';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A group as it starts: the route that made it, its labels, receivers and timing. */
export interface NewGroup {
  readonly key: string;
  readonly route: number;
  readonly labels: Record<string, string>;
  readonly receivers: readonly { agency: string; receiver: string; type: string }[];
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
  /** Its first flush (the route's group_wait after its first alert). */
  readonly nextFlushAt: number;
}

export interface GroupRow extends Omit<NewGroup, 'nextFlushAt'> {
  readonly nextFlushAt: number | null;
  readonly lastSentAt: number | null;
  readonly seq: number;
  /** Which group of these labels this is: a group that ended and starts again is the next one. */
  readonly gen: number;
  readonly alerts: readonly number[];
  /** Those of `alerts` told in a notification of the group already. */
  readonly told: ReadonlySet<number>;
  /** An event came for one of its alerts since it was last flushed. */
  readonly changed: boolean;
}

/** A delivery as a step queues it. */
export interface NewDelivery {
  /** Stable across replays: the receiver's idempotency key. */
  readonly key: string;
  readonly groupKey: string;
  readonly agency: string;
  readonly receiver: string;
  readonly type: string;
  readonly payload: unknown;
}

/** A delivery as it is kept: queued, with its attempts so far and where it stands. */
export interface Delivery extends NewDelivery {
  readonly id: number;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly createdAt: number;
  readonly doneAt: number | null;
  readonly lastError: string | null;
}

export interface Attempt {
  readonly at: number;
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly detail: string;
}

/** One write of a notifier's step; a step's writes are made together, in order. */
export type NotifyWrite =
  /**
   * The alert joins the group, which is created (the next generation of its labels) unless it is there,
   * and marked changed. A group told before and waiting for nothing is flushed again no sooner than its
   * group interval after it was last told.
   */
  | { readonly kind: 'join'; readonly group: NewGroup; readonly alertId: number; readonly at: number }
  /** The alert is watched for its escalation chain from `since` (kept if it is watched already). */
  | { readonly kind: 'watch'; readonly alertId: number; readonly since: number }
  /** A delivery is queued, due at once, unless one with its key exists. */
  | { readonly kind: 'deliver'; readonly delivery: NewDelivery; readonly at: number }
  /**
   * The group was flushed at `at`: when `told` is not empty its sequence moves on and those alerts are
   * marked told; `leaving` alerts leave it, and it goes when empty; it is flushed next at `next` (null: at
   * its repeat interval, or when an event comes).
   */
  | {
      readonly kind: 'flushed';
      readonly key: string;
      readonly at: number;
      readonly told: readonly number[];
      readonly leaving: readonly number[];
      readonly next: number | null;
    };

export interface NotifyStore {
  /** The last alert event the notifier has read. */
  cursor(): Promise<number>;
  /**
   * Makes the writes in one transaction, with the cursor moved to `cursor` when given; resolves with how
   * many deliveries were queued (those whose key was new). In a cluster, refused with NOTIFY_ERR_FENCED
   * unless this node holds the notifier's lease.
   */
  commit(writes: readonly NotifyWrite[], cursor?: number): Promise<{ queued: number }>;
  /** Groups with a flush due at `now`, or a repeat due (last sent + repeat interval). */
  dueGroups(now: number): Promise<GroupRow[]>;
  /** The watched alerts, oldest first. */
  watched(): Promise<Array<{ alertId: number; since: number }>>;
  unwatch(alertId: number): Promise<void>;
  /** Pending deliveries due at `now`, oldest first, at most `limit`. */
  dueDeliveries(now: number, limit: number): Promise<Delivery[]>;
  /**
   * Records an attempt at the delivery, which is delivered, dead, or pending again at `retryAt`; the
   * outcome is kept only if no other attempt was recorded since the delivery was read (its `attempts`).
   */
  recordAttempt(
    delivery: Pick<Delivery, 'id' | 'attempts'>,
    attempt: Attempt,
    outcome: { status: DeliveryStatus; retryAt?: number },
  ): Promise<void>;
  /** Newest first. */
  deliveries(filter?: { status?: DeliveryStatus; limit?: number }): Promise<Delivery[]>;
  /** How many deliveries there are of each status. */
  counts(): Promise<Record<DeliveryStatus, number>>;
  /** The deliveries whose notification held this alert, oldest first. */
  deliveriesOfAlert(alertId: number): Promise<Delivery[]>;
  /** The attempts at these deliveries, each's oldest first, by delivery id (none: an empty list). */
  attempts(deliveryIds: readonly number[]): Promise<Map<number, Attempt[]>>;
  close(): Promise<void>;
}

// Rows as both databases read them: their columns under the contract's names, JSON as text, flags as 0/1.

const GroupSql = z.object({
  key: z.string(),
  route: z.number(),
  labels: z.string(),
  receivers: z.string(),
  groupIntervalMs: z.number(),
  repeatIntervalMs: z.number(),
  nextFlushAt: z.number().nullable(),
  lastSentAt: z.number().nullable(),
  seq: z.number(),
  changed: z.number(),
  gen: z.number(),
});
const DeliverySql = z.object({
  id: z.number(),
  key: z.string(),
  groupKey: z.string(),
  agency: z.string(),
  receiver: z.string(),
  type: z.string(),
  payload: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number(),
  nextAttemptAt: z.number(),
  createdAt: z.number(),
  doneAt: z.number().nullable(),
  lastError: z.string().nullable(),
});

/** A group's row and its members (alert id, told 0/1). */
export function toGroup(row: unknown, members: ReadonlyArray<{ id: number; told: number }>): GroupRow {
  const r = GroupSql.parse(row);
  return {
    ...r,
    labels: JSON.parse(r.labels) as Record<string, string>,
    receivers: JSON.parse(r.receivers) as GroupRow['receivers'],
    changed: r.changed === 1,
    alerts: members.map((a) => a.id),
    told: new Set(members.filter((a) => a.told === 1).map((a) => a.id)),
  };
}

export function toDelivery(row: unknown): Delivery {
  const r = DeliverySql.parse(row);
  return { ...r, payload: JSON.parse(r.payload) as unknown };
}

/** How many of each status, from (status, n) rows. */
export function countsOf(rows: ReadonlyArray<{ status: DeliveryStatus; n: number }>) {
  const counts: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, dead: 0 };
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}

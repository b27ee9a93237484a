// The notifier's own SQLite file (notify.db in the data folder): how far it has read the alert store's
// event log (its outbox), the groups waiting to be notified, and every delivery with its attempts. The
// cursor moves in the same transaction as the groups and deliveries an event makes, so a crash replays
// the event rather than losing or doubling its notifications; a delivery's key is stable across a replay
// and is sent to the receiver, which can drop a repeat.
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/index.ts';
import { z } from 'zod';
import { NotifyError } from './errors.ts';
import type { Match } from './routing.ts';
import type { Silence } from './silences.ts';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE cursor (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     last_event_id INTEGER NOT NULL
   ) STRICT;
   INSERT INTO cursor (id, last_event_id) VALUES (1, 0);
   CREATE TABLE groups (
     key TEXT PRIMARY KEY,
     route INTEGER NOT NULL,
     labels TEXT NOT NULL CHECK (json_valid(labels)),
     receivers TEXT NOT NULL CHECK (json_valid(receivers)),
     group_interval_ms INTEGER NOT NULL,
     repeat_interval_ms INTEGER NOT NULL,
     next_flush_at INTEGER,
     last_sent_at INTEGER,
     seq INTEGER NOT NULL DEFAULT 0
   ) STRICT;
   CREATE TABLE group_alerts (
     group_key TEXT NOT NULL REFERENCES groups (key) ON DELETE CASCADE,
     alert_id INTEGER NOT NULL,
     PRIMARY KEY (group_key, alert_id)
   ) STRICT;
   CREATE TABLE deliveries (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     key TEXT NOT NULL UNIQUE,
     group_key TEXT NOT NULL,
     agency TEXT NOT NULL,
     receiver TEXT NOT NULL,
     type TEXT NOT NULL,
     payload TEXT NOT NULL CHECK (json_valid(payload)),
     status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     done_at INTEGER,
     last_error TEXT
   ) STRICT;
   CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
   CREATE TABLE attempts (
     delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
     at INTEGER NOT NULL,
     ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
     latency_ms INTEGER NOT NULL,
     detail TEXT NOT NULL
   ) STRICT;
   CREATE INDEX attempts_by_delivery ON attempts (delivery_id);`,
  // 2: the open alerts with an escalation chain, and since when the notifier knows of each; whether a
  // group's alert was told (one never told is not told resolved either); silences; and each group's
  // generation, so a group that ended and starts again under the same labels never reuses a key.
  `CREATE TABLE watched (
     alert_id INTEGER PRIMARY KEY,
     since INTEGER NOT NULL
   ) STRICT;
   ALTER TABLE group_alerts ADD COLUMN told INTEGER NOT NULL DEFAULT 0 CHECK (told IN (0, 1));
   ALTER TABLE groups ADD COLUMN changed INTEGER NOT NULL DEFAULT 1 CHECK (changed IN (0, 1));
   ALTER TABLE groups ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE cursor ADD COLUMN group_gen INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE silences (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     match TEXT NOT NULL CHECK (json_valid(match)),
     starts_at INTEGER NOT NULL,
     ends_at INTEGER NOT NULL CHECK (ends_at >= starts_at),
     reason TEXT NOT NULL,
     created_by TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     ended_by TEXT
   ) STRICT;
   CREATE INDEX silences_by_end ON silences (ends_at);`,
];

export interface GroupRow {
  readonly key: string;
  readonly route: number;
  readonly labels: Record<string, string>;
  readonly receivers: readonly { agency: string; receiver: string; type: string }[];
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
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

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Delivery {
  readonly id: number;
  /** Stable across replays: the receiver's idempotency key. */
  readonly key: string;
  readonly groupKey: string;
  readonly agency: string;
  readonly receiver: string;
  readonly type: string;
  readonly payload: unknown;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly createdAt: number;
  readonly doneAt: number | null;
  readonly lastError: string | null;
}

export interface NewDelivery {
  readonly key: string;
  readonly groupKey: string;
  readonly agency: string;
  readonly receiver: string;
  readonly type: string;
  readonly payload: unknown;
}

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
const DELIVERY_COLUMNS = `id, key, group_key AS groupKey, agency, receiver, type, payload, status, attempts,
  next_attempt_at AS nextAttemptAt, created_at AS createdAt, done_at AS doneAt, last_error AS lastError`;
const GROUP_COLUMNS = `key, route, labels, receivers, group_interval_ms AS groupIntervalMs,
  repeat_interval_ms AS repeatIntervalMs, next_flush_at AS nextFlushAt, last_sent_at AS lastSentAt, seq,
  changed, gen`;

const SILENCE_COLUMNS = `id, match, starts_at AS startsAt, ends_at AS endsAt, reason, created_by AS createdBy,
  created_at AS createdAt, ended_by AS endedBy`;
const SilenceSql = z.object({
  id: z.number(),
  match: z.string(),
  startsAt: z.number(),
  endsAt: z.number(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.number(),
  endedBy: z.string().nullable(),
});

/** A silence's row, its columns under the contract's names (both databases write them so). */
export function toSilence(row: unknown): Silence {
  const r = SilenceSql.parse(row);
  return { ...r, match: JSON.parse(r.match) as Match };
}

function toDelivery(row: unknown): Delivery {
  const r = DeliverySql.parse(row);
  return { ...r, payload: JSON.parse(r.payload) as unknown };
}

export interface NotifyStore {
  cursor(): number;
  /** Runs `work` in one transaction (IMMEDIATE); what it wrote stands or falls together. */
  transaction<T>(work: () => T): T;
  setCursor(lastEventId: number): void;
  /**
   * Creates the group (with its first flush time), or leaves it as it is; then adds the alert to it and
   * marks it changed. Says whether it was created, and the timing of the group it joined.
   */
  joinGroup(
    g: Omit<GroupRow, 'alerts' | 'told' | 'changed' | 'seq' | 'gen' | 'lastSentAt'>,
    alertId: number,
  ): { created: boolean } & Pick<GroupRow, 'nextFlushAt' | 'lastSentAt' | 'groupIntervalMs'>;
  /** Sets when the group is next flushed (null: nothing to tell until an event or a repeat). */
  scheduleGroup(key: string, at: number | null): void;
  /** Groups with a flush due at `now`, or a repeat due (last sent + repeat interval). */
  dueGroups(now: number): GroupRow[];
  /**
   * The group was flushed: when `told` is not empty its sequence moves on and those alerts are marked
   * told; `leaving` alerts leave it, and it goes when empty; it is flushed next at `next` (null: at its
   * repeat interval, or when an event comes).
   */
  groupFlushed(
    key: string,
    at: number,
    change: { told: readonly number[]; leaving: readonly number[]; next: number | null },
  ): void;
  /** Queues a delivery unless one with its key exists; true when it was queued now. */
  addDelivery(d: NewDelivery, at: number): boolean;
  /** Pending deliveries due at `now`, oldest first, at most `limit`. */
  dueDeliveries(now: number, limit: number): Delivery[];
  /** Records an attempt; the delivery is delivered, dead, or pending again at `retryAt`. */
  recordAttempt(
    id: number,
    attempt: { at: number; ok: boolean; latencyMs: number; detail: string },
    outcome: { status: DeliveryStatus; retryAt?: number },
  ): void;
  addSilence(s: Omit<Silence, 'id' | 'endedBy'>): Silence;
  silence(id: number): Silence | undefined;
  /** Newest first; `endingAfter`: only those that end after this time (the active and pending). */
  silences(filter?: { endingAfter?: number; limit?: number }): Silence[];
  /** Ends a silence at `at` (if it would end later; a pending one never starts), recording who. */
  endSilence(id: number, by: string, at: number): Silence | undefined;
  /** Watches an alert for its escalation chain, from `since` (kept if it is watched already). */
  watch(alertId: number, since: number): void;
  /** The watched alerts, oldest first. */
  watched(): Array<{ alertId: number; since: number }>;
  unwatch(alertId: number): void;
  deliveries(filter?: { status?: DeliveryStatus; limit?: number }): Delivery[];
  /** How many deliveries there are of each status. */
  counts(): Record<DeliveryStatus, number>;
  /** The deliveries whose notification held this alert, oldest first. */
  deliveriesOfAlert(alertId: number): Delivery[];
  attempts(deliveryId: number): Array<{ at: number; ok: boolean; latencyMs: number; detail: string }>;
  close(): void;
}

function openDb(file: string): Database.Database {
  try {
    // FULL: a delivery once recorded as queued must still be there after a power cut.
    return openSqlite({ file, what: 'the notification store', migrations: MIGRATIONS });
  } catch (err) {
    throw new NotifyError('NOTIFY_ERR_STORE', `cannot open the notification store at ${file}`, {
      cause: err,
    });
  }
}

export function openNotifyStore(file: string): NotifyStore {
  const db = openDb(file);
  const s = {
    cursor: db.prepare<[], { last: number }>('SELECT last_event_id AS last FROM cursor WHERE id = 1'),
    setCursor: db.prepare<[number]>('UPDATE cursor SET last_event_id = ? WHERE id = 1'),
    groupAlerts: db.prepare<[string], { id: number; told: number }>(
      'SELECT alert_id AS id, told FROM group_alerts WHERE group_key = ? ORDER BY alert_id',
    ),
    told: db.prepare<[string, number]>(
      'UPDATE group_alerts SET told = 1 WHERE group_key = ? AND alert_id = ?',
    ),
    // Nothing told: the sequence stays; a group told before starts its repeat interval again, so that a
    // group whose alerts are all acknowledged or held is not due again at every tick.
    flushedQuiet: db.prepare<[number, number | null, string]>(
      `UPDATE groups SET last_sent_at = CASE WHEN last_sent_at IS NULL THEN NULL ELSE ? END, next_flush_at = ?,
         changed = 0 WHERE key = ?`,
    ),
    insertGroup: db.prepare<[Record<string, string | number | null>]>(
      `INSERT INTO groups (key, route, labels, receivers, group_interval_ms, repeat_interval_ms, next_flush_at)
       VALUES (@key, @route, @labels, @receivers, @groupIntervalMs, @repeatIntervalMs, @nextFlushAt)
       ON CONFLICT (key) DO NOTHING`,
    ),
    newGen: db.prepare('UPDATE cursor SET group_gen = group_gen + 1 WHERE id = 1'),
    setGen: db.prepare<[string]>(
      'UPDATE groups SET gen = (SELECT group_gen FROM cursor WHERE id = 1) WHERE key = ?',
    ),
    joinGroup: db.prepare<[string, number]>(
      'INSERT INTO group_alerts (group_key, alert_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
    ),
    changed: db.prepare<[string]>('UPDATE groups SET changed = 1 WHERE key = ?'),
    timing: db.prepare<
      [string],
      { nextFlushAt: number | null; lastSentAt: number | null; groupIntervalMs: number }
    >(
      `SELECT next_flush_at AS nextFlushAt, last_sent_at AS lastSentAt, group_interval_ms AS groupIntervalMs
       FROM groups WHERE key = ?`,
    ),
    schedule: db.prepare<[number | null, string]>('UPDATE groups SET next_flush_at = ? WHERE key = ?'),
    dueGroups: db.prepare<[{ now: number }]>(
      `SELECT ${GROUP_COLUMNS} FROM groups
       WHERE (next_flush_at IS NOT NULL AND next_flush_at <= @now)
          OR (last_sent_at IS NOT NULL AND last_sent_at + repeat_interval_ms <= @now)
       ORDER BY coalesce(next_flush_at, last_sent_at + repeat_interval_ms), key`,
    ),
    sent: db.prepare<[number, number | null, string]>(
      'UPDATE groups SET last_sent_at = ?, next_flush_at = ?, seq = seq + 1, changed = 0 WHERE key = ?',
    ),
    addSilence: db.prepare<[Record<string, string | number>]>(
      `INSERT INTO silences (match, starts_at, ends_at, reason, created_by, created_at)
       VALUES (@match, @startsAt, @endsAt, @reason, @createdBy, @createdAt)`,
    ),
    silence: db.prepare<[number]>(`SELECT ${SILENCE_COLUMNS} FROM silences WHERE id = ?`),
    silences: db.prepare<[{ after: number; limit: number }]>(
      `SELECT ${SILENCE_COLUMNS} FROM silences WHERE ends_at > @after ORDER BY id DESC LIMIT @limit`,
    ),
    endSilence: db.prepare<[{ id: number; by: string; at: number }]>(
      `UPDATE silences SET starts_at = min(starts_at, @at), ends_at = @at, ended_by = @by
       WHERE id = @id AND ends_at > @at`,
    ),
    leave: db.prepare<[string, number]>('DELETE FROM group_alerts WHERE group_key = ? AND alert_id = ?'),
    dropEmpty: db.prepare<[{ key: string }]>(
      'DELETE FROM groups WHERE key = @key AND NOT EXISTS (SELECT 1 FROM group_alerts WHERE group_key = @key)',
    ),
    addDelivery: db.prepare<[Record<string, string | number>]>(
      `INSERT INTO deliveries (key, group_key, agency, receiver, type, payload, status, next_attempt_at, created_at)
       VALUES (@key, @groupKey, @agency, @receiver, @type, @payload, 'pending', @at, @at)
       ON CONFLICT (key) DO NOTHING`,
    ),
    due: db.prepare<[number, number]>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?
       ORDER BY next_attempt_at, id LIMIT ?`,
    ),
    attempt: db.prepare<[number, number, number, number, string]>(
      'INSERT INTO attempts (delivery_id, at, ok, latency_ms, detail) VALUES (?, ?, ?, ?, ?)',
    ),
    outcome: db.prepare<[Record<string, string | number | null>]>(
      `UPDATE deliveries SET status = @status, attempts = attempts + 1, next_attempt_at = @retryAt,
         done_at = @doneAt, last_error = @error WHERE id = @id`,
    ),
    counts: db.prepare<[], { status: DeliveryStatus; n: number }>(
      'SELECT status, count(*) AS n FROM deliveries GROUP BY status',
    ),
    ofAlert: db.prepare<[number]>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE EXISTS (
         SELECT 1 FROM json_each(payload, '$.alerts') WHERE json_extract(value, '$.id') = ?)
       ORDER BY id`,
    ),
    watch: db.prepare<[number, number]>(
      'INSERT INTO watched (alert_id, since) VALUES (?, ?) ON CONFLICT DO NOTHING',
    ),
    watched: db.prepare<[], { alertId: number; since: number }>(
      'SELECT alert_id AS alertId, since FROM watched ORDER BY since, alert_id',
    ),
    unwatch: db.prepare<[number]>('DELETE FROM watched WHERE alert_id = ?'),
    attempts: db.prepare<[number], { at: number; ok: number; latencyMs: number; detail: string }>(
      'SELECT at, ok, latency_ms AS latencyMs, detail FROM attempts WHERE delivery_id = ? ORDER BY rowid',
    ),
  };
  const toGroup = (row: unknown): GroupRow => {
    const r = GroupSql.parse(row);
    const members = s.groupAlerts.all(r.key);
    return {
      ...r,
      labels: JSON.parse(r.labels) as Record<string, string>,
      receivers: JSON.parse(r.receivers) as GroupRow['receivers'],
      changed: r.changed === 1,
      alerts: members.map((a) => a.id),
      told: new Set(members.filter((a) => a.told === 1).map((a) => a.id)),
    };
  };

  return {
    cursor: () => s.cursor.get()?.last ?? 0,
    transaction: (work) => db.transaction(work).immediate(),
    setCursor: (id) => void s.setCursor.run(id),
    joinGroup(g, alertId) {
      const created = s.insertGroup.run({
        key: g.key,
        route: g.route,
        labels: JSON.stringify(g.labels),
        receivers: JSON.stringify(g.receivers),
        groupIntervalMs: g.groupIntervalMs,
        repeatIntervalMs: g.repeatIntervalMs,
        nextFlushAt: g.nextFlushAt,
      });
      if (created.changes === 1) {
        s.newGen.run();
        s.setGen.run(g.key);
      }
      s.joinGroup.run(g.key, alertId);
      s.changed.run(g.key);
      return { created: created.changes === 1, ...s.timing.get(g.key)! };
    },
    scheduleGroup: (key, at) => void s.schedule.run(at, key),
    dueGroups: (now) => s.dueGroups.all({ now }).map(toGroup),
    groupFlushed(key, at, change) {
      if (change.told.length > 0) s.sent.run(at, change.next, key);
      else s.flushedQuiet.run(at, change.next, key);
      for (const id of change.told) s.told.run(key, id);
      for (const id of change.leaving) s.leave.run(key, id);
      s.dropEmpty.run({ key });
    },
    addSilence(silence) {
      const { lastInsertRowid } = s.addSilence.run({ ...silence, match: JSON.stringify(silence.match) });
      return toSilence(s.silence.get(Number(lastInsertRowid)));
    },
    silence(id) {
      const row = s.silence.get(id);
      return row === undefined ? undefined : toSilence(row);
    },
    silences: (filter = {}) =>
      s.silences.all({ after: filter.endingAfter ?? -1, limit: filter.limit ?? 1000 }).map(toSilence),
    endSilence(id, by, at) {
      s.endSilence.run({ id, by, at });
      const row = s.silence.get(id);
      return row === undefined ? undefined : toSilence(row);
    },
    addDelivery(d, at) {
      const payload = JSON.stringify(d.payload);
      const { changes } = s.addDelivery.run({ ...d, payload, at });
      return changes === 1;
    },
    dueDeliveries: (now, limit) => s.due.all(now, limit).map(toDelivery),
    recordAttempt(id, a, o) {
      db.transaction(() => {
        s.attempt.run(id, a.at, a.ok ? 1 : 0, Math.round(a.latencyMs), a.detail);
        s.outcome.run({
          id,
          status: o.status,
          retryAt: o.retryAt ?? a.at,
          doneAt: o.status === 'pending' ? null : a.at,
          error: a.ok ? null : a.detail,
        });
      }).immediate();
    },
    watch: (alertId, since) => void s.watch.run(alertId, since),
    watched: () => s.watched.all(),
    unwatch: (alertId) => void s.unwatch.run(alertId),
    deliveries(filter = {}) {
      const where = filter.status === undefined ? '' : 'WHERE status = @status';
      return db
        .prepare(`SELECT ${DELIVERY_COLUMNS} FROM deliveries ${where} ORDER BY id DESC LIMIT @limit`)
        .all({
          limit: filter.limit ?? 100,
          ...(filter.status === undefined ? {} : { status: filter.status }),
        })
        .map(toDelivery);
    },
    counts() {
      const counts: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, dead: 0 };
      for (const r of s.counts.all()) counts[r.status] = r.n;
      return counts;
    },
    deliveriesOfAlert: (alertId) => s.ofAlert.all(alertId).map(toDelivery),
    attempts: (id) => s.attempts.all(id).map((a) => ({ ...a, ok: a.ok === 1 })),
    close: () => db.close(),
  };
}

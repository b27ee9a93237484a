// The notification store on one process: its own SQLite file (notify.db in the data folder), behind the
// contract of outbox.ts, and the silences operators make (silence-store.ts puts them behind theirs).
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/index.ts';
import { z } from 'zod';
import { NotifyError } from './errors.ts';
import {
  countsOf,
  toDelivery,
  toGroup,
  type Attempt,
  type DeliveryStatus,
  type NotifyStore,
  type NotifyWrite,
} from './outbox.ts';
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

/** The SQLite store: the contract, and the silences (synchronous, on one process). */
export interface SqliteNotifyStore extends NotifyStore {
  addSilence(s: Omit<Silence, 'id' | 'endedBy'>): Silence;
  silence(id: number): Silence | undefined;
  /** Newest first; `endingAfter`: only those that end after this time (the active and pending). */
  silences(filter?: { endingAfter?: number; limit?: number }): Silence[];
  /** Ends a silence at `at` (if it would end later; a pending one never starts), recording who. */
  endSilence(id: number, by: string, at: number): Silence | undefined;
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

export function openNotifyStore(file: string): SqliteNotifyStore {
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
    // A group told before and waiting for nothing is told again no sooner than its group_interval after.
    wakeGroup: db.prepare<[{ key: string; at: number }]>(
      `UPDATE groups SET next_flush_at = max(@at, coalesce(last_sent_at, @at) + group_interval_ms)
       WHERE key = @key AND next_flush_at IS NULL`,
    ),
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
         done_at = @doneAt, last_error = @error WHERE id = @id AND attempts = @before`,
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
  const group = (row: unknown) => toGroup(row, s.groupAlerts.all((row as { key: string }).key));
  const answer = <T>(run: () => T) => new Promise<T>((resolve) => resolve(run()));

  function write(w: NotifyWrite): number {
    switch (w.kind) {
      case 'join': {
        const g = w.group;
        const created = s.insertGroup.run({
          ...g,
          labels: JSON.stringify(g.labels),
          receivers: JSON.stringify(g.receivers),
        });
        if (created.changes === 1) {
          s.newGen.run();
          s.setGen.run(g.key);
        }
        s.joinGroup.run(g.key, w.alertId);
        s.changed.run(g.key);
        s.wakeGroup.run({ key: g.key, at: w.at });
        return 0;
      }
      case 'watch':
        s.watch.run(w.alertId, w.since);
        return 0;
      case 'deliver': {
        const payload = JSON.stringify(w.delivery.payload);
        return s.addDelivery.run({ ...w.delivery, payload, at: w.at }).changes;
      }
      case 'flushed':
        if (w.told.length > 0) s.sent.run(w.at, w.next, w.key);
        else s.flushedQuiet.run(w.at, w.next, w.key);
        for (const id of w.told) s.told.run(w.key, id);
        for (const id of w.leaving) s.leave.run(w.key, id);
        s.dropEmpty.run({ key: w.key });
        return 0;
    }
  }

  return {
    cursor: () => answer(() => s.cursor.get()?.last ?? 0),
    commit: (writes, cursor) =>
      answer(() =>
        db
          .transaction(() => {
            let queued = 0;
            for (const w of writes) queued += write(w);
            if (cursor !== undefined) s.setCursor.run(cursor);
            return { queued };
          })
          .immediate(),
      ),
    dueGroups: (now) => answer(() => s.dueGroups.all({ now }).map(group)),
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
    dueDeliveries: (now, limit) => answer(() => s.due.all(now, limit).map(toDelivery)),
    recordAttempt: (d, a: Attempt, o) =>
      answer(() =>
        db
          .transaction(() => {
            s.attempt.run(d.id, a.at, a.ok ? 1 : 0, Math.round(a.latencyMs), a.detail);
            s.outcome.run({
              id: d.id,
              before: d.attempts,
              status: o.status,
              retryAt: o.retryAt ?? a.at,
              doneAt: o.status === 'pending' ? null : a.at,
              error: a.ok ? null : a.detail,
            });
          })
          .immediate(),
      ),
    watched: () => answer(() => s.watched.all()),
    unwatch: (alertId) => answer(() => void s.unwatch.run(alertId)),
    deliveries: (filter = {}) =>
      answer(() => {
        const where = filter.status === undefined ? '' : 'WHERE status = @status';
        return db
          .prepare(`SELECT ${DELIVERY_COLUMNS} FROM deliveries ${where} ORDER BY id DESC LIMIT @limit`)
          .all({
            limit: filter.limit ?? 100,
            ...(filter.status === undefined ? {} : { status: filter.status }),
          })
          .map(toDelivery);
      }),
    counts: () => answer(() => countsOf(s.counts.all())),
    deliveriesOfAlert: (alertId) => answer(() => s.ofAlert.all(alertId).map(toDelivery)),
    attempts: (ids) =>
      answer(() => new Map(ids.map((id) => [id, s.attempts.all(id).map((a) => ({ ...a, ok: a.ok === 1 }))]))),
    close: () => answer(() => void db.close()),
  };
}

// The notification store in PostgreSQL, shared by a cluster's nodes (docs/cluster.md), behind the contract
// of outbox.ts. One node at a time writes it, the holder of the notifier's lease (lease.ts): each step's
// writes check the lease's token in their transaction, so a node that lost the lease without knowing it
// cannot write over its successor. Any node reads it: an operator sees every delivery, through any node.
import type { Logger } from 'pino';
import { openPostgres, type Sql, type TransactionSql } from '../postgres/index.ts';
import { NotifyError } from './errors.ts';
import { NOTIFIER_LEASE_TABLE, startNotifierLease, type NotifierLease } from './lease.ts';
import {
  countsOf,
  toDelivery,
  toGroup,
  type Attempt,
  type DeliveryStatus,
  type NotifyStore,
  type NotifyWrite,
} from './outbox.ts';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE notify_cursor (
     id integer PRIMARY KEY CHECK (id = 1),
     last_event_id bigint NOT NULL
   );
   INSERT INTO notify_cursor (id, last_event_id) VALUES (1, 0);
   -- Made on a database whose alerts were notified before (each node from its own file): go on from the
   -- latest event, not tell every alert of the past again.
   DO $$ BEGIN
     IF to_regclass('alert_events') IS NOT NULL THEN
       EXECUTE 'UPDATE notify_cursor SET last_event_id = (SELECT coalesce(max(id), 0) FROM alert_events)';
     END IF;
   END $$;
   CREATE SEQUENCE notify_group_gen;
   CREATE TABLE notify_groups (
     key text PRIMARY KEY,
     route integer NOT NULL,
     labels text NOT NULL CHECK (labels::jsonb IS NOT NULL),
     receivers text NOT NULL CHECK (receivers::jsonb IS NOT NULL),
     group_interval_ms bigint NOT NULL,
     repeat_interval_ms bigint NOT NULL,
     next_flush_at bigint,
     last_sent_at bigint,
     seq integer NOT NULL DEFAULT 0,
     changed smallint NOT NULL DEFAULT 1 CHECK (changed IN (0, 1)),
     gen bigint NOT NULL
   );
   CREATE TABLE notify_group_alerts (
     group_key text NOT NULL REFERENCES notify_groups (key) ON DELETE CASCADE,
     alert_id bigint NOT NULL,
     told smallint NOT NULL DEFAULT 0 CHECK (told IN (0, 1)),
     PRIMARY KEY (group_key, alert_id)
   );
   CREATE TABLE notify_watched (
     alert_id bigint PRIMARY KEY,
     since bigint NOT NULL
   );
   CREATE TABLE deliveries (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     key text NOT NULL UNIQUE,
     group_key text NOT NULL,
     agency text NOT NULL,
     receiver text NOT NULL,
     type text NOT NULL,
     payload text NOT NULL CHECK (payload::jsonb IS NOT NULL),
     status text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
     attempts integer NOT NULL DEFAULT 0,
     next_attempt_at bigint NOT NULL,
     created_at bigint NOT NULL,
     done_at bigint,
     last_error text
   );
   CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
   CREATE TABLE delivery_attempts (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     delivery_id bigint NOT NULL REFERENCES deliveries (id),
     at bigint NOT NULL,
     ok smallint NOT NULL CHECK (ok IN (0, 1)),
     latency_ms integer NOT NULL,
     detail text NOT NULL
   );
   CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id);
   ${NOTIFIER_LEASE_TABLE}`,
];

const DELIVERY_COLUMNS = `id, key, group_key AS "groupKey", agency, receiver, type, payload, status, attempts,
  next_attempt_at AS "nextAttemptAt", created_at AS "createdAt", done_at AS "doneAt", last_error AS "lastError"`;
const GROUP_COLUMNS = `key, route, labels, receivers, group_interval_ms AS "groupIntervalMs",
  repeat_interval_ms AS "repeatIntervalMs", next_flush_at AS "nextFlushAt", last_sent_at AS "lastSentAt", seq,
  changed, gen`;

export interface PostgresNotifyStoreOptions {
  readonly url: string;
  /**
   * In a cluster: this node's name. The store then holds the notifier's lease for it, and refuses a
   * step's writes while this node does not hold it; without, every write is taken (one process).
   */
  readonly lease?: {
    readonly node: string;
    readonly ttlMs?: number;
    readonly renewMs?: number;
    /** Whether this node's notifier still moves: a holder whose notifier is stuck stops renewing. */
    readonly alive?: () => boolean;
  };
  readonly log: Logger;
}

export interface PostgresNotifyStore extends NotifyStore {
  /** The notifier's lease, in a cluster. */
  readonly lease: NotifierLease | undefined;
}

export async function openPostgresNotifyStore(
  options: PostgresNotifyStoreOptions,
): Promise<PostgresNotifyStore> {
  const schema = {
    url: options.url,
    store: 'notify',
    what: 'the notification store',
    migrations: MIGRATIONS,
  };
  let pool: Sql | undefined;
  let leasePool: Sql | undefined;
  try {
    // A step that hangs (a connection half open, a lock never granted) fails and is tried again.
    pool = await openPostgres({
      ...schema,
      max: 4,
      timeouts: { statementMs: 10_000, idleInTransactionMs: 10_000 },
    });
    // The lease is renewed on its own connection: never behind the notifier's writes. A takeover waits at
    // most a second for a holder's write in flight (a frozen holder's lock ends with its idle transaction).
    if (options.lease !== undefined)
      leasePool = await openPostgres({
        ...schema,
        what: "the notifier's lease",
        max: 1,
        timeouts: { statementMs: 2_000, lockMs: 1_000 },
      });
  } catch (err) {
    await pool?.end({ timeout: 1 });
    throw new NotifyError('NOTIFY_ERR_STORE', 'cannot open the notification store in PostgreSQL', {
      cause: err,
    });
  }
  const sql = pool;
  const lease =
    leasePool === undefined || options.lease === undefined
      ? undefined
      : startNotifierLease({ sql: leasePool, ...options.lease, log: options.log });

  async function fence(tx: TransactionSql): Promise<void> {
    if (lease === undefined) return;
    const token = lease.token();
    const rows =
      token === undefined
        ? []
        : await tx.unsafe(
            'SELECT 1 FROM notifier_lease WHERE id = 1 AND owner = $1 AND token = $2 FOR KEY SHARE',
            [options.lease!.node, token],
          );
    if (rows.length === 0)
      throw new NotifyError('NOTIFY_ERR_FENCED', `node ${options.lease!.node} does not hold the lease`);
  }

  type Of<K extends NotifyWrite['kind']> = Extract<NotifyWrite, { kind: K }>;

  // A step's writes go in runs of one kind, each run a few statements over arrays (unnest) whatever its
  // length: a storm of a thousand alerts joining their groups is three statements, not three thousand.

  async function joins(tx: TransactionSql, run: ReadonlyArray<Of<'join'>>): Promise<void> {
    // The first join of a group in the run makes it (as in order, one at a time).
    const groups = [...new Map(run.map((w) => [w.group.key, w] as const).reverse()).values()].reverse();
    await tx.unsafe(
      `INSERT INTO notify_groups (key, route, labels, receivers, group_interval_ms, repeat_interval_ms,
         next_flush_at, gen)
       SELECT g.*, nextval('notify_group_gen') FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[],
         $5::bigint[], $6::bigint[], $7::bigint[]) AS g
       ON CONFLICT (key) DO NOTHING`,
      [
        groups.map((w) => w.group.key),
        groups.map((w) => w.group.route),
        groups.map((w) => JSON.stringify(w.group.labels)),
        groups.map((w) => JSON.stringify(w.group.receivers)),
        groups.map((w) => w.group.groupIntervalMs),
        groups.map((w) => w.group.repeatIntervalMs),
        groups.map((w) => w.group.nextFlushAt),
      ],
    );
    await tx.unsafe(
      `INSERT INTO notify_group_alerts (group_key, alert_id)
       SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING`,
      [run.map((w) => w.group.key), run.map((w) => w.alertId)],
    );
    // A group told before and waiting for nothing is told again no sooner than its group_interval after.
    await tx.unsafe(
      `UPDATE notify_groups g SET changed = 1, next_flush_at = coalesce(g.next_flush_at,
         greatest(u.at, coalesce(g.last_sent_at, u.at) + g.group_interval_ms))
       FROM unnest($1::text[], $2::bigint[]) AS u (key, at) WHERE g.key = u.key`,
      [groups.map((w) => w.group.key), groups.map((w) => w.at)],
    );
  }

  async function watches(tx: TransactionSql, run: ReadonlyArray<Of<'watch'>>): Promise<void> {
    await tx.unsafe(
      `INSERT INTO notify_watched (alert_id, since) SELECT * FROM unnest($1::bigint[], $2::bigint[])
       ON CONFLICT DO NOTHING`,
      [run.map((w) => w.alertId), run.map((w) => w.since)],
    );
  }

  /** Queues the deliveries whose key is new; how many. */
  async function delivers(tx: TransactionSql, run: ReadonlyArray<Of<'deliver'>>): Promise<number> {
    const rows = await tx.unsafe(
      `INSERT INTO deliveries (key, group_key, agency, receiver, type, payload, status, next_attempt_at,
         created_at)
       SELECT key, group_key, agency, receiver, type, payload, 'pending', at, at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
         AS d (key, group_key, agency, receiver, type, payload, at)
       ON CONFLICT (key) DO NOTHING RETURNING id`,
      [
        run.map((w) => w.delivery.key),
        run.map((w) => w.delivery.groupKey),
        run.map((w) => w.delivery.agency),
        run.map((w) => w.delivery.receiver),
        run.map((w) => w.delivery.type),
        run.map((w) => JSON.stringify(w.delivery.payload)),
        run.map((w) => w.at),
      ],
    );
    return rows.length;
  }

  /** Groups flushed (one write each in a step). */
  async function flushes(tx: TransactionSql, run: ReadonlyArray<Of<'flushed'>>): Promise<void> {
    const told = run.filter((w) => w.told.length > 0);
    const quiet = run.filter((w) => w.told.length === 0);
    const timing = (ws: ReadonlyArray<Of<'flushed'>>) => [
      ws.map((w) => w.key),
      ws.map((w) => w.at),
      ws.map((w) => w.next),
    ];
    if (told.length > 0)
      await tx.unsafe(
        `UPDATE notify_groups g SET last_sent_at = u.at, next_flush_at = u.next, seq = g.seq + 1, changed = 0
         FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u (key, at, next) WHERE g.key = u.key`,
        timing(told),
      );
    // Nothing told: the sequence stays; a group told before starts its repeat interval again.
    if (quiet.length > 0)
      await tx.unsafe(
        `UPDATE notify_groups g SET last_sent_at = CASE WHEN g.last_sent_at IS NULL THEN NULL ELSE u.at END,
           next_flush_at = u.next, changed = 0
         FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u (key, at, next) WHERE g.key = u.key`,
        timing(quiet),
      );
    const pairs = (pick: (w: Of<'flushed'>) => readonly number[]) => [
      run.flatMap((w) => pick(w).map(() => w.key)),
      run.flatMap((w) => pick(w)),
    ];
    await tx.unsafe(
      `UPDATE notify_group_alerts a SET told = 1 FROM unnest($1::text[], $2::bigint[]) AS p (key, id)
       WHERE a.group_key = p.key AND a.alert_id = p.id`,
      pairs((w) => w.told),
    );
    await tx.unsafe(
      `DELETE FROM notify_group_alerts a USING unnest($1::text[], $2::bigint[]) AS p (key, id)
       WHERE a.group_key = p.key AND a.alert_id = p.id`,
      pairs((w) => w.leaving),
    );
    await tx.unsafe(
      `DELETE FROM notify_groups g WHERE g.key = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM notify_group_alerts WHERE group_key = g.key)`,
      [run.map((w) => w.key)],
    );
  }

  /** The writes in order, each run of one kind at once; how many deliveries were queued. */
  async function write(tx: TransactionSql, writes: readonly NotifyWrite[]): Promise<number> {
    let queued = 0;
    for (let i = 0; i < writes.length;) {
      const kind = writes[i]!.kind;
      let end = i;
      while (end < writes.length && writes[end]!.kind === kind) end++;
      const run = writes.slice(i, end);
      i = end;
      if (kind === 'join') await joins(tx, run as Array<Of<'join'>>);
      else if (kind === 'watch') await watches(tx, run as Array<Of<'watch'>>);
      else if (kind === 'deliver') queued += await delivers(tx, run as Array<Of<'deliver'>>);
      else await flushes(tx, run as Array<Of<'flushed'>>);
    }
    return queued;
  }

  const deliveries = async (text: string, params: Array<string | number>) =>
    (await sql.unsafe(text, params)).map(toDelivery);

  return {
    lease,
    async cursor() {
      const [row] = await sql<
        { last: number }[]
      >`SELECT last_event_id AS last FROM notify_cursor WHERE id = 1`;
      return row?.last ?? 0;
    },
    commit: (writes, cursor) =>
      sql.begin(async (tx) => {
        await fence(tx);
        const queued = await write(tx, writes);
        if (cursor !== undefined)
          await tx.unsafe('UPDATE notify_cursor SET last_event_id = $1 WHERE id = 1', [cursor]);
        return { queued };
      }),
    async dueGroups(now) {
      const rows = await sql.unsafe<Array<{ key: string }>>(
        `SELECT ${GROUP_COLUMNS} FROM notify_groups
         WHERE (next_flush_at IS NOT NULL AND next_flush_at <= $1)
            OR (last_sent_at IS NOT NULL AND last_sent_at + repeat_interval_ms <= $1)
         ORDER BY coalesce(next_flush_at, last_sent_at + repeat_interval_ms), key`,
        [now],
      );
      if (rows.length === 0) return [];
      const members = await sql.unsafe<Array<{ group: string; id: number; told: number }>>(
        `SELECT group_key AS "group", alert_id AS id, told FROM notify_group_alerts
         WHERE group_key = ANY($1::text[]) ORDER BY alert_id`,
        [rows.map((r) => r.key)],
      );
      return rows.map((r) =>
        toGroup(
          r,
          members.filter((m) => m.group === r.key),
        ),
      );
    },
    watched: () =>
      sql<Array<{ alertId: number; since: number }>>`
        SELECT alert_id AS "alertId", since FROM notify_watched ORDER BY since, alert_id`.then((r) => [...r]),
    async unwatch(alertId) {
      await sql`DELETE FROM notify_watched WHERE alert_id = ${alertId}`;
    },
    dueDeliveries: (now, limit) =>
      deliveries(
        `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1
         ORDER BY next_attempt_at, id LIMIT $2`,
        [now, limit],
      ),
    async recordAttempt(d, a, o) {
      await sql.begin(async (tx) => {
        await tx.unsafe(
          'INSERT INTO delivery_attempts (delivery_id, at, ok, latency_ms, detail) VALUES ($1, $2, $3, $4, $5)',
          [d.id, a.at, a.ok ? 1 : 0, Math.round(a.latencyMs), a.detail],
        );
        await tx.unsafe(
          `UPDATE deliveries SET status = $3, attempts = attempts + 1, next_attempt_at = $4, done_at = $5,
             last_error = $6 WHERE id = $1 AND attempts = $2`,
          [
            d.id,
            d.attempts,
            o.status,
            o.retryAt ?? a.at,
            o.status === 'pending' ? null : a.at,
            a.ok ? null : a.detail,
          ],
        );
      });
    },
    deliveries: (filter = {}) =>
      filter.status === undefined
        ? deliveries(`SELECT ${DELIVERY_COLUMNS} FROM deliveries ORDER BY id DESC LIMIT $1`, [
            filter.limit ?? 100,
          ])
        : deliveries(
            `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE status = $2 ORDER BY id DESC LIMIT $1`,
            [filter.limit ?? 100, filter.status],
          ),
    async counts() {
      const rows = await sql<Array<{ status: DeliveryStatus; n: number }>>`
        SELECT status, count(*)::int AS n FROM deliveries GROUP BY status`;
      return countsOf(rows);
    },
    deliveriesOfAlert: (alertId) =>
      deliveries(
        `SELECT ${DELIVERY_COLUMNS} FROM deliveries
         WHERE payload::jsonb -> 'alerts' @> jsonb_build_array(jsonb_build_object('id', $1::bigint))
         ORDER BY id`,
        [alertId],
      ),
    async attempts(ids) {
      const rows = await sql.unsafe<
        Array<{ delivery: number; at: number; ok: number; latencyMs: number; detail: string }>
      >(
        `SELECT delivery_id AS delivery, at, ok, latency_ms AS "latencyMs", detail FROM delivery_attempts
         WHERE delivery_id = ANY($1::bigint[]) ORDER BY id`,
        [ids as number[]],
      );
      const byDelivery = new Map(ids.map((id) => [id, [] as Attempt[]]));
      for (const { delivery, ok, ...a } of rows) byDelivery.get(delivery)?.push({ ...a, ok: ok === 1 });
      return byDelivery;
    },
    async close() {
      await lease?.close();
      await leasePool?.end({ timeout: 5 });
      await sql.end({ timeout: 5 });
    },
  };
}

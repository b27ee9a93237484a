// The notifier's lease (docs/cluster.md): in a cluster, one node at a time reads the alert events, groups
// them and sends the notifications, whichever node raised the alerts; the others stand by. The lease is a
// row in PostgreSQL that its holder renews every `renewMs` and that lasts `ttlMs`: when the holder dies
// or is cut off, another node takes the lease once it runs out and goes on from the shared cursor, so a
// dead node's groups and deliveries still go out. Each taking adds one to the lease's token, and the
// notification store refuses the writes of a node whose token is not the current one (a fencing token):
// a node paused past its lease cannot move the cursor back or queue what the new holder queued already.
// Times are the database's, not the nodes'.
import type { Logger } from 'pino';
import type { Sql } from '../postgres/index.ts';

export interface NotifierLease {
  /** The token this node holds the lease with, if it holds it (and its lease has surely not run out). */
  token(): number | undefined;
  /** One renewal, or one try at taking the lease; for tests. */
  round(): Promise<void>;
  /** Stops renewing and gives the lease up, so that another node takes it at once. */
  close(): Promise<void>;
}

/** The lease's row, in the notification store's schema (store-postgres.ts). */
export const NOTIFIER_LEASE_TABLE = `
  CREATE TABLE notifier_lease (
    id integer PRIMARY KEY CHECK (id = 1),
    owner text,
    token bigint NOT NULL DEFAULT 0,
    expires_at bigint NOT NULL DEFAULT 0
  );
  INSERT INTO notifier_lease (id) VALUES (1);`;

/** The database's clock in ms. */
const NOW = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

export interface NotifierLeaseOptions {
  readonly sql: Sql;
  /** This node's name (CITY_NODE_ID). */
  readonly node: string;
  /** How long the lease lasts unless renewed, ms (5,000). */
  readonly ttlMs?: number;
  /** How often it is renewed, or tried for, ms (1,000). */
  readonly renewMs?: number;
  /**
   * Whether this node's notifier still moves (its loop ends its ticks): a holder whose notifier is stuck
   * lets the lease run out, so that another node notifies, and does not take it while stuck.
   */
  readonly alive?: () => boolean;
  readonly log: Logger;
}

export function startNotifierLease(options: NotifierLeaseOptions): NotifierLease {
  const { sql, node, log } = options;
  const ttlMs = options.ttlMs ?? 5_000;
  const renewMs = options.renewMs ?? 1_000;
  let held: number | undefined;
  /** Until when (this process's clock) the lease is surely ours: renewed before this, minus a margin. */
  let validUntil = 0;
  let closed = false;

  async function renew(token: number): Promise<boolean> {
    const rows = await sql.unsafe(
      `UPDATE notifier_lease SET expires_at = ${NOW} + $3 WHERE id = 1 AND owner = $1 AND token = $2
       RETURNING token`,
      [node, token, ttlMs],
    );
    return rows.length === 1;
  }

  // Taking locks the row FOR UPDATE, which waits for the old holder's writes in flight (they lock it FOR
  // KEY SHARE) and checks again that the lease is free once they are done.
  async function take(): Promise<number | undefined> {
    const [row] = await sql.unsafe<{ token: number }[]>(
      `UPDATE notifier_lease SET owner = $1, token = token + 1, expires_at = ${NOW} + $2
       WHERE id IN (SELECT id FROM notifier_lease
         WHERE id = 1 AND (owner IS NULL OR owner = $1 OR expires_at < ${NOW}) FOR UPDATE)
       RETURNING token`,
      [node, ttlMs],
    );
    return row?.token;
  }

  async function round(): Promise<void> {
    if (closed) return;
    const started = performance.now();
    if (options.alive?.() === false) {
      if (held !== undefined) log.error({ token: held }, 'the notifier is stuck: its lease is let run out');
      held = undefined;
      return;
    }
    try {
      if (held !== undefined && !(await renew(held))) {
        log.warn({ token: held }, 'notifier lease lost to another node');
        held = undefined;
      }
      if (held === undefined) {
        held = await take();
        if (held !== undefined) log.info({ token: held }, 'notifier lease taken: this node notifies');
      }
      if (held !== undefined) validUntil = started + ttlMs - Math.min(renewMs, ttlMs / 2);
    } catch (err) {
      log.error({ err }, 'notifier lease not renewed; trying again');
      // Past the lease, another node may have taken it: stop notifying here.
      if (held !== undefined && performance.now() > validUntil) held = undefined;
    }
  }

  let running: Promise<void> | undefined;
  const timer = setInterval(() => void (running ??= round().finally(() => (running = undefined))), renewMs);
  timer.unref();
  void (running = round().finally(() => (running = undefined)));

  return {
    token: () => (held !== undefined && performance.now() <= validUntil ? held : undefined),
    round: () => (running ??= round().finally(() => (running = undefined))),
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
      const token = held;
      held = undefined;
      if (token !== undefined)
        await sql
          .unsafe(`UPDATE notifier_lease SET owner = NULL, expires_at = 0 WHERE id = 1 AND token = $1`, [
            token,
          ])
          .catch((err: unknown) => log.error({ err }, 'notifier lease not given up at stop'));
    },
  };
}

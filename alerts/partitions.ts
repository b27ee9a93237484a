// Rules across a cluster's nodes (docs/cluster.md): the device space is cut into PARTITIONS by a hash of
// the device id, and each partition is leased to one node at a time in PostgreSQL, so that each device's
// rule states (sustains, windows, absence watches) are evaluated by exactly one node. A lease lasts
// `ttlMs` and its node renews it every `renewMs`; a node that stops renewing (killed, cut off) loses its
// partitions to the others once the lease runs out. Each node keeps about its share (the partitions over
// the nodes alive), so a node that joins is handed partitions and one that leaves hands them over.
// Every change of owner adds one to the partition's token: the alert store refuses a transition or a
// state written with an older token (a fencing token), so a node that lost a lease without knowing it
// (a long pause) cannot overwrite what the new owner did. Times are the database's, not the nodes'.
import type { Logger } from 'pino';
import type { Sql } from '../postgres/index.ts';

/** How many partitions the device space is cut into: enough to share among tens of nodes. */
export const PARTITIONS = 64;

/** A partition and its owner's token: what a transition or a state is written under. */
export interface Fence {
  readonly partition: number;
  readonly token: number;
}

/** The partition of a device: FNV-1a over its id's UTF-16 code units, the same on every node. */
export function partitionOf(device: string, partitions = PARTITIONS): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < device.length; i++) h = Math.imul(h ^ device.charCodeAt(i), 0x01000193);
  return (h >>> 0) % partitions;
}

/**
 * What changed in this node's leases: partitions gained, and partitions given up or lost, each with the
 * token it held (a state saved under a lost one is refused; under one given up, it is still taken).
 */
export interface LeaseChange {
  readonly gained: readonly Fence[];
  readonly lost: readonly Fence[];
}

export interface RuleLeases {
  /** The token this node holds for the partition, if it holds it. */
  fenceOf(partition: number): Fence | undefined;
  /** The partitions this node holds, in order. */
  held(): number[];
  /**
   * The node that holds the partition, as last read; undefined while it is free, or once its lease has run
   * out by then (its node stopped renewing: dead or cut off, so that what is sent there would be lost).
   */
  ownerOf(partition: number): string | undefined;
  /**
   * Told of every change, one at a time; partitions this node gives up are released once the listener
   * resolves (it saves their states first), those it lost are gone already.
   */
  onChange(listener: (change: LeaseChange) => Promise<void>): void;
  /** Starts renewing and balancing every renewMs; call once the listeners are there. */
  start(): void;
  /** One renewal and one balancing now; for tests. */
  round(): Promise<void>;
  /** Stops renewing and releases every partition held, so that the others take them at once. */
  close(): Promise<void>;
}

export interface RuleLeaseOptions {
  readonly sql: Sql;
  /** This node's name (CITY_NODE_ID). */
  readonly node: string;
  /** How long a lease lasts unless renewed, ms (5,000). */
  readonly ttlMs?: number;
  /** How often leases are renewed and shares balanced, ms (1,000). */
  readonly renewMs?: number;
  readonly log: Logger;
}

/** The tables, in the alert store's schema (store-postgres.ts). */
export const RULE_LEASE_TABLES = `
  CREATE TABLE rule_partitions (
    partition integer PRIMARY KEY,
    owner text,
    token bigint NOT NULL DEFAULT 0,
    expires_at bigint NOT NULL DEFAULT 0
  );
  INSERT INTO rule_partitions (partition) SELECT generate_series(0, ${PARTITIONS - 1});
  CREATE TABLE rule_nodes (node text PRIMARY KEY, seen_at bigint NOT NULL);`;

/** The database's clock in ms. */
const NOW = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

/** Runs `work` every `everyMs`, one at a time (a run still going when the next is due is let finish). */
function repeat(everyMs: number, work: () => Promise<void>): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const run = () => (running ??= work().finally(() => (running = undefined)));
  const timer = setInterval(() => void run(), everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

export function startRuleLeases(options: RuleLeaseOptions): RuleLeases {
  const { sql, node, log } = options;
  const ttlMs = options.ttlMs ?? 5_000;
  const renewMs = options.renewMs ?? 1_000;
  /** The partitions this node evaluates: held in the database and told to the listeners. */
  const held = new Map<number, Fence>();
  /** Other nodes' leases as last read: the holder, and until when (this process's clock) it holds. */
  let owners = new Map<number, { node: string; until: number }>();
  const listeners: Array<(change: LeaseChange) => Promise<void>> = [];
  /** Until when (this process's clock) the leases held are surely ours: renewed before this, minus a margin. */
  let validUntil = 0;
  let closed = false;

  const tell = async (change: LeaseChange) => {
    if (change.gained.length === 0 && change.lost.length === 0) return;
    for (const listener of listeners) await listener(change);
  };

  /** Lets partitions go here: told first (their states saved), then released unless lost already. */
  async function letGo(fences: readonly Fence[], release: boolean): Promise<void> {
    if (fences.length === 0) return;
    for (const f of fences) held.delete(f.partition);
    await tell({ gained: [], lost: fences }).catch((err: unknown) =>
      log.error({ err }, 'partitions let go; their states not all saved'),
    );
    if (release)
      await sql.unsafe(
        `UPDATE rule_partitions SET owner = NULL, expires_at = 0 WHERE owner = $1 AND partition = ANY($2::int[])`,
        [node, fences.map((f) => f.partition)],
      );
  }

  /** Takes partitions on here; if the listeners cannot (their states not read), they are released again. */
  async function take(fences: readonly Fence[]): Promise<void> {
    if (fences.length === 0) return;
    for (const f of fences) held.set(f.partition, f);
    try {
      await tell({ gained: fences, lost: [] });
      log.info({ partitions: fences.map((f) => f.partition) }, 'rule partitions taken');
    } catch (err) {
      log.error({ err }, 'rule partitions not taken over; released for another round');
      await letGo(fences, true);
    }
  }

  // Renewing is its own short transaction on its own timer, never behind a handover or the alert writes:
  // a node busy taking partitions over must not let the ones it has run out.
  async function renew(): Promise<void> {
    const started = performance.now();
    try {
      await sql.begin(async (tx) => {
        await tx.unsafe(
          `INSERT INTO rule_nodes (node, seen_at) VALUES ($1, ${NOW})
           ON CONFLICT (node) DO UPDATE SET seen_at = excluded.seen_at`,
          [node],
        );
        await tx.unsafe(`UPDATE rule_partitions SET expires_at = ${NOW} + $2 WHERE owner = $1`, [
          node,
          ttlMs,
        ]);
      });
      validUntil = started + ttlMs - renewMs;
    } catch (err) {
      log.error({ err }, 'rule leases not renewed; trying again');
      // Past the lease, another node may have taken them: stop evaluating them here.
      if (performance.now() > validUntil && held.size > 0) await letGo([...held.values()], false);
    }
  }

  // Balancing: partitions lost to others let go, those held beyond the share given back, free or expired
  // ones claimed up to it, and the owners read for the readings' routing.
  async function balance(): Promise<void> {
    try {
      const mine = await sql.unsafe<Fence[]>(
        `SELECT partition, token FROM rule_partitions WHERE owner = $1 AND expires_at > ${NOW}`,
        [node],
      );
      const [{ n } = { n: 1 }] = await sql.unsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM rule_nodes WHERE seen_at > ${NOW} - $1`,
        [ttlMs],
      );
      const share = Math.ceil(PARTITIONS / Math.max(1, n));
      const lost = [...held.values()].filter(
        (h) => !mine.some((f) => f.partition === h.partition && f.token === h.token),
      );
      if (lost.length > 0)
        log.warn({ partitions: lost.map((f) => f.partition) }, 'rule partitions lost to other nodes');
      await letGo(lost, false);
      // Held in the database but not here (a release that failed, a lease kept through an outage): taken on
      // again properly, states read, rather than adopted silently.
      await take(mine.filter((f) => !held.has(f.partition)));
      await letGo([...held.values()].sort((a, b) => a.partition - b.partition).slice(share), true);
      const need = share - held.size;
      if (need > 0 && !closed)
        await take(
          await sql.unsafe<Fence[]>(
            `UPDATE rule_partitions SET owner = $1, token = token + 1, expires_at = ${NOW} + $2
             WHERE partition IN (SELECT partition FROM rule_partitions
               WHERE owner IS NULL OR expires_at < ${NOW} ORDER BY partition LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING partition, token`,
            [node, ttlMs, need],
          ),
        );
      const rows = await sql.unsafe<{ partition: number; owner: string; remaining: number }[]>(
        `SELECT partition, owner, expires_at - ${NOW} AS remaining FROM rule_partitions WHERE owner IS NOT NULL`,
      );
      const at = performance.now();
      owners = new Map(rows.map((r) => [r.partition, { node: r.owner, until: at + r.remaining }]));
    } catch (err) {
      log.error({ err }, 'rule partitions not balanced; trying again');
    }
  }

  let renewing: ReturnType<typeof repeat> | undefined;
  let balancing: ReturnType<typeof repeat> | undefined;

  return {
    fenceOf: (partition) => held.get(partition),
    held: () => [...held.keys()].sort((a, b) => a - b),
    ownerOf(partition) {
      if (held.has(partition)) return node;
      const lease = owners.get(partition);
      return lease !== undefined && lease.until > performance.now() ? lease.node : undefined;
    },
    onChange: (listener) => void listeners.push(listener),
    start() {
      if (renewing !== undefined || closed) return;
      renewing = repeat(renewMs, renew);
      balancing = repeat(renewMs, balance);
    },
    async round() {
      await renew();
      await balance();
    },
    async close() {
      closed = true;
      await renewing?.stop();
      await balancing?.stop();
      await letGo([...held.values()], true).catch((err: unknown) =>
        log.error({ err }, 'rule partitions not released at stop'),
      );
      await sql`DELETE FROM rule_nodes WHERE node = ${node}`.catch(() => undefined);
    },
  };
}

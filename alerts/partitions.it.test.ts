// Rule partitions leased to a cluster's nodes, on a real PostgreSQL: the first node takes them all, a second
// one is handed its share, a node that stops renewing loses its partitions once its leases run out, a node
// that stops hands them back at once, and the alert store refuses what a node writes under a lease it lost.
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../test/kits/postgres.ts';
import { isAlertsError } from './errors.ts';
import { PARTITIONS, partitionOf, type Fence, type LeaseChange } from './partitions.ts';
import { openPostgresAlertStore, type PostgresAlertStore } from './store-postgres.ts';
import type { TriggerInput } from './types.ts';

let pg: TestPostgres;
let databases = 0;
const opened: PostgresAlertStore[] = [];
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(() => pg.stop());
afterEach(async () => {
  for (const s of opened.splice(0).reverse()) await s.close();
});

const TTL_MS = 2_000;
const log = pino({ level: 'silent' });

/** A node: the alert store with its leases, renewed only when the test says (`round`). */
async function node(url: string, name: string) {
  const store = await openPostgresAlertStore({
    url,
    origin: name,
    leases: { ttlMs: TTL_MS, renewMs: 3_600_000 },
    log,
  });
  opened.push(store);
  const leases = store.leases!;
  const changes: LeaseChange[] = [];
  leases.onChange((change) => {
    changes.push(change);
    return Promise.resolve();
  });
  const held = () =>
    Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => leases.fenceOf(p) !== undefined);
  return { store, leases, changes, held };
}

const flood = (device: string, at: number): TriggerInput => ({
  type: 'raise',
  rule: 'street-flooded',
  device,
  kind: 'flood',
  district: 'Phú Hội',
  owner: 'flood-control',
  title: 'Street flooded',
  severity: 'warning',
  message: '0.3 m of water',
  value: 0.3,
  threshold: 0.2,
  level: 1,
  at,
  source: 'rule',
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('rule partitions', () => {
  it('go all to the first node, and half to a second one once the first gives back its extra share', async () => {
    const url = await pg.database(`leases_${databases++}`);
    const a = await node(url, 'node-a');
    await a.leases.round();
    expect(a.held()).toHaveLength(PARTITIONS);
    const b = await node(url, 'node-b');
    await b.leases.round(); // two nodes alive now, but every partition is leased
    expect(b.held()).toEqual([]);
    await a.leases.round(); // a gives back the partitions above its share
    await b.leases.round(); // and b takes them
    expect(a.held()).toHaveLength(PARTITIONS / 2);
    expect(b.held()).toHaveLength(PARTITIONS / 2);
    expect(new Set([...a.held(), ...b.held()]).size).toBe(PARTITIONS);
    expect(a.changes.map((c) => [c.gained.length, c.lost.length])).toEqual([
      [PARTITIONS, 0],
      [0, PARTITIONS / 2],
    ]);
    // Each handover is a new token: a's old lease on b's partitions is no longer the lease.
    const moved = b.held()[0]!;
    const before = a.changes[0]!.gained.find((f) => f.partition === moved)!;
    expect(b.leases.fenceOf(moved)!.token).toBe(before.token + 1);
    expect(a.leases.ownerOf(moved)).toBeUndefined(); // a has not read the owners since
    await a.leases.round();
    expect(a.leases.ownerOf(moved)).toBe('node-b');
  });

  it('of a node that stops renewing go to the others once its leases run out, not before', async () => {
    const url = await pg.database(`leases_${databases++}`);
    const a = await node(url, 'node-a');
    const b = await node(url, 'node-b');
    await a.leases.round();
    await b.leases.round();
    await a.leases.round();
    await b.leases.round();
    const hadA = a.held();
    expect(hadA).toHaveLength(PARTITIONS / 2);
    // a stops renewing (its process paused or killed): b finds nothing free until the leases run out.
    await b.leases.round();
    expect(b.held()).toHaveLength(PARTITIONS / 2);
    await sleep(TTL_MS + 100);
    await b.leases.round();
    expect(b.held()).toHaveLength(PARTITIONS);
    expect(b.changes.at(-1)!.gained.map((f) => f.partition)).toEqual(hadA);
  });

  it('are handed back at once by a node that stops, its states saved first', async () => {
    const url = await pg.database(`leases_${databases++}`);
    const a = await node(url, 'node-a');
    const b = await node(url, 'node-b');
    await a.leases.round();
    await a.store.close();
    expect(a.changes.at(-1)!.lost).toHaveLength(PARTITIONS);
    await b.leases.round();
    expect(b.held()).toHaveLength(PARTITIONS);
  });
});

describe('rule partitions a node cannot take over', () => {
  it('are released again when their states cannot be read, and taken at a later round', async () => {
    const url = await pg.database(`leases_${databases++}`);
    const a = await node(url, 'node-a');
    let refuse = true;
    a.leases.onChange((change) =>
      change.gained.length > 0 && refuse ? Promise.reject(new Error('database busy')) : Promise.resolve(),
    );
    await a.leases.round();
    expect(a.held()).toEqual([]);
    expect(a.changes.map((c) => [c.gained.length, c.lost.length])).toEqual([
      [PARTITIONS, 0],
      [0, PARTITIONS],
    ]);
    refuse = false;
    await a.leases.round();
    expect(a.held()).toHaveLength(PARTITIONS);
    expect(a.changes.at(-1)!.gained).toHaveLength(PARTITIONS);
  });
});

describe('the alert store under a lease', () => {
  it('refuses a transition or a state written under a lease another node has taken since', async () => {
    const url = await pg.database(`leases_${databases++}`);
    const a = await node(url, 'node-a');
    const b = await node(url, 'node-b');
    await a.leases.round();
    const device = 'sf-le-loi';
    const p = partitionOf(device);
    const stale: Fence = a.leases.fenceOf(p)!;
    const state = { rule: 'street-flooded', device, state: { since: 1 }, fence: stale };
    expect((await a.store.trigger(flood(device, 1_000), state))!.event.type).toBe('raised');

    await sleep(TTL_MS + 100); // a pauses past its lease; b takes every partition
    await b.leases.round();
    const fresh = b.leases.fenceOf(p)!;
    expect(fresh.token).toBe(stale.token + 1);

    const refused = await a.store.triggerAll([{ input: flood(device, 2_000), state, fence: stale }]);
    expect(refused.map((o) => (o.ok ? 'ok' : isAlertsError(o.error) && o.error.code))).toEqual([
      'ALERTS_ERR_FENCED',
    ]);
    await expect(a.store.trigger(flood(device, 2_000), state)).rejects.toMatchObject({
      code: 'ALERTS_ERR_FENCED',
    });
    await a.store.saveStates([{ ...state, state: { since: 99 } }]);
    await b.store.saveStates([
      {
        rule: 'street-flooded',
        device: 'sf-other',
        state: { n: 1 },
        fence: b.leases.fenceOf(partitionOf('sf-other')),
      },
    ]);
    const saved = await b.store.loadStates();
    expect(saved.map((s) => [s.device, s.state])).toEqual([
      ['sf-le-loi', { since: 1 }],
      ['sf-other', { n: 1 }],
    ]);
    // In a cluster, a rule's transition without a lease is refused; a flow's alert is no partition's.
    const [unleased] = await b.store.triggerAll([{ input: flood('sf-third', 4_000) }]);
    expect(!unleased!.ok && isAlertsError(unleased!.error) && unleased!.error.code).toBe('ALERTS_ERR_FENCED');
    const flow = await b.store.triggerAll([{ input: { ...flood('sf-third', 4_000), source: 'flow' } }]);
    expect(flow[0]!.ok).toBe(true);
    // The new owner writes under its own lease; the alert is the same one.
    const update = await b.store.trigger(flood(device, 3_000), { ...state, fence: fresh });
    expect(update!.event.type).toBe('updated');
    expect(await b.store.loadStates({ partitions: [p] })).toEqual([
      expect.objectContaining({ device, state: { since: 1 } }),
    ]);
  });
});

// The notification store on both its databases, with the same tests: a real SQLite file (one process) and
// a real PostgreSQL (a cluster). Deliveries queued once per key, listed, counted, found by their alert,
// due in order, their attempts recorded, and an outcome recorded over a newer one refused; groups made,
// joined and flushed. Then, on PostgreSQL, the notifier's lease: one node at a time holds it, another
// node's writes are refused, and a node whose lease was taken over cannot write after its successor; a
// node whose notifier is stuck lets the lease go; and a store made on a database whose alerts were
// notified before goes on from the latest event.
import path from 'node:path';
import { pino } from 'pino';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { storeBackends } from '../test/kits/store-backends.ts';
import { isNotifyError } from './errors.ts';
import type { NewDelivery, NewGroup, NotifyStore } from './outbox.ts';
import { openPostgresAlertStore } from '../alerts/index.ts';
import { openPostgresNotifyStore, type PostgresNotifyStore } from './store-postgres.ts';
import { openNotifyStore } from './store-sqlite.ts';

const T0 = Date.UTC(2025, 9, 28, 6);
const log = pino({ level: 'silent' });
const { dir, database: freshDatabase, kept } = storeBackends('notify');

const BACKENDS = [
  { name: 'SQLite', open: () => Promise.resolve(kept(openNotifyStore(path.join(dir(), 'notify.db')))) },
  {
    name: 'PostgreSQL',
    open: async (): Promise<NotifyStore> =>
      kept(await openPostgresNotifyStore({ url: await freshDatabase(), log })),
  },
];

const delivery = (alerts: number[], receiver = 'duty-desk', key = `g.1#1/flood-control/${receiver}`) =>
  ({
    key,
    groupKey: 'g',
    agency: 'flood-control',
    receiver,
    type: 'webhook',
    payload: { key: 'g.1#1', alerts: alerts.map((id) => ({ id, device: `sf-${id}` })) },
  }) satisfies NewDelivery;

const group = (key: string, nextFlushAt: number): NewGroup => ({
  key,
  route: 0,
  labels: { agency: 'flood-control', district: 'Phú Hội' },
  receivers: [{ agency: 'flood-control', receiver: 'duty-desk', type: 'webhook' }],
  groupIntervalMs: 300_000,
  repeatIntervalMs: 3_600_000,
  nextFlushAt,
});

describe.each(BACKENDS)('the notification store on $name', (backend) => {
  it('queues a delivery once per key, lists, counts and finds it by its alert', async () => {
    const store = await backend.open();
    const first = await store.commit(
      [
        { kind: 'deliver', delivery: delivery([7, 8]), at: T0 },
        { kind: 'deliver', delivery: delivery([8], 'control-room'), at: T0 + 1 },
      ],
      41,
    );
    expect(first).toEqual({ queued: 2 });
    expect(await store.cursor()).toBe(41);
    // A replay of the same step queues nothing again.
    expect(await store.commit([{ kind: 'deliver', delivery: delivery([7, 8]), at: T0 + 5 }])).toEqual({
      queued: 0,
    });
    expect(await store.cursor()).toBe(41);
    const all = await store.deliveries();
    expect(all.map((d) => [d.receiver, d.status, d.createdAt])).toEqual([
      ['control-room', 'pending', T0 + 1],
      ['duty-desk', 'pending', T0],
    ]);
    expect(all[1]!.payload).toEqual(delivery([7, 8]).payload);
    expect((await store.deliveriesOfAlert(7)).map((d) => d.receiver)).toEqual(['duty-desk']);
    expect((await store.deliveriesOfAlert(8)).map((d) => d.receiver)).toEqual(['duty-desk', 'control-room']);
    expect(await store.deliveriesOfAlert(9)).toEqual([]);
    expect(await store.counts()).toEqual({ pending: 2, delivered: 0, dead: 0 });
    expect(await store.deliveries({ limit: 1 })).toHaveLength(1);
    // One key twice in one step: queued once.
    const twice = { kind: 'deliver' as const, delivery: delivery([9], 'duty-desk', 'g.2#1/x'), at: T0 + 2 };
    expect(await store.commit([twice, twice])).toEqual({ queued: 1 });
    expect(await store.counts()).toEqual({ pending: 3, delivered: 0, dead: 0 });
  });

  it('gives the due deliveries oldest first, records attempts, and keeps no outcome over a newer one', async () => {
    const store = await backend.open();
    await store.commit([
      { kind: 'deliver', delivery: delivery([1]), at: T0 },
      { kind: 'deliver', delivery: delivery([1], 'control-room'), at: T0 + 10 },
    ]);
    expect((await store.dueDeliveries(T0 + 5, 10)).map((d) => d.receiver)).toEqual(['duty-desk']);
    const [desk, room] = await store.dueDeliveries(T0 + 10, 10);
    await store.recordAttempt(
      desk!,
      { at: T0 + 20, ok: false, latencyMs: 12.4, detail: 'HTTP 503' },
      { status: 'pending', retryAt: T0 + 5_000 },
    );
    await store.recordAttempt(
      room!,
      { at: T0 + 20, ok: true, latencyMs: 8, detail: 'HTTP 200' },
      { status: 'delivered' },
    );
    expect(await store.dueDeliveries(T0 + 4_999, 10)).toEqual([]);
    const [again] = await store.dueDeliveries(T0 + 5_000, 10);
    expect(again).toMatchObject({ receiver: 'duty-desk', attempts: 1, lastError: 'HTTP 503' });
    // An attempt from a delivery read before that one (a node that lost its lease mid-send) is kept in
    // the record, but its outcome does not overwrite the newer one.
    await store.recordAttempt(
      desk!,
      { at: T0 + 30, ok: true, latencyMs: 9, detail: 'HTTP 200 late' },
      { status: 'delivered' },
    );
    expect((await store.deliveries({ status: 'pending' })).map((d) => d.attempts)).toEqual([1]);
    const attempts = await store.attempts([desk!.id, room!.id, 9_999]);
    expect(attempts.get(desk!.id)!.map((a) => [a.ok, a.latencyMs, a.detail])).toEqual([
      [false, 12, 'HTTP 503'],
      [true, 9, 'HTTP 200 late'],
    ]);
    expect(attempts.get(room!.id)!.map((a) => a.detail)).toEqual(['HTTP 200']);
    expect(attempts.get(9_999)).toEqual([]);
    expect(await store.counts()).toEqual({ pending: 1, delivered: 1, dead: 0 });
    expect((await store.deliveries({ status: 'delivered' }))[0]).toMatchObject({ doneAt: T0 + 20 });
  });

  it('makes, joins and flushes groups; one that ends and starts again is the next generation', async () => {
    const store = await backend.open();
    const g = group('0:{"district":"Phú Hội"}', T0 + 30_000);
    await store.commit([
      { kind: 'join', group: g, alertId: 1, at: T0 },
      { kind: 'join', group: { ...g, nextFlushAt: T0 + 99_000 }, alertId: 2, at: T0 + 1 },
    ]);
    expect(await store.dueGroups(T0 + 29_999)).toEqual([]);
    const [due] = await store.dueGroups(T0 + 30_000);
    expect(due).toMatchObject({ key: g.key, labels: g.labels, alerts: [1, 2], seq: 0, changed: true });
    const firstGen = due!.gen;
    await store.commit([
      { kind: 'flushed', key: g.key, at: T0 + 30_000, told: [1, 2], leaving: [], next: null },
    ]);
    // Told: next due at its repeat interval; an event for it then waits out its group interval.
    expect(await store.dueGroups(T0 + 60_000)).toEqual([]);
    await store.commit([{ kind: 'join', group: g, alertId: 2, at: T0 + 60_000 }]);
    const [changed] = await store.dueGroups(T0 + 330_000);
    expect(changed).toMatchObject({
      seq: 1,
      changed: true,
      nextFlushAt: T0 + 330_000,
      lastSentAt: T0 + 30_000,
    });
    expect([...changed!.told]).toEqual([1, 2]);
    await store.commit([
      { kind: 'flushed', key: g.key, at: T0 + 330_000, told: [], leaving: [1, 2], next: null },
    ]);
    expect(await store.dueGroups(T0 + 100 * 3_600_000)).toEqual([]);
    await store.commit([{ kind: 'join', group: g, alertId: 3, at: T0 + 400_000 }]);
    const [next] = await store.dueGroups(T0 + 100 * 3_600_000);
    expect(next).toMatchObject({ alerts: [3], seq: 0 });
    expect(next!.gen).toBeGreaterThan(firstGen);
  });

  it('watches an alert once, from when it was first watched', async () => {
    const store = await backend.open();
    await store.commit([
      { kind: 'watch', alertId: 5, since: T0 + 10 },
      { kind: 'watch', alertId: 4, since: T0 + 20 },
      { kind: 'watch', alertId: 5, since: T0 + 30 },
    ]);
    expect(await store.watched()).toEqual([
      { alertId: 5, since: T0 + 10 },
      { alertId: 4, since: T0 + 20 },
    ]);
    await store.unwatch(5);
    expect(await store.watched()).toEqual([{ alertId: 4, since: T0 + 20 }]);
  });
});

describe("the notifier's lease (PostgreSQL)", () => {
  /** A node's store with its lease; rounds are driven by the test (the timer's are a second apart). */
  const node = async (url: string, name: string, alive?: () => boolean): Promise<PostgresNotifyStore> =>
    kept(
      await openPostgresNotifyStore({
        url,
        lease: { node: name, ttlMs: 10_000, renewMs: 60_000, ...(alive === undefined ? {} : { alive }) },
        log,
      }),
    );
  const refused = (err: unknown) => isNotifyError(err) && err.code === 'NOTIFY_ERR_FENCED';
  const write = (store: NotifyStore, alertId: number) =>
    store.commit([{ kind: 'watch', alertId, since: T0 }], alertId);

  it('lets one node at a time write; the other takes over when it gives the lease up', async () => {
    const url = await freshDatabase();
    const a = await node(url, 'node-a');
    await a.lease!.round();
    const b = await node(url, 'node-b');
    await b.lease!.round();
    expect(a.lease!.token()).toBeDefined();
    expect(b.lease!.token()).toBeUndefined();
    await write(a, 1);
    await expect(write(b, 2)).rejects.toSatisfy(refused);
    expect(await b.cursor()).toBe(1);

    await a.close();
    await b.lease!.round();
    expect(b.lease!.token()).toBeGreaterThan(0);
    await write(b, 2);
    expect((await b.watched()).map((w) => w.alertId)).toEqual([1, 2]);
  });

  it("refuses the writes of a node whose lease ran out and was taken, after its successor's", async () => {
    const url = await freshDatabase();
    const a = await node(url, 'node-a');
    const b = await node(url, 'node-b');
    await a.lease!.round();
    await b.lease!.round();
    const stale = a.lease!.token()!;
    // node-a stops renewing (paused, cut off) until its lease runs out; node-b takes it.
    const raw = postgres(url, { max: 1, onnotice: () => undefined });
    await raw`UPDATE notifier_lease SET expires_at = 0`;
    await raw.end();
    await b.lease!.round();
    expect(b.lease!.token()).toBe(stale + 1);
    await write(b, 10);
    // node-a still believes it holds the lease (it has not renewed since): the store refuses it.
    expect(a.lease!.token()).toBe(stale);
    await expect(write(a, 5)).rejects.toSatisfy(refused);
    expect(await a.cursor()).toBe(10);
    // Its next renewal tells it the lease is gone.
    await a.lease!.round();
    expect(a.lease!.token()).toBeUndefined();
  });

  it('lets the lease go from a node whose notifier is stuck, and does not give it one', async () => {
    const url = await freshDatabase();
    let moving = true;
    const a = await node(url, 'node-a', () => moving);
    await a.lease!.round();
    expect(a.lease!.token()).toBeDefined();
    moving = false;
    await a.lease!.round();
    expect(a.lease!.token()).toBeUndefined();
    const raw = postgres(url, { max: 1, onnotice: () => undefined });
    await raw`UPDATE notifier_lease SET expires_at = 0`;
    await raw.end();
    await a.lease!.round();
    expect(a.lease!.token()).toBeUndefined();
    const b = await node(url, 'node-b');
    await b.lease!.round();
    expect(b.lease!.token()).toBeDefined();
  });

  it('starts after the latest alert event on a database whose alerts were notified before', async () => {
    const url = await freshDatabase();
    const alerts = await openPostgresAlertStore({ url, origin: 'node-a', log });
    kept(alerts);
    for (const device of ['sf-le-loi', 'sf-ba-trieu'])
      await alerts.trigger({
        ...{ type: 'raise', rule: 'street-flooded', device, kind: 'flood', district: 'Thuận Hóa' },
        ...{ owner: 'flood-control', title: 'Street flooded', severity: 'warning', message: '0.31 m' },
        ...{ value: 0.31, threshold: 0.3, level: 1, at: T0, source: 'rule' },
      });
    const [latest] = (await alerts.eventsAfter(0, 10)).slice(-1);
    const store = kept(await openPostgresNotifyStore({ url, log }));
    expect(await store.cursor()).toBe(latest!.event.id);
    expect(await store.cursor()).toBeGreaterThan(0);
  });
});

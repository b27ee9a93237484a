// The command store on both its databases, with the same tests: a real SQLite file (one process) and a
// real PostgreSQL (a cluster). A batch queued with its events, listed and filtered; sent, answered once,
// expired once; a result's check pending, what a reading showed of it, ended once. Then, on PostgreSQL
// with two nodes' stores: one id space, a batch queued through one node told to the other (not to
// itself), and an expiry raced by both made by one.
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { storeBackends } from '../test/kits/store-backends.ts';
import type { NewCommand } from './store.ts';
import { openPostgresCommandStore } from './store-postgres.ts';
import { openCommandStore } from './store-sqlite.ts';

const T0 = Date.UTC(2025, 10, 3, 11);
const HOUR = 3_600_000;
const log = pino({ level: 'silent' });
const { dir, database: freshDatabase, kept } = storeBackends('commands');

const BACKENDS = [
  { name: 'SQLite', open: () => Promise.resolve(kept(openCommandStore(path.join(dir(), 'commands.db')))) },
  {
    name: 'PostgreSQL',
    open: async () =>
      kept(await openPostgresCommandStore({ url: await freshDatabase(), origin: 'node-a', log })),
  },
];

const lamp = (n: number, checked = true): NewCommand => ({
  device: `sl-hung-vuong-${n}`,
  kind: 'streetlight',
  district: 'Thuận Hóa',
  params: { level_pct: 40 },
  checked,
});
const dim = (at = T0, expiresAt = T0 + HOUR) => ({
  type: 'set_dim' as const,
  target: { street: 'Hùng Vương' },
  by: 'Trực ban IOC',
  at,
  expiresAt,
});

describe.each(BACKENDS)('the command store on $name', (backend) => {
  it('queues a batch with its events, lists and filters it, and gives what waits for a device', async () => {
    const store = await backend.open();
    const first = await store.create(dim(), [lamp(1), lamp(2, false)]);
    expect(first.commands.map((c) => [c.device, c.state, c.batch, c.check, c.attempts])).toEqual([
      ['sl-hung-vuong-1', 'queued', first.batch, 'pending', 0],
      ['sl-hung-vuong-2', 'queued', first.batch, null, 0],
    ]);
    expect(first.commands[0]).toMatchObject({
      type: 'set_dim',
      params: { level_pct: 40 },
      by: 'Trực ban IOC',
      createdAt: T0,
      expiresAt: T0 + HOUR,
      checkSeen: null,
    });
    const second = await store.create(dim(T0 + 1), [lamp(1)]);
    expect(second.batch).toBeGreaterThan(first.batch);
    const [a, b] = first.commands;
    expect(await store.events(a!.id)).toEqual([{ at: T0, state: 'queued', detail: null }]);
    expect((await store.list({ limit: 10 })).map((c) => c.id)).toEqual([
      second.commands[0]!.id,
      b!.id,
      a!.id,
    ]);
    expect((await store.list({ device: 'sl-hung-vuong-1', limit: 10 })).map((c) => c.batch)).toEqual([
      second.batch,
      first.batch,
    ]);
    expect(await store.list({ batch: first.batch, before: b!.id, limit: 10 })).toEqual([a]);
    expect(await store.list({ state: 'sent', limit: 10 })).toEqual([]);
    expect((await store.waiting('sl-hung-vuong-1')).map((c) => c.id)).toEqual([
      a!.id,
      second.commands[0]!.id,
    ]);
    expect((await store.queued(first.batch)).map((c) => c.id)).toEqual([a!.id, b!.id]);
    expect(await store.queued()).toHaveLength(3);
    expect(await store.get(a!.id)).toEqual(a);
    expect(await store.get(9_999)).toBeUndefined();
  });

  it('sends, takes one answer from the device it was for, and expires what still waits, once', async () => {
    const store = await backend.open();
    const { commands } = await store.create(dim(), [lamp(1), lamp(2, false), lamp(3)]);
    const [a, b, c] = commands.map((x) => x.id) as [number, number, number];
    expect((await store.markSent([a, b], T0 + 10)).map((x) => [x.id, x.state, x.attempts])).toEqual([
      [a, 'sent', 1],
      [b, 'sent', 1],
    ]);
    expect((await store.markSent([a], T0 + 20)).map((x) => x.attempts)).toEqual([2]);
    // Sent already: not sent again by a path that sends only what is still queued.
    expect(await store.markSent([a], T0 + 25, true)).toEqual([]);
    expect(await store.queued()).toHaveLength(1);
    // Another device's answer is not taken; the device's own is, once.
    expect(await store.finish(a, 'sl-hung-vuong-9', 'acknowledged', T0 + 30, null, null)).toBeUndefined();
    const done = await store.finish(a, 'sl-hung-vuong-1', 'acknowledged', T0 + 30, null, T0 + 60_000);
    expect(done).toMatchObject({ state: 'acknowledged', check: 'pending', checkDue: T0 + 60_000 });
    expect(await store.finish(a, 'sl-hung-vuong-1', 'failed', T0 + 40, 'late', null)).toBeUndefined();
    const refused = await store.finish(b, 'sl-hung-vuong-2', 'failed', T0 + 30, 'no power', null);
    expect(refused).toMatchObject({ state: 'failed', detail: 'no power', check: null });
    expect(await store.expire(T0 + HOUR - 1)).toEqual([]);
    expect((await store.expire(T0 + HOUR)).map((x) => [x.id, x.state, x.check])).toEqual([
      [c, 'expired', null],
    ]);
    expect(await store.expire(T0 + HOUR)).toEqual([]);
    expect(await store.markSent([c], T0 + HOUR + 1)).toEqual([]);
    expect((await store.events(a)).map((e) => e.state)).toEqual(['queued', 'sent', 'sent', 'acknowledged']);
    expect(await store.events(b)).toContainEqual({ at: T0 + 30, state: 'failed', detail: 'no power' });
  });

  it("keeps a pending check's last value seen, and ends the check once", async () => {
    const store = await backend.open();
    const { commands } = await store.create(dim(), [lamp(1), lamp(2)]);
    const [a, b] = commands.map((x) => x.id) as [number, number];
    await store.finish(a, 'sl-hung-vuong-1', 'acknowledged', T0 + 10, null, T0 + 60_000);
    await store.finish(b, 'sl-hung-vuong-2', 'acknowledged', T0 + 10, null, T0 + 90_000);
    expect((await store.devicesChecking()).sort()).toEqual(['sl-hung-vuong-1', 'sl-hung-vuong-2']);
    await store.seen(a, 100);
    expect((await store.pendingChecks('sl-hung-vuong-1')).map((x) => [x.id, x.checkSeen])).toEqual([
      [a, 100],
    ]);
    await store.seen(a, false);
    expect((await store.get(a))?.checkSeen).toBe(false);
    const judged: Array<[number, number | boolean | null]> = [];
    const ended = await store.endDueChecks(T0 + 60_000, (c) => {
      judged.push([c.id, c.checkSeen]);
      return { check: 'mismatched', detail: 'level_pct 100, expected 40' };
    });
    expect(judged).toEqual([[a, false]]);
    expect(ended.map((e) => [e.command.id, e.command.check, e.check])).toEqual([
      [a, 'mismatched', 'mismatched'],
    ]);
    expect(await store.endDueChecks(T0 + 60_000, () => ({ check: 'unverified', detail: '' }))).toEqual([]);
    expect(await store.setCheck(a, 'matched', T0 + 60_001, 'level_pct 40')).toBeUndefined();
    await store.seen(a, 40); // ended: nothing more is kept
    expect((await store.get(a))?.checkSeen).toBe(false);
    expect(await store.devicesChecking()).toEqual(['sl-hung-vuong-2']);
    expect((await store.events(a)).at(-1)).toEqual({
      at: T0 + 60_000,
      state: 'mismatched',
      detail: 'level_pct 100, expected 40',
    });
  });
});

describe("two nodes' command stores on one PostgreSQL", () => {
  it('give ids from one space, tell each batch to the other node, and expire each command once', async () => {
    const url = await freshDatabase();
    const a = kept(await openPostgresCommandStore({ url, origin: 'node-a', log }));
    const b = kept(await openPostgresCommandStore({ url, origin: 'node-b', log }));
    const toldA: Array<number | undefined> = [];
    const toldB: Array<number | undefined> = [];
    a.onQueuedElsewhere!((batch) => toldA.push(batch));
    b.onQueuedElsewhere!((batch) => toldB.push(batch));
    const fromA = await a.create(dim(), [lamp(1), lamp(2)]);
    const fromB = await b.create(dim(), [lamp(3)]);
    const ids = [...fromA.commands, ...fromB.commands].map((c) => c.id);
    expect(new Set(ids).size).toBe(3);
    await expect.poll(() => toldB).toEqual([fromA.batch]);
    await expect.poll(() => toldA).toEqual([fromB.batch]);
    const [x, y] = await Promise.all([a.expire(T0 + HOUR), b.expire(T0 + HOUR)]);
    expect([...x, ...y].map((c) => c.id).sort((p, q) => p - q)).toEqual([...ids].sort((p, q) => p - q));
    for (const id of ids) expect((await a.events(id)).map((e) => e.state)).toEqual(['queued', 'expired']);
  });

  it('end each due check once when both end checks at the same tick', async () => {
    const url = await freshDatabase();
    const a = kept(await openPostgresCommandStore({ url, origin: 'node-a', log }));
    const b = kept(await openPostgresCommandStore({ url, origin: 'node-b', log }));
    const lamps = Array.from({ length: 200 }, (_, i) => lamp(i));
    const { commands } = await a.create(dim(), lamps);
    for (const c of commands) await a.finish(c.id, c.device, 'acknowledged', T0 + 10, null, T0 + 60_000);
    const judge = () => ({ check: 'unverified' as const, detail: 'no reading that could show dim_pct' });
    const [x, y] = await Promise.all([
      a.endDueChecks(T0 + 60_000, judge),
      b.endDueChecks(T0 + 60_000, judge),
    ]);
    const ids = [...x, ...y].map((e) => e.command.id).sort((p, q) => p - q);
    expect(ids).toEqual(commands.map((c) => c.id));
    for (const id of [commands[0]!.id, commands[199]!.id])
      expect((await b.events(id)).map((e) => e.state)).toEqual(['queued', 'acknowledged', 'unverified']);
    expect(await a.devicesChecking()).toEqual([]);
  });
});

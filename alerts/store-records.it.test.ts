// What the alert store keeps, on both its databases with the same tests (a SQLite file, a PostgreSQL):
// filtered listing, what survives a reopen, the rules' states saved by partition, the event log (the
// notifier's outbox), referrals along an escalation chain, response times per owner; and, for SQLite,
// the first schema's file carried over.
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { alertStoreBackends, codeOf, MIN, T0, trigger } from '../test/kits/alert-store-backends.ts';
import { partitionOf } from './partitions.ts';
import { ALERT_STORE_MIGRATIONS } from './store-sqlite-schema.ts';
import { openAlertStore } from './store-sqlite.ts';
import type { AlertStore } from './types.ts';

const { sqlite, postgres, dir, kept } = alertStoreBackends();

describe.each([sqlite, postgres])('the alert store in $name', (db) => {
  beforeEach(() => db.fresh());
  const open = () => db.open();

  describe('listing', () => {
    it('gives several alerts with their events at once, in id order, leaving out an unknown id', async () => {
      const store = await open();
      const a = (await store.trigger(trigger()))!.alert.id;
      const b = (await store.trigger(trigger({ device: 'rg-phu-oc' })))!.alert.id;
      await store.trigger(trigger({ at: T0 + MIN, severity: 'critical' }));
      const found = await store.getMany([b, 9_999, a, b]);
      expect(found.map((f) => [f.alert.id, f.events.map((e) => e.type)])).toEqual([
        [a, ['raised', 'escalated']],
        [b, ['raised']],
      ]);
      expect(found[0]).toEqual(await store.get(a));
      expect(await store.getMany([])).toEqual([]);
    });

    async function seed(store: AlertStore): Promise<number[]> {
      const ids: number[] = [];
      for (const t of [
        trigger({ at: T0 }),
        trigger({ at: T0 + MIN, device: 'rg-phu-oc', district: 'Phú Ốc', severity: 'critical' }),
        trigger({
          at: T0 + 2 * MIN,
          rule: 'pm25-high',
          device: 'aq-1',
          kind: 'air_quality',
          owner: 'environment',
          district: 'Phú Hội',
        }),
        trigger({
          at: T0 + 3 * MIN,
          rule: 'lamp-out',
          device: 'lamp-1',
          kind: 'streetlight',
          owner: 'lighting',
          severity: 'info',
        }),
      ])
        ids.push((await store.trigger(t))!.alert.id);
      return ids;
    }

    it('combines every filter with AND, newest raised first, up to the limit', async () => {
      const store = await open();
      const [river, phuOc, air, lamp] = await seed(store);
      await store.acknowledge(phuOc!, 'op', undefined, T0 + 5 * MIN);
      await store.resolve(lamp!, 'op', undefined, T0 + 5 * MIN);
      const ids = async (filter: Parameters<AlertStore['list']>[0]) =>
        (await store.list(filter)).map((a) => a.id);
      expect(await ids({})).toEqual([lamp, air, phuOc, river]);
      expect(await ids({ state: ['open', 'acknowledged'] })).toEqual([air, phuOc, river]);
      expect(await ids({ state: ['resolved'] })).toEqual([lamp]);
      expect(await ids({ severity: ['critical', 'info'] })).toEqual([lamp, phuOc]);
      expect(await ids({ owner: 'flood-control' })).toEqual([phuOc, river]);
      expect(await ids({ kind: 'air_quality' })).toEqual([air]);
      expect(await ids({ district: 'Kim Long' })).toEqual([lamp, river]);
      expect(await ids({ device: 'rg-phu-oc', rule: 'river-alarm' })).toEqual([phuOc]);
      expect(await ids({ from: T0 + MIN, to: T0 + 3 * MIN })).toEqual([air, phuOc]);
      expect(await ids({ owner: 'flood-control', severity: ['warning'], state: ['open'] })).toEqual([river]);
      expect(await ids({ limit: 2 })).toEqual([lamp, air]);
      expect(await ids({ state: [] })).toEqual([]);
      expect(await ids({ owner: "x' OR '1'='1" })).toEqual([]);
      expect((await store.listOpen()).map((a) => a.id)).toEqual([air, phuOc, river]);
    });
  });

  describe('persistence', () => {
    it('keeps alerts, their history and the saved states across a reopen', async () => {
      const first = await open();
      const id = (await first.trigger(trigger(), {
        rule: 'river-alarm',
        device: 'rg-kim-long',
        state: { n: 1 },
      }))!.alert.id;
      await first.acknowledge(id, 'op', 'seen', T0 + MIN);
      await first.saveStates([
        { rule: 'lamp-out', device: 'lamp-1', state: { lastSeen: T0 } },
        { rule: 'pm25-high', device: 'aq-1', state: [1, 2, 3] },
      ]);
      await first.saveStates([{ rule: 'lamp-out', device: 'lamp-1', state: null }]);
      const before = await first.get(id);
      await first.close();

      const second = await open();
      expect(await second.get(id)).toEqual(before);
      expect((await second.openFor('river-alarm', 'rg-kim-long'))!.state).toBe('acknowledged');
      expect(await second.loadStates()).toEqual([
        { rule: 'pm25-high', device: 'aq-1', state: [1, 2, 3], savedAt: T0 },
        { rule: 'river-alarm', device: 'rg-kim-long', state: { n: 1 }, savedAt: T0 },
      ]);
      expect((await second.trigger(trigger({ device: 'rg-phu-oc' })))!.alert.id).toBeGreaterThan(id);
    });
  });

  describe('saved states by partition', () => {
    it('saves a checkpoint of thousands of states in one call, the last of one (rule, device) winning', async () => {
      const store = await open();
      const many = Array.from({ length: 3_000 }, (_, i) => ({ rule: 'r', device: `d-${i}`, state: { i } }));
      await store.saveStates([...many, { rule: 'r', device: 'd-7', state: { i: 'last' } }]);
      await store.saveStates([{ rule: 'r', device: 'd-8', state: null }]);
      const saved = await store.loadStates();
      expect(saved).toHaveLength(2_999);
      expect(saved.find((s) => s.device === 'd-7')?.state).toEqual({ i: 'last' });
      expect(saved.some((s) => s.device === 'd-8')).toBe(false);
    });

    it("gives a node taking partitions over only their devices' states", async () => {
      const store = await open();
      const devices = ['rg-kim-long', 'rg-phu-oc', 'sf-le-loi', 'sf-ba-trieu', 'aq-1', 'aq-2'];
      await store.saveStates(devices.map((device) => ({ rule: 'r', device, state: { device } })));
      const some = [...new Set(devices.slice(0, 3).map((d) => partitionOf(d)))];
      const wanted = devices.filter((d) => some.includes(partitionOf(d))).sort();
      expect((await store.loadStates({ partitions: some })).map((s) => s.device).sort()).toEqual(wanted);
      expect(await store.loadStates({ partitions: [] })).toEqual([]);
      expect(await store.loadStates()).toHaveLength(devices.length);
    });
  });

  describe('the event log', () => {
    it('gives every transition after an id, oldest first and bounded, with its alert as it is now, also after a reopen', async () => {
      const first = await open();
      const raised = (await first.trigger(trigger()))!;
      await first.trigger(trigger({ severity: 'critical', level: 1, at: T0 + MIN }));
      const other = (await first.trigger(trigger({ device: 'rg-phu-oc', at: T0 + 2 * MIN })))!;
      await first.acknowledge(raised.alert.id, 'op', undefined, T0 + 3 * MIN);
      const all = await first.eventsAfter(0, 100);
      expect(all.map((c) => [c.alert.device, c.event.type])).toEqual([
        ['rg-kim-long', 'raised'],
        ['rg-kim-long', 'escalated'],
        ['rg-phu-oc', 'raised'],
        ['rg-kim-long', 'acknowledged'],
      ]);
      // The alert as it is now; the event as it was.
      expect(all[0]!.alert.state).toBe('acknowledged');
      expect(all[0]!.event).toMatchObject({ state: 'open', severity: 'warning' });
      expect((await first.eventsAfter(raised.event.id, 2)).map((c) => c.event.type)).toEqual([
        'escalated',
        'raised',
      ]);
      await first.close();
      const second = await open();
      expect((await second.eventsAfter(other.event.id, 100)).map((c) => c.event.type)).toEqual([
        'acknowledged',
      ]);
      expect(await second.eventsAfter(all.at(-1)!.event.id, 100)).toEqual([]);
    });
  });

  describe('referrals', () => {
    it('refers an open alert once per step, and not once it is acknowledged', async () => {
      const store = await open();
      const { alert } = (await store.trigger(trigger()))!;
      expect(await store.refer(alert.id, 1, 'step 2 before step 1', T0 + MIN)).toBeUndefined();
      const first = (await store.refer(alert.id, 0, 'referred to ioc', T0 + 15 * MIN))!;
      expect(first.event).toMatchObject({
        type: 'referred',
        state: 'open',
        note: 'referred to ioc',
        by: null,
      });
      expect(first.alert.updatedAt).toBe(new Date(T0 + 15 * MIN).toISOString());
      expect(await store.refer(alert.id, 0, 'again', T0 + 16 * MIN)).toBeUndefined();
      expect((await store.get(alert.id))!.events.filter((e) => e.type === 'referred')).toHaveLength(1);
      await store.acknowledge(alert.id, 'duty officer', undefined, T0 + 20 * MIN);
      expect(await store.refer(alert.id, 1, 'too late', T0 + 45 * MIN)).toBeUndefined();
      expect((await store.get(alert.id))!.events.map((e) => e.type)).toEqual([
        'raised',
        'referred',
        'acknowledged',
      ]);
      expect(await codeOf(() => store.refer(999, 0, 'none', T0))).toBe('ALERTS_ERR_NOT_FOUND');
    });
  });

  describe('response times', () => {
    it('gives per owner the counts and mean ms to acknowledge and to resolve over alerts raised in range', async () => {
      const store = await open();
      const raise = async (owner: string, device: string, at: number) =>
        (await store.trigger(trigger({ owner, device, at })))!.alert.id;
      const f1 = await raise('flood-control', 'g1', T0);
      const f2 = await raise('flood-control', 'g2', T0 + MIN);
      await raise('flood-control', 'g3', T0 + 2 * MIN);
      await raise('lighting', 'lamp-1', T0);
      const late = await raise('lighting', 'lamp-2', T0 + 60 * MIN);
      await store.acknowledge(f1, 'op', undefined, T0 + 2 * MIN); // 2 min
      await store.acknowledge(f2, 'op', undefined, T0 + 5 * MIN); // 4 min
      await store.resolve(f1, 'op', undefined, T0 + 10 * MIN); // 10 min
      await store.trigger(
        trigger({ type: 'clear', owner: 'flood-control', device: 'g3', at: T0 + 22 * MIN }),
      ); // 20 min
      await store.resolve(late, 'op', undefined, T0 + 61 * MIN); // outside the range below
      expect(await store.responseTimes({ from: T0, to: T0 + 30 * MIN })).toEqual([
        { owner: 'flood-control', acknowledged: 2, meanAckMs: 3 * MIN, resolved: 2, meanResolveMs: 15 * MIN },
        { owner: 'lighting', acknowledged: 0, meanAckMs: null, resolved: 0, meanResolveMs: null },
      ]);
      expect((await store.responseTimes({})).find((r) => r.owner === 'lighting')).toEqual({
        owner: 'lighting',
        acknowledged: 0,
        meanAckMs: null,
        resolved: 1,
        meanResolveMs: MIN,
      });
      expect(await store.responseTimes({ from: T0 + 90 * MIN })).toEqual([]);
    });
  });
});

describe('the first schema in SQLite', () => {
  it('is carried over: events keep their ids, the next one follows them, and referrals can be written', async () => {
    const file = path.join(dir(), 'alerts.db');
    const v1 = new Database(file);
    v1.exec(ALERT_STORE_MIGRATIONS[0]!);
    v1.pragma('user_version = 1');
    v1.exec(`INSERT INTO alerts (rule, device, kind, district, owner, title, severity, state, source, message,
        level, raised_at, updated_at)
      VALUES ('river-alarm', 'rg-kim-long', 'flood', 'Kim Long', 'flood-control', 'Hương above alarm 1',
        'critical', 'open', 'rule', 'water level 3.6 m', 1, ${T0}, ${T0 + MIN});
      INSERT INTO alert_events (alert_id, type, at, severity, state, message, level)
      VALUES (1, 'raised', ${T0}, 'warning', 'open', 'water level 3.1 m', 1),
             (1, 'escalated', ${T0 + MIN}, 'critical', 'open', 'water level 3.6 m', 1);`);
    expect(() => v1.exec("UPDATE alert_events SET type = 'referred' WHERE id = 2")).toThrow(/CHECK/);
    v1.close();

    const store = kept(openAlertStore({ file, clock: () => T0 }));
    expect((await store.get(1))!.events.map((e) => [e.id, e.type])).toEqual([
      [1, 'raised'],
      [2, 'escalated'],
    ]);
    expect((await store.refer(1, 0, 'referred to ioc', T0 + 15 * MIN))!.event.id).toBe(3);
    // Schema 3: the alerts table rebuilt for source `command`, its ids, sequence and one-open rule kept.
    const next = (await store.trigger(
      trigger({ rule: 'command-not-executed', device: 'sl-le-loi-01', source: 'command' }),
    ))!;
    expect([next.alert.id, next.alert.source, next.event.id]).toEqual([2, 'command', 4]);
    const again = (await store.trigger(
      trigger({ rule: 'river-alarm', device: 'rg-kim-long', at: T0 + 20 * MIN }),
    ))!;
    expect([again.alert.id, again.event.type]).toEqual([1, 'updated']);
  });
});

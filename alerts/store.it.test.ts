// The alert store on both its databases, with the same tests: a real SQLite file (the single process) and
// a real PostgreSQL (a cluster). The lifecycle and its history, a batch of triggers, operators' actions and
// their error codes, and the invariants under any sequence of triggers and actions (one open alert per
// (rule, device), held by the database itself). The store's records are in store-records.it.test.ts, two
// nodes sharing it in store-shared.it.test.ts.
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { alertStoreBackends, codeOf, MIN, T0, trigger } from '../test/kits/alert-store-backends.ts';
import { SEVERITIES, SEVERITY_RANK } from '../measurements/index.ts';
import type { TriggerInput } from './types.ts';
import { isAlertsError } from './errors.ts';

const { sqlite, postgres } = alertStoreBackends();

describe.each([sqlite, postgres])('the alert store in $name', (db) => {
  beforeEach(() => db.fresh());
  const open = () => db.open();

  describe('alert lifecycle', () => {
    it('records raise, update, escalation, acknowledgement and auto resolution in order', async () => {
      const store = await open();
      const raised = (await store.trigger(trigger()))!;
      const id = raised.alert.id;
      expect(raised.event).toMatchObject({ type: 'raised', alertId: id, state: 'open', severity: 'warning' });
      expect(raised.alert).toMatchObject({ state: 'open', raisedAt: new Date(T0).toISOString(), level: 0 });

      const updated = (await store.trigger(
        trigger({ at: T0 + MIN, value: 3.2, message: 'water level 3.2 m ≥ 3 m' }),
      ))!;
      expect(updated.event.type).toBe('updated');
      expect(updated.alert).toMatchObject({ id, value: 3.2, message: 'water level 3.2 m ≥ 3 m' });
      expect(updated.alert.updatedAt).toBe(new Date(T0 + MIN).toISOString());

      const up = trigger({
        type: 'escalate',
        at: T0 + 2 * MIN,
        severity: 'critical',
        level: 1,
        threshold: 3.5,
      });
      expect((await store.trigger(up))!.alert).toMatchObject({
        id,
        severity: 'critical',
        level: 1,
        threshold: 3.5,
      });

      const acked = await store.acknowledge(id, 'duty-officer', 'crew sent to Kim Long', T0 + 3 * MIN);
      expect(acked.alert).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'duty-officer' });
      expect(acked.event).toMatchObject({
        type: 'acknowledged',
        by: 'duty-officer',
        note: 'crew sent to Kim Long',
      });

      // Lower than the alert: an update that keeps severity and level, and the acknowledgement.
      const lower = (await store.trigger(
        trigger({ type: 'escalate', at: T0 + 4 * MIN, severity: 'warning' }),
      ))!;
      expect(lower.event.type).toBe('updated');
      expect(lower.alert).toMatchObject({ severity: 'critical', level: 1, state: 'acknowledged' });
      // Higher again while acknowledged: recorded as an escalation, still acknowledged.
      const again = (await store.trigger(trigger({ at: T0 + 5 * MIN, severity: 'critical', level: 2 })))!;
      expect(again.event).toMatchObject({ type: 'escalated', state: 'acknowledged', level: 2 });

      const cleared = (await store.trigger(
        trigger({ type: 'clear', at: T0 + 9 * MIN, value: 2.7, message: 'below' }),
      ))!;
      expect(cleared.alert).toMatchObject({
        id,
        state: 'resolved',
        resolution: 'auto',
        resolvedBy: null,
        resolvedAt: new Date(T0 + 9 * MIN).toISOString(),
        acknowledgedAt: new Date(T0 + 3 * MIN).toISOString(),
        severity: 'critical',
        value: 2.7,
      });
      const { events } = (await store.get(id))!;
      expect(events.map((e) => [e.type, e.state, e.severity])).toEqual([
        ['raised', 'open', 'warning'],
        ['updated', 'open', 'warning'],
        ['escalated', 'open', 'critical'],
        ['acknowledged', 'acknowledged', 'critical'],
        ['updated', 'acknowledged', 'critical'],
        ['escalated', 'acknowledged', 'critical'],
        ['resolved', 'resolved', 'critical'],
      ]);
      expect(await store.openFor('river-alarm', 'rg-kim-long')).toBeUndefined();
    });

    it('keeps one alert for two raises in the same millisecond', async () => {
      const store = await open();
      const first = (await store.trigger(trigger()))!;
      const second = (await store.trigger(trigger({ value: 3.3 })))!;
      expect(second.alert.id).toBe(first.alert.id);
      expect(second.event.type).toBe('updated');
      expect(await store.listOpen()).toHaveLength(1);
      expect((await store.get(first.alert.id))!.events.map((e) => e.type)).toEqual(['raised', 'updated']);
    });

    it('gives the events of an alert strictly increasing times, so InfluxDB keeps every one', async () => {
      const store = await open();
      const { alert } = (await store.trigger(trigger()))!;
      await store.trigger(trigger({ value: 3.3 }));
      await store.trigger(trigger({ at: T0 - MIN, level: 1 })); // a gateway's backlog, older than the raise
      await store.acknowledge(alert.id, 'duty-officer', undefined, T0);
      const clear = (await store.trigger(trigger({ type: 'clear', note: 'the rule was removed' })))!;
      expect((await store.get(alert.id))!.events.map((e) => [e.type, Date.parse(e.at) - T0])).toEqual([
        ['raised', 0],
        ['updated', 1],
        ['escalated', 2],
        ['acknowledged', 3],
        ['resolved', 4],
      ]);
      expect(clear.alert).toMatchObject({ resolution: 'auto', resolveNote: 'the rule was removed' });
      expect(clear.event.note).toBe('the rule was removed');
    });

    it('has the database refuse a second open alert for a (rule, device)', async () => {
      const store = await open();
      await store.trigger(trigger());
      const extra = Object.entries(db.columns);
      const insert = (state: string, resolvedAt: number | null, resolution: string | null) =>
        db.exec(`INSERT INTO alerts (rule, device, kind, district, owner, title, severity, state, source, message,
           level, raised_at, updated_at, resolved_at, resolution${extra.map(([c]) => `, ${c}`).join('')})
         VALUES ('river-alarm', 'rg-kim-long', 'flood', 'Kim Long', 'x', 't', 'info', '${state}', 'rule', 'm', 0,
           1, 1, ${resolvedAt ?? 'NULL'}, ${resolution === null ? 'NULL' : `'${resolution}'`}
           ${extra.map(([, v]) => `, ${v}`).join('')})`);
      await expect(insert('acknowledged', null, null)).rejects.toMatchObject({ code: db.unique });
      // Resolved alerts are history: any number of them may share the (rule, device).
      await insert('resolved', 2, 'auto');
      expect((await store.list()).map((a) => a.state)).toEqual(['open', 'resolved']);
    });

    it('opens a new alert after the last one was resolved', async () => {
      const store = await open();
      const first = (await store.trigger(trigger()))!.alert.id;
      await store.resolve(first, 'duty-officer', undefined, T0 + MIN);
      const next = (await store.trigger(trigger({ at: T0 + 2 * MIN })))!;
      expect(next.event.type).toBe('raised');
      expect(next.alert.id).toBeGreaterThan(first);
      expect((await store.get(first))!.alert.state).toBe('resolved');
      expect((await store.openFor('river-alarm', 'rg-kim-long'))!.id).toBe(next.alert.id);
    });

    it('changes nothing for an escalate or clear with no open alert, but saves the state', async () => {
      const store = await open();
      const saved = { rule: 'river-alarm', device: 'rg-kim-long', state: { level: -1 } };
      expect(await store.trigger(trigger({ type: 'escalate' }), saved)).toBeUndefined();
      expect(await store.trigger(trigger({ type: 'clear' }))).toBeUndefined();
      expect(await store.list()).toEqual([]);
      expect(await store.loadStates()).toEqual([{ ...saved, savedAt: T0 }]);
    });
  });

  describe('a batch of triggers', () => {
    it('applies each in one transaction; one that fails is rolled back alone, the others stand', async () => {
      const store = await open();
      // The database refuses the event of one alert, after its row was written: the savepoint must undo both.
      await db.exec(db.refuseEventsOf('rg-phu-oc'));
      const state = (device: string) => ({ rule: 'river-alarm', device, state: { level: 1 } });
      const outcomes = await store.triggerAll([
        { input: trigger({ device: 'rg-kim-long' }), state: state('rg-kim-long') },
        { input: trigger({ device: 'rg-phu-oc' }), state: state('rg-phu-oc') },
        { input: trigger({ device: 'rg-phu-oc', severity: 'fatal' as never }) },
        { input: trigger({ device: 'sf-le-loi', at: T0 + 1 }), state: state('sf-le-loi') },
        { input: trigger({ device: 'sf-le-loi', type: 'clear', at: T0 + 2 }) },
      ]);
      expect(
        outcomes.map((o) => (o.ok ? o.change?.event.type : isAlertsError(o.error) && o.error.code)),
      ).toEqual(['raised', 'ALERTS_ERR_STORE', 'ALERTS_ERR_INVALID', 'raised', 'resolved']);
      expect((await store.list()).map((a) => [a.device, a.state])).toEqual([
        ['sf-le-loi', 'resolved'],
        ['rg-kim-long', 'open'],
      ]);
      expect((await store.loadStates()).map((s) => s.device)).toEqual(['rg-kim-long', 'sf-le-loi']);
    });

    it('commits nothing of a batch when an error rolls back the whole transaction', async () => {
      const store = await open();
      await db.exec(db.endTransactionsOf('rg-phu-oc'));
      expect(
        await codeOf(() =>
          store.triggerAll([
            { input: trigger({ device: 'rg-kim-long' }) },
            { input: trigger({ device: 'rg-phu-oc' }) },
            { input: trigger({ device: 'sf-le-loi' }) },
          ]),
        ),
      ).toBe('ALERTS_ERR_STORE');
      expect(await store.list()).toEqual([]);
    });
  });

  describe('operator actions', () => {
    it('acknowledges only an open alert and resolves an open or acknowledged one', async () => {
      const store = await open();
      const a = (await store.trigger(trigger()))!.alert.id;
      const b = (await store.trigger(trigger({ device: 'rg-phu-oc' })))!.alert.id;
      expect(await codeOf(() => store.acknowledge(999, 'op', undefined, T0))).toBe('ALERTS_ERR_NOT_FOUND');
      expect(await codeOf(() => store.resolve(999, 'op', undefined, T0))).toBe('ALERTS_ERR_NOT_FOUND');
      await store.acknowledge(a, 'op', undefined, T0 + MIN);
      expect(await codeOf(() => store.acknowledge(a, 'op', undefined, T0 + MIN))).toBe('ALERTS_ERR_STATE');
      const resolved = await store.resolve(a, 'engineer', 'gauge recalibrated', T0 + 2 * MIN);
      expect(resolved.alert).toMatchObject({
        resolution: 'operator',
        resolvedBy: 'engineer',
        resolveNote: 'gauge recalibrated',
      });
      expect(resolved.event).toMatchObject({ type: 'resolved', by: 'engineer', note: 'gauge recalibrated' });
      expect((await store.resolve(b, 'op', undefined, T0)).alert.acknowledgedAt).toBeNull();
      expect(await codeOf(() => store.acknowledge(a, 'op', undefined, T0))).toBe('ALERTS_ERR_STATE');
      expect(await codeOf(() => store.resolve(a, 'op', undefined, T0))).toBe('ALERTS_ERR_STATE');
      expect((await store.get(a))!.events.map((e) => e.type)).toEqual(['raised', 'acknowledged', 'resolved']);
    });

    it('refuses malformed input with ALERTS_ERR_INVALID and use after close with ALERTS_ERR_CLOSED', async () => {
      const store = await open();
      expect(await codeOf(() => store.trigger(trigger({ at: Number.NaN })))).toBe('ALERTS_ERR_INVALID');
      expect(await codeOf(() => store.trigger(trigger({ value: Number.POSITIVE_INFINITY })))).toBe(
        'ALERTS_ERR_INVALID',
      );
      expect(await codeOf(() => store.list({ limit: 0 }))).toBe('ALERTS_ERR_INVALID');
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const bad = { rule: 'river-alarm', device: 'rg-kim-long', state: cyclic };
      expect(await codeOf(() => store.trigger(trigger(), bad))).toBe('ALERTS_ERR_INVALID');
      // The alert and the state are one transaction: neither was kept.
      expect(await store.list()).toEqual([]);
      await store.close();
      await store.close();
      expect(await codeOf(() => store.openFor('river-alarm', 'rg-kim-long'))).toBe('ALERTS_ERR_CLOSED');
    });
  });

  describe('invariants', () => {
    type Command =
      | {
          op: 'trigger';
          type: TriggerInput['type'];
          rule: string;
          device: string;
          severity: (typeof SEVERITIES)[number];
          level: number;
          dt: number;
        }
      | { op: 'acknowledge' | 'resolve'; pick: number; dt: number };
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.record({
        op: fc.constant('trigger' as const),
        type: fc.constantFrom('raise', 'escalate', 'clear'),
        rule: fc.constantFrom('r1', 'r2'),
        device: fc.constantFrom('d1', 'd2'),
        severity: fc.constantFrom(...SEVERITIES),
        level: fc.integer({ min: 0, max: 3 }),
        dt: fc.integer({ min: 0, max: 2 * MIN }),
      }),
      fc.record({
        op: fc.constantFrom('acknowledge', 'resolve'),
        pick: fc.nat(),
        dt: fc.integer({ min: 0, max: MIN }),
      }),
    );

    it('keeps at most one unresolved alert per (rule, device), each history starting with raised', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { maxLength: 40 }), async (commands) => {
          await db.empty();
          const store = await open();
          // The model: each alert's state, and the unresolved alert of each (rule, device).
          const states = new Map<number, 'open' | 'acknowledged' | 'resolved'>();
          const current = new Map<string, { id: number; rank: number; level: number }>();
          let at = T0;
          for (const c of commands) {
            at += c.dt;
            if (c.op === 'trigger') {
              const key = `${c.rule}/${c.device}`;
              const was = current.get(key);
              const { type, rule, device, severity, level } = c;
              const change = await store.trigger(trigger({ type, rule, device, severity, level, at }));
              if (was === undefined) {
                expect(change?.event.type).toBe(c.type === 'raise' ? 'raised' : undefined);
                if (change) {
                  states.set(change.alert.id, 'open');
                  current.set(key, { id: change.alert.id, rank: SEVERITY_RANK[c.severity], level: c.level });
                }
              } else if (c.type === 'clear') {
                expect(change?.event.type).toBe('resolved');
                states.set(was.id, 'resolved');
                current.delete(key);
              } else {
                const higher = SEVERITY_RANK[c.severity] > was.rank || c.level > was.level;
                expect(change?.event.type).toBe(higher ? 'escalated' : 'updated');
                expect(change?.alert.state).toBe(states.get(was.id));
                current.set(key, {
                  id: was.id,
                  rank: Math.max(was.rank, SEVERITY_RANK[c.severity]),
                  level: Math.max(was.level, c.level),
                });
              }
            } else {
              const id = (c.pick % (states.size + 2)) + 1; // now and then an id that does not exist
              const state = states.get(id);
              const allowed =
                c.op === 'acknowledge' ? state === 'open' : state !== undefined && state !== 'resolved';
              const expected =
                state === undefined ? 'ALERTS_ERR_NOT_FOUND' : allowed ? undefined : 'ALERTS_ERR_STATE';
              const act = () =>
                c.op === 'acknowledge'
                  ? store.acknowledge(id, 'op', undefined, at)
                  : store.resolve(id, 'op', undefined, at);
              expect(await codeOf(act)).toBe(expected);
              if (allowed) states.set(id, c.op === 'acknowledge' ? 'acknowledged' : 'resolved');
              if (allowed && c.op === 'resolve')
                for (const [k, v] of current) if (v.id === id) current.delete(k);
            }
          }
          const unresolved = (await store.listOpen()).map((a) => `${a.rule}/${a.device}`);
          expect(new Set(unresolved).size).toBe(unresolved.length);
          expect(unresolved.sort()).toEqual([...current.keys()].sort());
          for (const alert of await store.list({ limit: 1000 })) {
            expect(alert.state).toBe(states.get(alert.id));
            expect((await store.get(alert.id))!.events[0]!.type).toBe('raised');
          }
          await store.close();
        }),
        { numRuns: 60 },
      );
    });
  });
});

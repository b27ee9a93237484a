// The alert store on a real SQLite file: the lifecycle and its history, one open alert per (rule, device)
// held by the database itself, operators' actions and their error codes, filtered listing, the rules'
// states saved with the change they caused, what survives a reopen, referrals along an escalation
// chain, the first schema's file carried over, and response times per owner.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SEVERITIES, SEVERITY_RANK } from '../measurements/index.ts';
import { isAlertsError, type AlertsErrorCode } from './errors.ts';
import { ALERT_STORE_MIGRATIONS, openAlertStore } from './store.ts';
import type { AlertStore, TriggerInput } from './types.ts';

let dir: string;
let file: string;
const opened: AlertStore[] = [];
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'alert-store-'));
  file = path.join(dir, 'alerts.db');
});
afterEach(async () => {
  for (const s of opened.splice(0)) s.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const open = (at = file): AlertStore => {
  const store = openAlertStore({ file: at, clock: () => T0 });
  opened.push(store);
  return store;
};

const T0 = Date.UTC(2025, 9, 28, 6, 0, 0); // a morning of the October flood season in Huế
const MIN = 60_000;
const trigger = (overrides: Partial<TriggerInput> = {}): TriggerInput => ({
  type: 'raise',
  rule: 'river-alarm',
  device: 'rg-kim-long',
  kind: 'flood',
  district: 'Kim Long',
  owner: 'flood-control',
  title: 'Hương river above alarm level 1',
  severity: 'warning',
  message: 'water level 3.1 m ≥ 3 m',
  value: 3.1,
  threshold: 3,
  level: 0,
  at: T0,
  source: 'rule',
  ...overrides,
});

function codeOf(run: () => unknown): AlertsErrorCode | undefined {
  try {
    run();
  } catch (err) {
    if (isAlertsError(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe('alert lifecycle', () => {
  it('records raise, update, escalation, acknowledgement and auto resolution in order', () => {
    const store = open();
    const raised = store.trigger(trigger())!;
    const id = raised.alert.id;
    expect(raised.event).toMatchObject({ type: 'raised', alertId: id, state: 'open', severity: 'warning' });
    expect(raised.alert).toMatchObject({ state: 'open', raisedAt: new Date(T0).toISOString(), level: 0 });

    const updated = store.trigger(trigger({ at: T0 + MIN, value: 3.2, message: 'water level 3.2 m ≥ 3 m' }))!;
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
    expect(store.trigger(up)!.alert).toMatchObject({ id, severity: 'critical', level: 1, threshold: 3.5 });

    const acked = store.acknowledge(id, 'duty-officer', 'crew sent to Kim Long', T0 + 3 * MIN);
    expect(acked.alert).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'duty-officer' });
    expect(acked.event).toMatchObject({
      type: 'acknowledged',
      by: 'duty-officer',
      note: 'crew sent to Kim Long',
    });

    // Lower than the alert: an update that keeps severity and level, and the acknowledgement.
    const lower = store.trigger(trigger({ type: 'escalate', at: T0 + 4 * MIN, severity: 'warning' }))!;
    expect(lower.event.type).toBe('updated');
    expect(lower.alert).toMatchObject({ severity: 'critical', level: 1, state: 'acknowledged' });
    // Higher again while acknowledged: recorded as an escalation, still acknowledged.
    const again = store.trigger(trigger({ at: T0 + 5 * MIN, severity: 'critical', level: 2 }))!;
    expect(again.event).toMatchObject({ type: 'escalated', state: 'acknowledged', level: 2 });

    const cleared = store.trigger(
      trigger({ type: 'clear', at: T0 + 9 * MIN, value: 2.7, message: 'below' }),
    )!;
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
    const { events } = store.get(id)!;
    expect(events.map((e) => [e.type, e.state, e.severity])).toEqual([
      ['raised', 'open', 'warning'],
      ['updated', 'open', 'warning'],
      ['escalated', 'open', 'critical'],
      ['acknowledged', 'acknowledged', 'critical'],
      ['updated', 'acknowledged', 'critical'],
      ['escalated', 'acknowledged', 'critical'],
      ['resolved', 'resolved', 'critical'],
    ]);
    expect(store.openFor('river-alarm', 'rg-kim-long')).toBeUndefined();
  });

  it('keeps one alert for two raises in the same millisecond', () => {
    const store = open();
    const first = store.trigger(trigger())!;
    const second = store.trigger(trigger({ value: 3.3 }))!;
    expect(second.alert.id).toBe(first.alert.id);
    expect(second.event.type).toBe('updated');
    expect(store.listOpen()).toHaveLength(1);
    expect(store.get(first.alert.id)!.events.map((e) => e.type)).toEqual(['raised', 'updated']);
  });

  it('gives the events of an alert strictly increasing times, so InfluxDB keeps every one', () => {
    const store = open();
    const { alert } = store.trigger(trigger())!;
    store.trigger(trigger({ value: 3.3 }));
    store.trigger(trigger({ at: T0 - MIN, level: 1 })); // a gateway's backlog, older than the raise
    store.acknowledge(alert.id, 'duty-officer', undefined, T0);
    const clear = store.trigger(trigger({ type: 'clear', note: 'the rule was removed' }))!;
    expect(store.get(alert.id)!.events.map((e) => [e.type, Date.parse(e.at) - T0])).toEqual([
      ['raised', 0],
      ['updated', 1],
      ['escalated', 2],
      ['acknowledged', 3],
      ['resolved', 4],
    ]);
    expect(clear.alert).toMatchObject({ resolution: 'auto', resolveNote: 'the rule was removed' });
    expect(clear.event.note).toBe('the rule was removed');
  });

  it('has the database refuse a second open alert for a (rule, device)', () => {
    open().trigger(trigger());
    const raw = new Database(file);
    try {
      const insert = (state: string, resolvedAt: number | null, resolution: string | null) =>
        raw
          .prepare(
            `INSERT INTO alerts (rule, device, kind, district, owner, title, severity, state, source, message,
               level, raised_at, updated_at, resolved_at, resolution)
             VALUES ('river-alarm', 'rg-kim-long', 'flood', 'Kim Long', 'x', 't', 'info', ?, 'rule', 'm', 0, 1, 1, ?, ?)`,
          )
          .run(state, resolvedAt, resolution);
      expect(() => insert('acknowledged', null, null)).toThrow(
        expect.objectContaining({ code: 'SQLITE_CONSTRAINT_UNIQUE' }),
      );
      // Resolved alerts are history: any number of them may share the (rule, device).
      expect(insert('resolved', 2, 'auto').changes).toBe(1);
    } finally {
      raw.close();
    }
  });

  it('opens a new alert after the last one was resolved', () => {
    const store = open();
    const first = store.trigger(trigger())!.alert.id;
    store.resolve(first, 'duty-officer', undefined, T0 + MIN);
    const next = store.trigger(trigger({ at: T0 + 2 * MIN }))!;
    expect(next.event.type).toBe('raised');
    expect(next.alert.id).toBeGreaterThan(first);
    expect(store.get(first)!.alert.state).toBe('resolved');
    expect(store.openFor('river-alarm', 'rg-kim-long')!.id).toBe(next.alert.id);
  });

  it('changes nothing for an escalate or clear with no open alert, but saves the state', () => {
    const store = open();
    const saved = { rule: 'river-alarm', device: 'rg-kim-long', state: { level: -1 } };
    expect(store.trigger(trigger({ type: 'escalate' }), saved)).toBeUndefined();
    expect(store.trigger(trigger({ type: 'clear' }))).toBeUndefined();
    expect(store.list()).toEqual([]);
    expect(store.loadStates()).toEqual([{ ...saved, savedAt: T0 }]);
  });
});

describe('a batch of triggers', () => {
  it('applies each in one transaction; one that fails is rolled back alone, the others stand', () => {
    const store = open();
    // The database refuses the event of one alert, after its row was written: the savepoint must undo both.
    const raw = new Database(file);
    raw.exec(`CREATE TRIGGER refuse BEFORE INSERT ON alert_events
      WHEN (SELECT device FROM alerts WHERE id = NEW.alert_id) = 'rg-phu-oc'
      BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    raw.close();
    const state = (device: string) => ({ rule: 'river-alarm', device, state: { level: 1 } });
    const outcomes = store.triggerAll([
      { input: trigger({ device: 'rg-kim-long' }), state: state('rg-kim-long') },
      { input: trigger({ device: 'rg-phu-oc' }), state: state('rg-phu-oc') },
      { input: trigger({ device: 'rg-phu-oc', severity: 'fatal' as never }) },
      { input: trigger({ device: 'sf-le-loi', at: T0 + 1 }), state: state('sf-le-loi') },
      { input: trigger({ device: 'sf-le-loi', type: 'clear', at: T0 + 2 }) },
    ]);
    expect(
      outcomes.map((o) => (o.ok ? o.change?.event.type : isAlertsError(o.error) && o.error.code)),
    ).toEqual(['raised', 'ALERTS_ERR_STORE', 'ALERTS_ERR_INVALID', 'raised', 'resolved']);
    expect(store.list().map((a) => [a.device, a.state])).toEqual([
      ['sf-le-loi', 'resolved'],
      ['rg-kim-long', 'open'],
    ]);
    expect(store.loadStates().map((s) => s.device)).toEqual(['rg-kim-long', 'sf-le-loi']);
  });

  it('commits nothing of a batch when an error rolls back the whole transaction', () => {
    const store = open();
    // RAISE(ROLLBACK) ends the transaction itself, as SQLITE_FULL or an I/O error would.
    const raw = new Database(file);
    raw.exec(`CREATE TRIGGER refuse BEFORE INSERT ON alerts WHEN NEW.device = 'rg-phu-oc'
      BEGIN SELECT RAISE(ROLLBACK, 'disk full'); END`);
    raw.close();
    expect(
      codeOf(() =>
        store.triggerAll([
          { input: trigger({ device: 'rg-kim-long' }) },
          { input: trigger({ device: 'rg-phu-oc' }) },
          { input: trigger({ device: 'sf-le-loi' }) },
        ]),
      ),
    ).toBe('ALERTS_ERR_STORE');
    expect(store.list()).toEqual([]);
  });
});

describe('operator actions', () => {
  it('acknowledges only an open alert and resolves an open or acknowledged one', () => {
    const store = open();
    const a = store.trigger(trigger())!.alert.id;
    const b = store.trigger(trigger({ device: 'rg-phu-oc' }))!.alert.id;
    expect(codeOf(() => store.acknowledge(999, 'op', undefined, T0))).toBe('ALERTS_ERR_NOT_FOUND');
    expect(codeOf(() => store.resolve(999, 'op', undefined, T0))).toBe('ALERTS_ERR_NOT_FOUND');
    store.acknowledge(a, 'op', undefined, T0 + MIN);
    expect(codeOf(() => store.acknowledge(a, 'op', undefined, T0 + MIN))).toBe('ALERTS_ERR_STATE');
    const resolved = store.resolve(a, 'engineer', 'gauge recalibrated', T0 + 2 * MIN);
    expect(resolved.alert).toMatchObject({
      resolution: 'operator',
      resolvedBy: 'engineer',
      resolveNote: 'gauge recalibrated',
    });
    expect(resolved.event).toMatchObject({ type: 'resolved', by: 'engineer', note: 'gauge recalibrated' });
    expect(store.resolve(b, 'op', undefined, T0).alert.acknowledgedAt).toBeNull();
    expect(codeOf(() => store.acknowledge(a, 'op', undefined, T0))).toBe('ALERTS_ERR_STATE');
    expect(codeOf(() => store.resolve(a, 'op', undefined, T0))).toBe('ALERTS_ERR_STATE');
    expect(store.get(a)!.events.map((e) => e.type)).toEqual(['raised', 'acknowledged', 'resolved']);
  });

  it('refuses malformed input with ALERTS_ERR_INVALID and use after close with ALERTS_ERR_CLOSED', () => {
    const store = open();
    expect(codeOf(() => store.trigger(trigger({ at: Number.NaN })))).toBe('ALERTS_ERR_INVALID');
    expect(codeOf(() => store.trigger(trigger({ value: Number.POSITIVE_INFINITY })))).toBe(
      'ALERTS_ERR_INVALID',
    );
    expect(codeOf(() => store.list({ limit: 0 }))).toBe('ALERTS_ERR_INVALID');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad = { rule: 'river-alarm', device: 'rg-kim-long', state: cyclic };
    expect(codeOf(() => store.trigger(trigger(), bad))).toBe('ALERTS_ERR_INVALID');
    // The alert and the state are one transaction: neither was kept.
    expect(store.list()).toEqual([]);
    store.close();
    store.close();
    expect(codeOf(() => store.openFor('river-alarm', 'rg-kim-long'))).toBe('ALERTS_ERR_CLOSED');
  });
});

describe('listing', () => {
  function seed(store: AlertStore): number[] {
    return [
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
    ].map((t) => store.trigger(t)!.alert.id);
  }

  it('combines every filter with AND, newest raised first, up to the limit', () => {
    const store = open();
    const [river, phuOc, air, lamp] = seed(store);
    store.acknowledge(phuOc!, 'op', undefined, T0 + 5 * MIN);
    store.resolve(lamp!, 'op', undefined, T0 + 5 * MIN);
    const ids = (filter: Parameters<AlertStore['list']>[0]) => store.list(filter).map((a) => a.id);
    expect(ids({})).toEqual([lamp, air, phuOc, river]);
    expect(ids({ state: ['open', 'acknowledged'] })).toEqual([air, phuOc, river]);
    expect(ids({ state: ['resolved'] })).toEqual([lamp]);
    expect(ids({ severity: ['critical', 'info'] })).toEqual([lamp, phuOc]);
    expect(ids({ owner: 'flood-control' })).toEqual([phuOc, river]);
    expect(ids({ kind: 'air_quality' })).toEqual([air]);
    expect(ids({ district: 'Kim Long' })).toEqual([lamp, river]);
    expect(ids({ device: 'rg-phu-oc', rule: 'river-alarm' })).toEqual([phuOc]);
    expect(ids({ from: T0 + MIN, to: T0 + 3 * MIN })).toEqual([air, phuOc]);
    expect(ids({ owner: 'flood-control', severity: ['warning'], state: ['open'] })).toEqual([river]);
    expect(ids({ limit: 2 })).toEqual([lamp, air]);
    expect(ids({ state: [] })).toEqual([]);
    expect(ids({ owner: "x' OR '1'='1" })).toEqual([]);
    expect(store.listOpen().map((a) => a.id)).toEqual([air, phuOc, river]);
  });
});

describe('persistence', () => {
  it('keeps alerts, their history and the saved states across a reopen', () => {
    const first = open();
    const id = first.trigger(trigger(), { rule: 'river-alarm', device: 'rg-kim-long', state: { n: 1 } })!
      .alert.id;
    first.acknowledge(id, 'op', 'seen', T0 + MIN);
    first.saveStates([
      { rule: 'lamp-out', device: 'lamp-1', state: { lastSeen: T0 } },
      { rule: 'pm25-high', device: 'aq-1', state: [1, 2, 3] },
    ]);
    first.saveStates([{ rule: 'lamp-out', device: 'lamp-1', state: null }]);
    const before = first.get(id);
    first.close();

    const second = open();
    expect(second.get(id)).toEqual(before);
    expect(second.openFor('river-alarm', 'rg-kim-long')!.state).toBe('acknowledged');
    expect(second.loadStates()).toEqual([
      { rule: 'pm25-high', device: 'aq-1', state: [1, 2, 3], savedAt: T0 },
      { rule: 'river-alarm', device: 'rg-kim-long', state: { n: 1 }, savedAt: T0 },
    ]);
    expect(second.trigger(trigger({ device: 'rg-phu-oc' }))!.alert.id).toBeGreaterThan(id);
  });
});

describe('the event log', () => {
  it('gives every transition after an id, oldest first and bounded, with its alert as it is now, also after a reopen', () => {
    const first = open();
    const raised = first.trigger(trigger())!;
    first.trigger(trigger({ severity: 'critical', level: 1, at: T0 + MIN }));
    const other = first.trigger(trigger({ device: 'rg-phu-oc', at: T0 + 2 * MIN }))!;
    first.acknowledge(raised.alert.id, 'op', undefined, T0 + 3 * MIN);
    const all = first.eventsAfter(0, 100);
    expect(all.map((c) => [c.alert.device, c.event.type])).toEqual([
      ['rg-kim-long', 'raised'],
      ['rg-kim-long', 'escalated'],
      ['rg-phu-oc', 'raised'],
      ['rg-kim-long', 'acknowledged'],
    ]);
    // The alert as it is now; the event as it was.
    expect(all[0]!.alert.state).toBe('acknowledged');
    expect(all[0]!.event).toMatchObject({ state: 'open', severity: 'warning' });
    expect(first.eventsAfter(raised.event.id, 2).map((c) => c.event.type)).toEqual(['escalated', 'raised']);
    first.close();
    const second = open();
    expect(second.eventsAfter(other.event.id, 100).map((c) => c.event.type)).toEqual(['acknowledged']);
    expect(second.eventsAfter(all.at(-1)!.event.id, 100)).toEqual([]);
  });
});

describe('referrals', () => {
  it('refers an open alert once per step, and not once it is acknowledged', () => {
    const store = open();
    const { alert } = store.trigger(trigger())!;
    expect(store.refer(alert.id, 1, 'step 2 before step 1', T0 + MIN)).toBeUndefined();
    const first = store.refer(alert.id, 0, 'referred to ioc', T0 + 15 * MIN)!;
    expect(first.event).toMatchObject({ type: 'referred', state: 'open', note: 'referred to ioc', by: null });
    expect(first.alert.updatedAt).toBe(new Date(T0 + 15 * MIN).toISOString());
    expect(store.refer(alert.id, 0, 'again', T0 + 16 * MIN)).toBeUndefined();
    expect(store.get(alert.id)!.events.filter((e) => e.type === 'referred')).toHaveLength(1);
    store.acknowledge(alert.id, 'duty officer', undefined, T0 + 20 * MIN);
    expect(store.refer(alert.id, 1, 'too late', T0 + 45 * MIN)).toBeUndefined();
    expect(store.get(alert.id)!.events.map((e) => e.type)).toEqual(['raised', 'referred', 'acknowledged']);
    expect(codeOf(() => store.refer(999, 0, 'none', T0))).toBe('ALERTS_ERR_NOT_FOUND');
  });
});

describe('the first schema', () => {
  it('is carried over: events keep their ids, the next one follows them, and referrals can be written', () => {
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

    const store = open();
    expect(store.get(1)!.events.map((e) => [e.id, e.type])).toEqual([
      [1, 'raised'],
      [2, 'escalated'],
    ]);
    expect(store.refer(1, 0, 'referred to ioc', T0 + 15 * MIN)!.event.id).toBe(3);
    // Schema 3: the alerts table rebuilt for source `command`, its ids, sequence and one-open rule kept.
    const next = store.trigger(
      trigger({ rule: 'command-not-executed', device: 'sl-le-loi-01', source: 'command' }),
    )!;
    expect([next.alert.id, next.alert.source, next.event.id]).toEqual([2, 'command', 4]);
    const again = store.trigger(trigger({ rule: 'river-alarm', device: 'rg-kim-long', at: T0 + 20 * MIN }))!;
    expect([again.alert.id, again.event.type]).toEqual([1, 'updated']);
  });
});

describe('response times', () => {
  it('gives per owner the counts and mean ms to acknowledge and to resolve over alerts raised in range', () => {
    const store = open();
    const raise = (owner: string, device: string, at: number) =>
      store.trigger(trigger({ owner, device, at }))!.alert.id;
    const f1 = raise('flood-control', 'g1', T0);
    const f2 = raise('flood-control', 'g2', T0 + MIN);
    raise('flood-control', 'g3', T0 + 2 * MIN);
    raise('lighting', 'lamp-1', T0);
    const late = raise('lighting', 'lamp-2', T0 + 60 * MIN);
    store.acknowledge(f1, 'op', undefined, T0 + 2 * MIN); // 2 min
    store.acknowledge(f2, 'op', undefined, T0 + 5 * MIN); // 4 min
    store.resolve(f1, 'op', undefined, T0 + 10 * MIN); // 10 min
    store.trigger(trigger({ type: 'clear', owner: 'flood-control', device: 'g3', at: T0 + 22 * MIN })); // 20 min
    store.resolve(late, 'op', undefined, T0 + 61 * MIN); // outside the range below
    expect(store.responseTimes({ from: T0, to: T0 + 30 * MIN })).toEqual([
      { owner: 'flood-control', acknowledged: 2, meanAckMs: 3 * MIN, resolved: 2, meanResolveMs: 15 * MIN },
      { owner: 'lighting', acknowledged: 0, meanAckMs: null, resolved: 0, meanResolveMs: null },
    ]);
    expect(store.responseTimes({}).find((r) => r.owner === 'lighting')).toEqual({
      owner: 'lighting',
      acknowledged: 0,
      meanAckMs: null,
      resolved: 1,
      meanResolveMs: MIN,
    });
    expect(store.responseTimes({ from: T0 + 90 * MIN })).toEqual([]);
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

  it('keeps at most one unresolved alert per (rule, device), each history starting with raised', () => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
        const store = open(path.join(dir, `run-${run++}.db`));
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
            const change = store.trigger(trigger({ type, rule, device, severity, level, at }));
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
            expect(codeOf(act)).toBe(expected);
            if (allowed) states.set(id, c.op === 'acknowledge' ? 'acknowledged' : 'resolved');
            if (allowed && c.op === 'resolve')
              for (const [k, v] of current) if (v.id === id) current.delete(k);
          }
        }
        const unresolved = store.listOpen().map((a) => `${a.rule}/${a.device}`);
        expect(new Set(unresolved).size).toBe(unresolved.length);
        expect(unresolved.sort()).toEqual([...current.keys()].sort());
        for (const alert of store.list({ limit: 1000 })) {
          expect(alert.state).toBe(states.get(alert.id));
          expect(store.get(alert.id)!.events[0]!.type).toBe('raised');
        }
        store.close();
      }),
      { numRuns: 60 },
    );
  });
});

// The alert store on both its databases, with the same tests: a real SQLite file (the single process) and
// a real PostgreSQL (a cluster). The lifecycle and its history, one open alert per (rule, device) held by
// the database itself, operators' actions and their error codes, filtered listing, the rules' states saved
// with the change they caused, what survives a reopen, referrals along an escalation chain, response times
// per owner; and, for SQLite, the first schema's file carried over.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import postgres from 'postgres';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../test/kits/postgres.ts';
import { SEVERITIES, SEVERITY_RANK } from '../measurements/index.ts';
import { isAlertsError, type AlertsErrorCode } from './errors.ts';
import { partitionOf } from './partitions.ts';
import { openPostgresAlertStore } from './store-postgres.ts';
import { ALERT_STORE_MIGRATIONS } from './store-sqlite-schema.ts';
import { openAlertStore } from './store-sqlite.ts';
import type { AlertStore, TriggerInput } from './types.ts';

let dir: string;
let pg: TestPostgres | undefined;
let databases = 0;
const opened: AlertStore[] = [];
afterAll(async () => pg?.stop());

/** One of the store's databases, as the tests need it. */
interface Backend {
  readonly name: string;
  /** Starts an empty database: the stores opened next use it. */
  fresh(): Promise<void>;
  /** Empties the current database, ids starting again at 1 (cheaper than a fresh one). */
  empty(): Promise<void>;
  /** The store on the current database, opened again as after a restart. */
  open(): Promise<AlertStore>;
  /** SQL run past the store, on its database. */
  exec(text: string): Promise<void>;
  /** Columns this database's alerts have beyond the contract's, with a value for a row written by hand. */
  readonly columns: Readonly<Record<string, string>>;
  /** The database's code for a unique index violated. */
  readonly unique: string;
  /** SQL that makes the database refuse the event of the alert of `device` (after its row was written). */
  refuseEventsOf(device: string): string;
  /** SQL that makes the database end the whole transaction that writes an alert of `device`. */
  endTransactionsOf(device: string): string;
}

function sqliteBackend(): Backend {
  let file = '';
  return {
    name: 'SQLite',
    fresh() {
      file = path.join(dir, `alerts-${databases++}.db`);
      return Promise.resolve();
    },
    empty() {
      return this.fresh();
    },
    open: () => Promise.resolve(openAlertStore({ file, clock: () => T0 })),
    exec: (text) =>
      new Promise((resolve) => {
        const raw = new Database(file);
        try {
          raw.exec(text);
        } finally {
          raw.close();
        }
        resolve();
      }),
    columns: {},
    unique: 'SQLITE_CONSTRAINT_UNIQUE',
    refuseEventsOf: (device) => `CREATE TRIGGER refuse BEFORE INSERT ON alert_events
      WHEN (SELECT device FROM alerts WHERE id = NEW.alert_id) = '${device}'
      BEGIN SELECT RAISE(ABORT, 'refused'); END`,
    // RAISE(ROLLBACK) ends the transaction itself, as SQLITE_FULL or an I/O error would.
    endTransactionsOf: (
      device,
    ) => `CREATE TRIGGER refuse BEFORE INSERT ON alerts WHEN NEW.device = '${device}'
      BEGIN SELECT RAISE(ROLLBACK, 'disk full'); END`,
  };
}

/** PostgreSQL, and the address of the database its stores use now. */
function postgresBackend(): Backend & { readonly url: () => string } {
  let url = '';
  return {
    url: () => url,
    name: 'PostgreSQL',
    async fresh() {
      pg ??= await startPostgres();
      url = await pg.database(`alerts_${databases++}`);
    },
    empty() {
      return this.exec(`DO $$ BEGIN IF to_regclass('alerts') IS NOT NULL THEN
        TRUNCATE alerts, alert_events, rule_states RESTART IDENTITY; END IF; END $$`);
    },
    open: () => openPostgresAlertStore({ url, clock: () => T0, origin: 'node-1' }),
    async exec(text) {
      const sql = postgres(url, { max: 1, onnotice: () => undefined });
      try {
        await sql.unsafe(text);
      } finally {
        await sql.end();
      }
    },
    columns: { origin: "'node-1'" },
    unique: '23505',
    refuseEventsOf: (device) => `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF (SELECT device FROM alerts WHERE id = NEW.alert_id) = '${device}' THEN RAISE EXCEPTION 'refused'; END IF;
        RETURN NEW; END $$;
      CREATE TRIGGER refuse BEFORE INSERT ON alert_events FOR EACH ROW EXECUTE FUNCTION refuse()`,
    // The connection dies mid-transaction, as when the database's machine is lost.
    endTransactionsOf: (device) => `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.device = '${device}' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
        RETURN NEW; END $$;
      CREATE TRIGGER refuse BEFORE INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION refuse()`,
  };
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'alert-store-'));
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  await fs.rm(dir, { recursive: true, force: true });
});

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

async function codeOf(run: () => Promise<unknown>): Promise<AlertsErrorCode | undefined> {
  try {
    await run();
  } catch (err) {
    if (isAlertsError(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe.each([sqliteBackend(), postgresBackend()])('the alert store in $name', (db) => {
  beforeEach(() => db.fresh());
  const open = async (): Promise<AlertStore> => {
    const store = await db.open();
    opened.push(store);
    return store;
  };

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

  describe('listing', () => {
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

describe('the first schema in SQLite', () => {
  it('is carried over: events keep their ids, the next one follows them, and referrals can be written', async () => {
    const file = path.join(dir, 'alerts.db');
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

    const store = openAlertStore({ file, clock: () => T0 });
    opened.push(store);
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

describe('the alert store shared by two nodes in PostgreSQL', () => {
  const db = postgresBackend();
  beforeEach(() => db.fresh());
  const open = async (origin: string): Promise<AlertStore> => {
    const store = await openPostgresAlertStore({ url: db.url(), clock: () => T0, origin });
    opened.push(store);
    return store;
  };

  it('makes one alert of two nodes raising the same (rule, device) at once, and one event log in order', async () => {
    const [a, b] = [await open('node-a'), await open('node-b')];
    const raises = Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? a : b).trigger(trigger({ at: T0 + i, value: 3 + i / 100 })),
    );
    const changes = await Promise.all(raises);
    expect(new Set(changes.map((c) => c!.alert.id)).size).toBe(1);
    expect(changes.filter((c) => c!.event.type === 'raised')).toHaveLength(1);
    const log = await b.eventsAfter(0, 100);
    expect(log.map((c) => c.event.id)).toEqual([...log.map((c) => c.event.id)].sort((x, y) => x - y));
    expect(log).toHaveLength(20);
  });

  it("tells each node the other's changes, in order, and not its own", async () => {
    const [a, b] = [await open('node-a'), await open('node-b')];
    const toldA: string[] = [];
    const toldB: string[] = [];
    a.onOthers!((changes) => toldA.push(...changes.map((c) => `${c.alert.device} ${c.event.type}`)));
    b.onOthers!((changes) => toldB.push(...changes.map((c) => `${c.alert.device} ${c.event.type}`)));
    const { alert } = (await a.trigger(trigger()))!;
    await b.acknowledge(alert.id, 'duty-officer', undefined, T0 + MIN);
    await a.trigger(trigger({ type: 'clear', at: T0 + 2 * MIN }));
    await expect.poll(() => toldB).toEqual(['rg-kim-long raised', 'rg-kim-long resolved']);
    await expect.poll(() => toldA).toEqual(['rg-kim-long acknowledged']);
  });
});

// The notifier over a real alert store and its own store (SQLite files), on a clock the test drives: an
// alert is told after its group's wait, a district's thirty gauges going silent together are one
// notification, a lower alert of a device with an open critical one is muted, an open group is told again
// after its repeat interval (an acknowledged alert is not), a resolution is told and ends the group, and
// nothing is queued twice, also after the notifier is started again. An alert nobody acknowledges is
// referred along its route's escalation chain, each step in its history, until someone acknowledges it.
// A silenced alert, or one of a device in maintenance, is held and told when the hold ends, if still open.
// The same tests run on both the notification store's databases: SQLite (one process) and PostgreSQL (a
// cluster).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../test/kits/postgres.ts';
import { AgencyInput, type AgencyRecord } from '../devices/index.ts';
import { createAlertService, openAlertStore, type AlertStore, type TriggerInput } from '../alerts/index.ts';
import { createNotifier, type Notification } from './notifier.ts';
import { planAlert } from './plan.ts';
import { parseRouting, type Routing } from './routing.ts';
import type { NotifyStore } from './outbox.ts';
import { openPostgresSilences, sqliteSilences, type SilenceStore } from './silence-store.ts';
import { openPostgresNotifyStore } from './store-postgres.ts';
import { openNotifyStore } from './store-sqlite.ts';

const T0 = Date.UTC(2025, 9, 27, 1, 0, 0);
const SEC = 1000;
const MIN = 60 * SEC;
let now = T0;
let dir: string;
let alerts: AlertStore;
let store: NotifyStore;
let silences: SilenceStore;
let pg: TestPostgres | undefined;
let databases = 0;
const closing: Array<() => Promise<void>> = [];
afterAll(async () => pg?.stop());

/** One of the notification store's databases: `fresh` starts an empty one, `open` (again) its store. */
const BACKENDS = [
  {
    name: 'SQLite',
    fresh: () => Promise.resolve(),
    open() {
      const opened = openNotifyStore(path.join(dir, 'notify.db'));
      return Promise.resolve({
        store: opened,
        silences: sqliteSilences(opened),
        close: () => opened.close(),
      });
    },
  },
  {
    name: 'PostgreSQL',
    url: '',
    async fresh() {
      pg ??= await startPostgres();
      this.url = await pg.database(`notifier_${databases++}`);
    },
    async open() {
      const log = pino({ level: 'silent' });
      const opened = await openPostgresNotifyStore({ url: this.url, log });
      const shared = await openPostgresSilences(this.url);
      return {
        store: opened,
        silences: shared,
        close: async () => {
          await opened.close();
          await shared.close();
        },
      };
    },
  },
];
/** Devices in maintenance, and until when. */
const maintenance = new Map<string, number>();

const agency = (id: string, receivers: AgencyInput['receivers']): AgencyRecord => ({
  ...AgencyInput.parse({ id, name: { vi: id, en: id }, receivers }),
  created_at: '',
  updated_at: '',
});
const AGENCIES = new Map(
  [
    agency('flood-control', [
      { id: 'control-room', type: 'mqtt' },
      { id: 'duty-desk', type: 'webhook', url: 'https://ops.example.org/flood' },
    ]),
    agency('ioc', [
      { id: 'control-room', type: 'mqtt' },
      { id: 'supervisor', type: 'webhook', url: 'https://ioc.example.org/supervisor' },
    ]),
  ].map((a) => [a.id, a]),
);
const ROUTING = `defaults: { group_by: [agency, rule, district], group_wait: 30s, group_interval: 5m, repeat_interval: 1h }
routes:
  - receivers: [$owner]
`;

const ESCALATING = `defaults: { group_by: [agency, rule, district], group_wait: 30s }
routes:
  - receivers: [flood-control/duty-desk]
    escalate:
      - { after: target, receivers: [ioc/control-room] }
      - { after: 45m, receivers: [ioc/supervisor] }
`;

function routing(text = ROUTING): Routing {
  const r = parseRouting(text, 'routing.yaml', AGENCIES);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.routing;
}

function notifier(text = ROUTING) {
  const r = routing(text);
  const log = pino({ level: 'silent' });
  return createNotifier({
    store,
    silences,
    alerts: createAlertService({ store: alerts, log, clock: () => now }),
    plan: (facts) => planAlert(r, AGENCIES, facts),
    deviceTags: () => [],
    maintenanceUntil: (device) => maintenance.get(device),
    clock: () => now,
    log,
  });
}

const raise = (over: Partial<TriggerInput> = {}): TriggerInput => ({
  type: 'raise',
  rule: 'silent-flood-gauge',
  device: 'sf-le-loi',
  kind: 'flood',
  district: 'Phú Hội',
  owner: 'flood-control',
  title: 'Flood gauge silent',
  severity: 'warning',
  message: 'no reading for 30m',
  value: null,
  threshold: null,
  level: 1,
  at: now,
  source: 'rule',
  ...over,
});

const told = async () =>
  (await store.deliveries({ limit: 1000 }))
    .reverse()
    .map((d) => ({ receiver: `${d.agency}/${d.receiver}`, ...(d.payload as Notification) }));

describe.each(BACKENDS)('on $name', (backend) => {
  /** Opens the store (again, as after a restart). */
  async function open(): Promise<void> {
    const opened = await backend.open();
    store = opened.store;
    silences = opened.silences;
    closing.push(opened.close);
  }

  beforeEach(async () => {
    now = T0;
    maintenance.clear();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notifier-'));
    alerts = openAlertStore({ file: path.join(dir, 'alerts.db'), clock: () => now });
    await backend.fresh();
    await open();
  });
  afterEach(async () => {
    await alerts.close();
    for (const close of closing.splice(0)) await close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  describe('the notifier', () => {
    it("tells each of the owner's receivers of a new alert once its group has waited", async () => {
      const n = notifier();
      const { alert } = (await alerts.trigger(raise()))!;
      expect(await n.step()).toMatchObject({ events: 1, deliveries: 0 });
      now += 29 * SEC;
      expect((await n.step()).deliveries).toBe(0);
      now += SEC;
      expect((await n.step()).deliveries).toBe(2);
      expect((await told()).map((t) => t.receiver)).toEqual([
        'flood-control/control-room',
        'flood-control/duty-desk',
      ]);
      expect((await told())[0]).toMatchObject({
        status: 'firing',
        group: { agency: 'flood-control', rule: 'silent-flood-gauge', district: 'Phú Hội' },
        alerts: [{ id: alert.id, device: 'sf-le-loi' }],
      });
      expect((await n.step()).deliveries).toBe(0);
    });

    it("makes a district's thirty gauges going silent in the same minute one notification listing the thirty", async () => {
      const n = notifier();
      for (let i = 0; i < 30; i++) {
        await alerts.trigger(raise({ device: `sf-${i}`, at: now + i * SEC }));
        now += SEC;
        await n.step();
      }
      await alerts.trigger(raise({ device: 'sf-elsewhere', district: 'Kim Long' }));
      await n.step();
      now += MIN;
      await n.step();
      const byDistrict = (await told()).filter((t) => t.receiver === 'flood-control/duty-desk');
      expect(byDistrict.map((t) => [t.group.district, t.alerts.length])).toEqual([
        ['Phú Hội', 30],
        ['Kim Long', 1],
      ]);
    });

    it('mutes a lower alert of a device with an open critical one, in the notification only', async () => {
      const n = notifier();
      await alerts.trigger(raise({ rule: 'river-alarm-level', device: 'rg-kim-long', severity: 'critical' }));
      const low = (await alerts.trigger(raise({ rule: 'river-fast-rise', device: 'rg-kim-long' })))!;
      await n.step();
      now += MIN;
      await n.step();
      expect((await told()).map((t) => t.group.rule)).toEqual(['river-alarm-level', 'river-alarm-level']);
      expect((await alerts.get(low.alert.id))?.alert.state).toBe('open');
    });

    it('tells an open group again after its repeat interval, but not its acknowledged alerts', async () => {
      const n = notifier();
      const a = (await alerts.trigger(raise()))!;
      const b = (await alerts.trigger(raise({ device: 'sf-nguyen-hue' })))!;
      await n.step();
      now += MIN;
      await n.step();
      await alerts.acknowledge(a.alert.id, 'operator', 'crew sent', now);
      now += 59 * MIN;
      expect((await n.step()).deliveries).toBe(0);
      now += MIN;
      expect((await n.step()).deliveries).toBe(2);
      const repeat = (await told()).at(-1)!;
      expect(repeat.key).toMatch(/#2$/);
      expect(repeat.alerts.map((x) => x.id)).toEqual([b.alert.id]);
    });

    it('tells a resolution, within the group interval, and the group ends with its last alert', async () => {
      const n = notifier();
      const a = (await alerts.trigger(raise()))!;
      await n.step();
      now += MIN;
      await n.step();
      await alerts.trigger({ ...raise(), type: 'clear', at: now });
      await n.step();
      now += 4 * MIN;
      expect((await n.step()).deliveries).toBe(0);
      now += MIN;
      expect((await n.step()).deliveries).toBe(2);
      expect((await told()).at(-1)).toMatchObject({
        status: 'resolved',
        alerts: [{ id: a.alert.id, state: 'resolved' }],
      });
      now += 2 * 60 * MIN;
      expect((await n.step()).deliveries).toBe(0);
    });

    it('tells a group that ended and starts again under the same labels, under keys of its own', async () => {
      const n = notifier();
      for (let round = 0; round < 3; round++) {
        await alerts.trigger(raise({ at: now }));
        await n.step();
        now += MIN;
        await n.step();
        await alerts.trigger({ ...raise(), type: 'clear', at: now });
        await n.step();
        now += 5 * MIN;
        await n.step();
      }
      const toDesk = (await told()).filter((t) => t.receiver === 'flood-control/duty-desk');
      expect(toDesk.map((t) => [t.status, t.alerts[0]!.id])).toEqual([
        ['firing', 1],
        ['resolved', 1],
        ['firing', 2],
        ['resolved', 2],
        ['firing', 3],
        ['resolved', 3],
      ]);
      expect(new Set(toDesk.map((t) => t.key)).size).toBe(6);
    });

    it('queues nothing twice, also when started again over the same files', async () => {
      await alerts.trigger(raise());
      await notifier().step();
      now += MIN;
      await notifier().step();
      expect(await store.deliveries()).toHaveLength(2);
      for (const close of closing.splice(0)) await close();
      await open();
      expect(await store.cursor()).toBeGreaterThan(0);
      expect(await notifier().step()).toMatchObject({ events: 0, deliveries: 0 });
      expect(await store.deliveries()).toHaveLength(2);
    });

    it("refers an alert nobody acknowledges along its route's chain, each step once and in its history", async () => {
      const n = notifier(ESCALATING);
      const { alert } = (await alerts.trigger(raise({ severity: 'critical' })))!;
      await n.step();
      now += 14 * MIN;
      expect((await n.step()).referred).toBe(0);
      now += MIN; // flood-control's target for a critical alert: 15 min
      expect((await n.step()).referred).toBe(1);
      now += 10 * SEC;
      expect((await n.step()).referred).toBe(0);
      now += 30 * MIN; // 45 min
      expect((await n.step()).referred).toBe(1);
      now += 5 * 60 * MIN;
      expect((await n.step()).referred).toBe(0);

      const referrals = (await told()).filter((t) => t.referral !== undefined);
      expect(referrals.map((t) => [t.receiver, t.referral?.step, t.alerts.map((a) => a.id)])).toEqual([
        ['ioc/control-room', 1, [alert.id]],
        ['ioc/supervisor', 2, [alert.id]],
      ]);
      const history = (await alerts.get(alert.id))!.events.filter((e) => e.type === 'referred');
      expect(history.map((e) => [e.at, e.note])).toEqual([
        [
          new Date(T0 + 15 * MIN).toISOString(),
          'not acknowledged 15 min after it was raised: referred to ioc/control-room (step 1 of 2)',
        ],
        [
          new Date(T0 + 45 * MIN + 10 * SEC).toISOString(),
          'not acknowledged 45 min after it was raised: referred to ioc/supervisor (step 2 of 2)',
        ],
      ]);
    });

    it('stops the chain when the alert is acknowledged', async () => {
      const n = notifier(ESCALATING);
      const { alert } = (await alerts.trigger(raise({ severity: 'critical' })))!;
      await n.step();
      now += 16 * MIN;
      expect((await n.step()).referred).toBe(1);
      await alerts.acknowledge(alert.id, 'duty officer', 'crew on the way', now);
      now += 60 * MIN;
      expect((await n.step()).referred).toBe(0);
      expect((await told()).filter((t) => t.receiver === 'ioc/supervisor')).toEqual([]);
      expect((await alerts.get(alert.id))!.events.map((e) => e.type)).toEqual([
        'raised',
        'referred',
        'acknowledged',
      ]);
    });

    it("follows the agency's target for the alert's severity: a warning waits two hours", async () => {
      const n = notifier(ESCALATING);
      await alerts.trigger(raise({ severity: 'warning' }));
      await n.step();
      now += 45 * MIN;
      // The 45-minute step comes first in time, so it is the chain's first step for a warning.
      expect((await n.step()).referred).toBe(1);
      now += 74 * MIN;
      expect((await n.step()).referred).toBe(0);
      now += MIN;
      expect((await n.step()).referred).toBe(1);
      expect((await told()).flatMap((t) => (t.referral === undefined ? [] : [t.receiver]))).toEqual([
        'ioc/supervisor',
        'ioc/control-room',
      ]);
    });

    it('counts the target from when it was told of the alert, not from the reading that raised it', async () => {
      const n = notifier(ESCALATING);
      // A gateway's backlog: the reading is two hours old when it raises the alert.
      await alerts.trigger(raise({ severity: 'critical', at: now - 120 * MIN }));
      expect((await n.step()).referred).toBe(0);
      now += 14 * MIN;
      expect((await n.step()).referred).toBe(0);
      now += MIN;
      expect((await n.step()).referred).toBe(1);
    });

    it('refers each step once when two notifiers share the files', async () => {
      const first = notifier(ESCALATING);
      const second = notifier(ESCALATING);
      const { alert } = (await alerts.trigger(raise({ severity: 'critical' })))!;
      await first.step();
      await second.step();
      now += 15 * MIN;
      expect((await first.step()).referred + (await second.step()).referred).toBe(1);
      expect((await second.step()).deliveries + (await first.step()).deliveries).toBe(0);
      expect((await alerts.get(alert.id))!.events.filter((e) => e.type === 'referred')).toHaveLength(1);
      expect((await told()).filter((t) => t.referral !== undefined)).toHaveLength(1);
    });
  });

  describe('silences and maintenance', () => {
    const silence = (device: string, minutes: number) =>
      silences.addSilence({
        match: { device: [device] },
        startsAt: now,
        endsAt: now + minutes * MIN,
        reason: 'gauge cleaned',
        createdBy: 'operator',
        createdAt: now,
      });
    const toDesk = async () => (await told()).filter((t) => t.receiver === 'flood-control/duty-desk');
    const devicesTold = async () => (await toDesk()).map((t) => t.alerts.map((a) => a.device));

    it("holds a silenced alert's notifications and tells them when the silence ends, while the alert stays open", async () => {
      const n = notifier();
      await silence('sf-le-loi', 60);
      const held = (await alerts.trigger(raise()))!;
      await alerts.trigger(raise({ device: 'sf-nguyen-hue' }));
      await n.step();
      now += MIN;
      await n.step();
      expect(await devicesTold()).toEqual([['sf-nguyen-hue']]);
      expect((await alerts.get(held.alert.id))!.alert.state).toBe('open');
      now += 58 * MIN;
      await n.step();
      expect(await devicesTold()).toHaveLength(1);
      now += MIN; // the silence ends
      await n.step();
      expect(await devicesTold()).toEqual([['sf-nguyen-hue'], ['sf-le-loi', 'sf-nguyen-hue']]);
      now += 10 * MIN;
      await n.step();
      expect(await devicesTold()).toHaveLength(2);
    });

    it('tells nothing of a held alert resolved before the hold ends', async () => {
      const n = notifier();
      await silence('sf-le-loi', 60);
      await alerts.trigger(raise());
      await n.step();
      now += 30 * MIN;
      await alerts.trigger({ ...raise(), type: 'clear', at: now });
      await n.step();
      now += 60 * MIN;
      await n.step();
      expect(await told()).toEqual([]);
    });

    it('releases what a silence ended early held within the group interval', async () => {
      const n = notifier();
      const s = await silence('sf-le-loi', 8 * 60);
      await alerts.trigger(raise());
      await n.step();
      now += MIN;
      await n.step();
      expect((await silences.endSilence(s.id, 'operator', now))?.endsAt).toBe(now);
      now += 5 * MIN;
      await n.step();
      expect(await devicesTold()).toEqual([['sf-le-loi']]);
    });

    it('holds the alerts of a device in maintenance, escalation too, until the maintenance ends', async () => {
      const n = notifier(ESCALATING);
      maintenance.set('sf-le-loi', now + 30 * MIN);
      await alerts.trigger(raise({ severity: 'critical' }));
      await n.step();
      now += 20 * MIN; // past flood-control's 15 min target, but the device is in maintenance
      expect(await n.step()).toMatchObject({ referred: 0, deliveries: 0 });
      now += 10 * MIN;
      expect((await n.step()).referred).toBe(1);
      await n.step();
      expect((await told()).map((t) => t.receiver).sort()).toEqual([
        'flood-control/duty-desk',
        'ioc/control-room',
      ]);
    });
  });
});

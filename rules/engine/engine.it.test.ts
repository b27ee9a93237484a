// The live engine on a real alert store (SQLite in a temporary folder) and a real rule folder: one alert
// per (rule, device) even for readings in the same millisecond, states that survive a restart, a reload
// that refuses a bad file and keeps the rules in force, and an operator's resolve that starts afresh.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reading } from '../../devices/index.ts';
import { createAlertService, type AlertService } from '../../alerts/index.ts';
import { openAlertStore } from '../../alerts/index.ts';
import type { AlertChange, AlertStore } from '../../alerts/index.ts';
import type { RuleDevice } from './rule-device.ts';
import { createRuleEngine, type RuleEngine } from './engine.ts';
import { STREET_FLOOD_RULES } from '../../test/kits/rule-fixtures.ts';

const RULES = STREET_FLOOD_RULES;

const GAUGE: RuleDevice = {
  id: 'sf-le-loi',
  kind: 'flood',
  name: 'Lê Lợi street gauge',
  district: 'Phú Hội',
  tags: ['street-flood'],
  meta: { type: 'street' },
};
const T0 = Date.UTC(2025, 9, 27, 3);
const MIN = 60_000;
const depth = (time: number, water_level_m: number): Reading => ({
  kind: 'flood',
  device: GAUGE.id,
  time,
  fields: { water_level_m },
});

let dir: string;
let now: number;
let store: AlertStore;
let service: AlertService;
let engine: RuleEngine | undefined;
let fleet: RuleDevice[];
const changes: AlertChange[] = [];
const log = pino({ level: 'silent' });

/** The engine on a fresh service; `through` may stand between them (to hold a write back). */
async function start(
  watch = false,
  through: (service: AlertService) => AlertService = (real) => real,
): Promise<RuleEngine> {
  store = openAlertStore({ file: path.join(dir, 'alerts.db'), clock: () => now });
  service = createAlertService({ store, log, clock: () => now });
  service.subscribe((c) => changes.push(c));
  engine = await createRuleEngine(
    { dir: path.join(dir, 'rules'), tickMs: 60_000, checkpointMs: 60_000, syncMs: 60_000, watch },
    { alerts: through(service), store, devices: () => fleet, log, clock: () => now },
  );
  return engine;
}

async function stop(): Promise<void> {
  await engine?.close();
  engine = undefined;
  await store.close();
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'city-rules-'));
  await fs.mkdir(path.join(dir, 'rules'));
  await fs.writeFile(path.join(dir, 'rules', 'flood.yaml'), RULES);
  now = T0;
  fleet = [GAUGE];
  changes.length = 0;
});

afterEach(async () => {
  await stop();
  await fs.rm(dir, { recursive: true, force: true });
});

/** The changes so far, once the engine's writes in flight have settled. */
const events = async () => {
  await engine?.settled();
  return changes.map((c) => [c.alert.rule, c.event.type]);
};

describe('createRuleEngine', () => {
  it('readings in the same millisecond give one alert, updated rather than duplicated', async () => {
    const e = await start();
    e.onReadings([depth(T0, 0.3)], GAUGE);
    e.onReadings([depth(T0 + MIN, 0.3), depth(T0 + MIN, 0.35)], GAUGE);
    e.onReadings([depth(T0 + MIN, 0.4)], GAUGE);
    expect(await events()).toEqual([['street-flooded', 'raised']]);
    expect(await service.list({ rule: 'street-flooded' })).toHaveLength(1);
  });

  it('a sustain timer survives a restart: the reading after it completes the `for`', async () => {
    let e = await start();
    e.onReadings([depth(T0, 0.3)], GAUGE);
    await stop();
    e = await start();
    e.onReadings([depth(T0 + MIN, 0.3)], GAUGE);
    expect(await events()).toEqual([['street-flooded', 'raised']]);
  });

  it('an open alert survives a restart and clears once, with no second raise', async () => {
    let e = await start();
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    await stop();
    e = await start();
    e.onReadings([depth(T0 + 2 * MIN, 0.5), depth(T0 + 3 * MIN, 0.1)], GAUGE);
    expect(await events()).toEqual([
      ['street-flooded', 'raised'],
      ['street-flooded', 'resolved'],
    ]);
    expect((await service.list({ rule: 'street-flooded' })).map((a) => a.resolution)).toEqual(['auto']);
  });

  it('a silent device raises on a tick with no reading at all, and clears when it reports', async () => {
    const e = await start();
    now = T0 + 31 * MIN;
    await e.tick();
    expect(await events()).toEqual([['silent-gauge', 'raised']]);
    e.onReadings([depth(now, 0)], GAUGE);
    expect(await events()).toEqual([
      ['silent-gauge', 'raised'],
      ['silent-gauge', 'resolved'],
    ]);
  });

  it('a reload that does not validate is refused whole and the rules in force stay', async () => {
    const e = await start();
    await fs.writeFile(path.join(dir, 'rules', 'flood.yaml'), RULES.replace("op: '>='", "op: '=>'"));
    const problems = await e.reload();
    expect(problems.map((p) => [p.code, p.line])).toEqual([['RULES_ERR_SCHEMA', 12]]);
    expect(e.status().problems).toHaveLength(1);
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    expect(await events()).toEqual([['street-flooded', 'raised']]);
  });

  it('a reload that validates replaces the rules; an unchanged rule keeps its state', async () => {
    const e = await start();
    e.onReadings([depth(T0, 0.3)], GAUGE);
    await fs.writeFile(path.join(dir, 'rules', 'flood.yaml'), RULES.replace('Gauge silent', 'Gauge quiet'));
    expect(await e.reload()).toEqual([]);
    expect(e.status().rules.map((r) => r.rule.title)).toEqual(['Street flooded', 'Gauge quiet']);
    e.onReadings([depth(T0 + MIN, 0.3)], GAUGE);
    expect(await events()).toEqual([['street-flooded', 'raised']]);
  });

  it('an operator who resolves an alert while the street is still flooded gets a new one after `for`', async () => {
    const e = await start();
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    const [open] = await service.list({ rule: 'street-flooded' });
    now = T0 + 2 * MIN;
    await service.resolve(open!.id, 'operator on duty', 'pump team sent');
    e.onReadings([depth(T0 + 2 * MIN, 0.3), depth(T0 + 3 * MIN, 0.3)], GAUGE);
    expect(await events()).toEqual([
      ['street-flooded', 'raised'],
      ['street-flooded', 'resolved'],
      ['street-flooded', 'raised'],
    ]);
    expect(new Set(changes.map((c) => c.alert.id)).size).toBe(2);
  });

  it('watches the folder: a saved file is in force a moment later, a broken one is refused', async () => {
    const e = await start(true);
    await fs.writeFile(path.join(dir, 'rules', 'flood.yaml'), RULES.replace('Gauge silent', 'Gauge quiet'));
    await eventually(() => e.status().rules.some((r) => r.rule.title === 'Gauge quiet'));
    await fs.writeFile(path.join(dir, 'rules', 'flood.yaml'), 'rules: [');
    await eventually(() => e.status().problems.length > 0);
    expect(e.status().rules.map((r) => r.rule.title)).toEqual(['Street flooded', 'Gauge quiet']);
  });
});

describe('the engine keeps alerts and states in step', () => {
  const writeRules = (text: string) => fs.writeFile(path.join(dir, 'rules', 'flood.yaml'), text);
  const flooded = async () => {
    await engine?.settled();
    return await service.list({ rule: 'street-flooded' });
  };

  it('resolves, with a note, the open alert of a rule removed by a reload', async () => {
    const e = await start();
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    await writeRules(RULES.slice(RULES.indexOf('  - id: silent-gauge')).replace(/^/, 'rules:\n'));
    expect(await e.reload()).toEqual([]);
    expect((await flooded()).map((a) => [a.state, a.resolution, a.resolveNote])).toEqual([
      ['resolved', 'auto', expect.stringContaining('no longer applies') as string],
    ]);
  });

  it('resolves the open alert of a rule whose condition changed, and raises anew if it still holds', async () => {
    const e = await start();
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    await writeRules(RULES.replace('value: 0.2', 'value: 0.25'));
    expect(await e.reload()).toEqual([]);
    expect((await flooded())[0]?.resolveNote).toContain('changed');
    e.onReadings([depth(T0 + 2 * MIN, 0.3), depth(T0 + 3 * MIN, 0.3)], GAUGE);
    expect(await events()).toEqual([
      ['street-flooded', 'raised'],
      ['street-flooded', 'resolved'],
      ['street-flooded', 'raised'],
    ]);
  });

  it('keeps the open alert and its state when a reload changes only the title and message', async () => {
    const e = await start();
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    await writeRules(RULES.replace('Street flooded', 'Street under water').replace('of water', 'deep'));
    expect(await e.reload()).toEqual([]);
    e.onReadings([depth(T0 + 2 * MIN, 0.1)], GAUGE);
    expect(await events()).toEqual([
      ['street-flooded', 'raised'],
      ['street-flooded', 'resolved'],
    ]);
    expect((await flooded())[0]).toMatchObject({ resolution: 'auto', resolveNote: null });
  });

  it('resolves the open alerts of a decommissioned device at the next registry sync', async () => {
    const e = await start();
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    fleet = [];
    await e.syncDevices();
    expect((await flooded()).map((a) => a.state)).toEqual(['resolved']);
  });

  it('a transition the store refuses is not lost: the state goes back and the next reading makes it', async () => {
    const e = await start();
    // Another connection to the same file makes SQLite refuse new alerts, as a full disk would.
    const other = new Database(path.join(dir, 'alerts.db'));
    other.exec(`CREATE TRIGGER refuse BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    expect(await events()).toEqual([]);
    other.exec('DROP TRIGGER refuse');
    other.close();
    e.onReadings([depth(T0 + 2 * MIN, 0.3)], GAUGE);
    expect(await events()).toEqual([['street-flooded', 'raised']]);
  });

  it("a reading that comes while its device's transition is being written waits for it, and makes it again if refused", async () => {
    // The store answers the first batch late and refuses it (another connection's trigger, as a full disk
    // would); the reading that came meanwhile must run against the state put back, not the refused one.
    let open!: () => void;
    const late = new Promise<void>((resolve) => (open = resolve));
    let calls = 0;
    const e = await start(false, (real) => ({
      ...real,
      async triggerAll(items) {
        const first = calls++ === 0;
        if (first) await late;
        const outcomes = await real.triggerAll(items);
        if (first) other.exec('DROP TRIGGER refuse');
        return outcomes;
      },
    }));
    const other = new Database(path.join(dir, 'alerts.db'));
    other.exec(`CREATE TRIGGER refuse BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    e.onReadings([depth(T0 + 2 * MIN, 0.3)], GAUGE);
    const lamp = { ...GAUGE, id: 'sf-other', tags: [] };
    e.onReadings([{ ...depth(T0 + 2 * MIN, 0.1), device: lamp.id }], lamp); // another device goes on
    expect(calls).toBe(1);
    open();
    expect(await events()).toEqual([['street-flooded', 'raised']]);
    expect(calls).toBe(2);
    other.close();
  });

  it('after a long stop, a device keeps what it had of its silence, and the stop itself does not count', async () => {
    let e = await start();
    e.onReadings([depth(T0, 0)], GAUGE);
    now = T0 + 25 * MIN;
    await stop(); // 25 of the 30 minutes silent
    now = T0 + 25 * MIN + 3 * 60 * MIN;
    e = await start();
    await e.tick();
    expect(await events()).toEqual([]);
    now += 6 * MIN;
    await e.tick();
    expect(await events()).toEqual([['silent-gauge', 'raised']]);
  });

  it('a rule whose condition changed while the platform was stopped starts afresh, as on a reload', async () => {
    let e = await start();
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    await stop();
    await writeRules(RULES.replace('value: 0.2', 'value: 0.25'));
    e = await start();
    expect((await flooded()).map((a) => [a.state, a.resolveNote])).toEqual([
      ['resolved', expect.stringContaining('changed') as string],
    ]);
    e.onReadings([depth(T0 + 2 * MIN, 0.3), depth(T0 + 3 * MIN, 0.3)], GAUGE);
    expect((await flooded()).map((a) => a.state)).toEqual(['open', 'resolved']);
  });

  it('a registry change that takes the device out of a rule resolves its open alert at the next sync', async () => {
    const e = await start();
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    fleet = [{ ...GAUGE, tags: [] }];
    await e.syncDevices();
    expect((await flooded()).map((a) => [a.state, a.resolveNote])).toEqual([
      ['resolved', expect.stringContaining('no longer applies') as string],
    ]);
  });

  it('a reading in flight when the device is decommissioned does not bring it back', async () => {
    const e = await start();
    fleet = [];
    await e.syncDevices();
    e.onReadings([depth(T0 + MIN, 0.3), depth(T0 + 2 * MIN, 0.3)], GAUGE);
    now = T0 + 3 * 60 * MIN;
    await e.tick();
    expect(await events()).toEqual([]);
  });

  it('a reload that only widens the selection keeps the open alerts of the devices already selected', async () => {
    const e = await start();
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    await writeRules(
      RULES.replace('select: { kind: flood, tags: [street-flood] }', 'select: { kind: flood }'),
    );
    expect(await e.reload()).toEqual([]);
    expect((await flooded()).map((a) => a.state)).toEqual(['open']);
  });

  it('a state that is up with no open alert starts afresh, so the rule raises again', async () => {
    const e = await start();
    e.onReadings([depth(T0, 0.3), depth(T0 + MIN, 0.3)], GAUGE);
    // The alert closed behind the engine's back (a hand-edited store, a lost save).
    const raw = new Database(path.join(dir, 'alerts.db'));
    raw.exec(`UPDATE alerts SET state = 'resolved', resolved_at = ${T0 + MIN}, resolution = 'operator'`);
    raw.close();
    await e.syncDevices();
    e.onReadings([depth(T0 + 2 * MIN, 0.3), depth(T0 + 3 * MIN, 0.3)], GAUGE);
    expect((await flooded()).map((a) => a.state)).toEqual(['open', 'resolved']);
  });
});

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

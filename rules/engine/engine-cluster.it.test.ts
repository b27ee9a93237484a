// Two nodes' rules engines over one real PostgreSQL, the device space leased between them: a device's
// sustain goes on where the other node left it when its partition moves, a node that lost its lease
// without knowing it (paused past it) cannot raise a second alert, and a silent device is watched by
// whichever node holds it.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../test/kits/postgres.ts';
import type { Reading } from '../../devices/index.ts';
import {
  createAlertService,
  openPostgresAlertStore,
  PARTITIONS,
  partitionOf,
  type AlertChange,
  type PostgresAlertStore,
} from '../../alerts/index.ts';
import type { RuleDevice } from './rule-device.ts';
import { createRuleEngine, type RuleEngine } from './engine.ts';
import { STREET_FLOOD_RULES } from '../../test/kits/rule-fixtures.ts';

const TTL_MS = 2_000;
const T0 = Date.UTC(2025, 9, 27, 3);
const MIN = 60_000;
const log = pino({ level: 'silent' });
/** A street gauge in a partition that the first node gives back when a second one joins (the upper half). */
const ID = ['sf-le-loi', 'sf-hung-vuong', 'sf-ba-trieu', 'sf-nguyen-hue', 'sf-dien-bien-phu'].find(
  (id) => partitionOf(id) >= PARTITIONS / 2,
)!;
const GAUGE: RuleDevice = {
  id: ID,
  kind: 'flood',
  name: 'street gauge',
  district: 'Phú Hội',
  tags: ['street-flood'],
  meta: { type: 'street' },
};
const depth = (time: number, water_level_m: number): Reading => ({
  kind: 'flood',
  device: GAUGE.id,
  time,
  fields: { water_level_m },
});

let pg: TestPostgres;
let url: string;
let dir: string;
let databases = 0;
let now: number;
const closing: Array<() => Promise<void>> = [];
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(() => pg.stop());
beforeEach(async () => {
  url = await pg.database(`engines_${databases++}`);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'city-rules-cluster-'));
  await fs.mkdir(path.join(dir, 'rules'));
  await fs.writeFile(path.join(dir, 'rules', 'flood.yaml'), STREET_FLOOD_RULES);
  now = T0;
});
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** A node: its alert store with leases renewed when the test says, its service and its rules engine. */
async function node(name: string, checkpointMs = 3_600_000) {
  const store: PostgresAlertStore = await openPostgresAlertStore({
    url,
    origin: name,
    clock: () => now,
    leases: { ttlMs: TTL_MS, renewMs: 3_600_000 },
    log,
  });
  const alerts = createAlertService({ store, log, clock: () => now });
  const changes: AlertChange[] = [];
  alerts.subscribe((c) => changes.push(c));
  const engine: RuleEngine = await createRuleEngine(
    { dir: path.join(dir, 'rules'), tickMs: 3_600_000, checkpointMs, syncMs: 3_600_000, watch: false },
    { alerts, store, devices: () => [GAUGE], leases: store.leases, log, clock: () => now },
  );
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await engine.close();
    await store.close();
  };
  closing.push(close);
  const seen = async () => {
    await engine.settled();
    return changes.map((c) => `${c.alert.rule} ${c.event.type}`);
  };
  return { store, alerts, engine, leases: store.leases!, seen, close };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('rules engines sharing the device space', () => {
  it("carry a device's sustain over to the node its partition moves to, which raises once", async () => {
    const a = await node('node-a');
    await a.leases.round();
    expect(a.engine.owns(GAUGE.id)).toBe(true);
    a.engine.onReadings([depth(T0, 0.3)], GAUGE); // the sustain starts on a
    await a.engine.settled();
    const b = await node('node-b');
    await b.leases.round();
    await a.leases.round(); // a gives back the upper half, the gauge's state saved with it
    await b.leases.round();
    expect([a.engine.owns(GAUGE.id), b.engine.owns(GAUGE.id)]).toEqual([false, true]);
    b.engine.onReadings([depth(T0 + MIN, 0.3)], GAUGE); // completes the `for` on b
    expect(await b.seen()).toEqual(['street-flooded raised']);
    expect(await a.seen()).toEqual([]);
    expect((await b.alerts.listOpen()).map((x) => [x.rule, x.device])).toEqual([
      ['street-flooded', GAUGE.id],
    ]);
  });

  it('continue from the last saved state after a node stops renewing, and the stale node cannot raise again', async () => {
    const a = await node('node-a', 20);
    await a.leases.round();
    a.engine.onReadings([depth(T0, 0.3)], GAUGE);
    // The checkpoint saves the sustain's start.
    await expect
      .poll(async () =>
        (await a.store.loadStates({ partitions: [partitionOf(GAUGE.id)] })).map((s) => s.rule),
      )
      .toContain('street-flooded');
    const b = await node('node-b');
    await sleep(TTL_MS + 100); // a is paused past its leases
    await b.leases.round();
    expect(b.engine.owns(GAUGE.id)).toBe(true);
    b.engine.onReadings([depth(T0 + MIN, 0.3)], GAUGE);
    expect(await b.seen()).toEqual(['street-flooded raised']);
    // a wakes up, not yet knowing: its transition is refused by the lease's token, and reverted.
    expect(a.engine.owns(GAUGE.id)).toBe(true);
    a.engine.onReadings([depth(T0 + MIN, 0.3)], GAUGE);
    expect(await a.seen()).toEqual([]);
    expect(await b.alerts.list()).toHaveLength(1);
    await a.leases.round(); // now it knows, and lets the device go
    expect(a.engine.owns(GAUGE.id)).toBe(false);
  });

  it('watch a device connected nowhere on the node that holds it, and only there', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    await a.leases.round();
    await b.leases.round();
    await a.leases.round();
    await b.leases.round();
    now = T0 + 31 * MIN;
    await Promise.all([a.engine.tick(), b.engine.tick()]);
    expect(await b.seen()).toEqual(['silent-gauge raised']);
    expect(await a.seen()).toEqual([]);
  });
});

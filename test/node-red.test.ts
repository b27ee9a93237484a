// End to end: `npm run node-red`'s Node-RED, with the shipped example flows, against a running platform.
// Kim Long's rain gauge and river gauge report heavy rain and a rising river: the corroboration flow must
// raise `street-flood-likely` on the city centre's street gauges through the platform's alert lifecycle —
// in InfluxDB (`alerts`, source=flow) and through the API, next to the rule files' alerts — and clear
// them when the rain has stopped and the river no longer rises.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFleet } from '../devices/index.ts';
import { freePort } from '../influx/index.ts';
import { loadNodeRedConfig, startNodeRed, type NodeRedServer } from '../flows/node-red/index.ts';
import { connectClient, eventually, rows, startTestPlatform, type TestPlatform } from './kits/platform.ts';

const RULE = 'street-flood-likely';
const RAIN = 'rain-kim-long';
const RIVER = 'rg-kim-long';
/** The flood tab of the example flows, whose flow context holds the corroboration's state. */
const FLOOD_TAB = 'c17e00000000f100';
const MINUTE = 60_000;

interface ApiAlert {
  device: string;
  rule: string;
  source: string;
  state: string;
  severity: string;
  owner: string;
  district: string;
  title: string;
}

let platform: TestPlatform;
let nodeRed: NodeRedServer;
/** Every line Node-RED logged, as JSON. */
const logLines: string[] = [];
let userRoot: string;
let streetGauges: string[];
const devices = new Map<string, MqttClient>();

async function publish(device: string, at: number, fields: Record<string, number>): Promise<void> {
  let client = devices.get(device);
  if (!client) {
    const secret = platform.seeded.find((p) => p.id === device)!.secret;
    client = await connectClient(platform.mqttUrl, { clientId: device, username: device, password: secret });
    devices.set(device, client);
  }
  const payload = JSON.stringify({ ...fields, ts: new Date(at).toISOString() });
  await client.publishAsync(`city/flood/${device}/telemetry`, payload, { qos: 1 });
}

/** The corroboration's state, read through Node-RED's admin API (the editor's Context sidebar). */
interface FloodState {
  readonly river: unknown[];
  readonly rain: unknown[];
  readonly raised: boolean;
}

async function floodState(): Promise<FloodState | undefined> {
  const res = await fetch(`${nodeRed.url}context/flow/${FLOOD_TAB}/kimLong?store=default`);
  if (!res.ok) return undefined;
  const body = (await res.json()) as { msg?: string; format?: string };
  return body.msg === undefined || body.format === 'undefined'
    ? undefined
    : (JSON.parse(body.msg) as FloodState);
}

async function apiAlerts(): Promise<ApiAlert[]> {
  const res = await fetch(`http://127.0.0.1:${platform.apiPort}/api/alerts?rule=${RULE}`, {
    headers: { authorization: `Bearer ${platform.adminToken}` },
  });
  return ((await res.json()) as { alerts: ApiAlert[] }).alerts;
}

beforeAll(async () => {
  platform = await startTestPlatform({ CITY_SEED_FLEET: 'true' });
  const fleet = await loadFleet();
  streetGauges = fleet.devices.filter((d) => d.tags?.includes('street-flood')).map((d) => d.id);
  userRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'city-node-red-'));
  // A browser with the editor open asks again while Node-RED starts: it must not meet a half-started one.
  const port = await freePort();
  let starting = true;
  const asking = (async () => {
    while (starting) {
      await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const config = loadNodeRedConfig({
    CITY_DATA_DIR: userRoot,
    CITY_NODE_RED_PORT: String(port),
    CITY_MQTT_URL: platform.mqttUrl,
    CITY_API_URL: `http://127.0.0.1:${platform.apiPort}`,
    CITY_NODE_RED_SECRET: platform.seeded.find((p) => p.id === 'node-red')!.secret,
    CITY_NODE_RED_API_TOKEN: platform.adminToken,
    CITY_LOG_LEVEL: 'info',
  });
  nodeRed = await startNodeRed(config, {
    log: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
  });
  starting = false;
  await asking;
});

afterAll(async () => {
  for (const c of devices.values()) await c.endAsync();
  await nodeRed?.close();
  await platform?.destroy();
  if (userRoot) await fs.rm(userRoot, { recursive: true, force: true });
});

describe('Node-RED with the example flows', () => {
  it('starts without an error line in its log', () => {
    const levels = logLines.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(levels.length).toBeGreaterThan(0);
    expect(levels.filter((l) => l.level >= 50)).toEqual([]);
  });

  it("starts with the project's nodes and the example flows in a new user folder", async () => {
    expect(nodeRed.flowsCopied).toBe(true);
    const flows = (await (await fetch(`${nodeRed.url}flows`)).json()) as Array<{ id: string; type: string }>;
    expect(flows.filter((n) => n.type === 'tab').map((n) => n.id)).toContain(FLOOD_TAB);
    const nodes = (await (
      await fetch(`${nodeRed.url}nodes`, { headers: { accept: 'application/json' } })
    ).json()) as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>;
    const ours = nodes.filter((n) => n.module === 'city-telemetry-node-red');
    expect(ours.flatMap((n) => n.types).sort()).toEqual([
      'city-clear-alert',
      'city-device-info',
      'city-platform',
      'city-raise-alert',
      'city-send-command',
      'city-telemetry',
    ]);
    expect(ours.every((n) => n.enabled && n.err === undefined)).toBe(true);
  });

  it('raises street-flood-likely on the street gauges when rain and a rising river meet', async () => {
    const t0 = Date.now() - 3 * 60 * MINUTE;
    // The flow's subscription reaches the broker a moment after Node-RED connects: the first reading is
    // sent again until the flow has it (the same reading twice changes neither the rain nor the rise).
    await eventually(async () => {
      await publish(RIVER, t0, { water_level_m: 0.5 });
      return (await floodState())?.river.length ? true : undefined;
    });
    for (const m of [10, 30, 50]) await publish(RAIN, t0 + m * MINUTE, { rain_mm: 2 }); // 6 mm > 4.2
    await publish(RIVER, t0 + 30 * MINUTE, { water_level_m: 0.55 });
    await publish(RIVER, t0 + 50 * MINUTE, { water_level_m: 0.6 }); // +0.10 m >= 0.084

    const open = await eventually(async () => {
      const alerts = (await apiAlerts()).filter((a) => a.state === 'open');
      return alerts.length === streetGauges.length ? alerts : undefined;
    });
    expect(open.map((a) => a.device).sort()).toEqual([...streetGauges].sort());
    for (const a of open) {
      expect(a).toMatchObject({
        rule: RULE,
        source: 'flow',
        severity: 'warning',
        owner: 'flood-control',
        title: 'Street flooding likely',
      });
    }
    const stored = await eventually(async () => {
      const r = await rows(
        platform,
        `SELECT "event", "device", "severity", "owner", "open" FROM "alerts" WHERE "rule" = '${RULE}' AND "source" = 'flow'`,
      );
      return r.length === streetGauges.length ? r : undefined;
    });
    expect(stored.every((r) => r.event === 'raised' && r.open === 1 && r.owner === 'flood-control')).toBe(
      true,
    );
    expect(stored.map((r) => r.device).sort()).toEqual([...streetGauges].sort());
  });

  it('clears them when the rain has stopped and the river no longer rises', async () => {
    const t1 = Date.now() - 50 * MINUTE;
    for (const m of [0, 20, 40]) {
      await publish(RAIN, t1 + m * MINUTE, { rain_mm: 0 });
      await publish(RIVER, t1 + m * MINUTE, { water_level_m: 0.6 });
    }
    const resolved = await eventually(async () => {
      const alerts = await apiAlerts();
      return alerts.length === streetGauges.length && alerts.every((a) => a.state === 'resolved')
        ? alerts
        : undefined;
    });
    expect(resolved.every((a) => a.source === 'flow')).toBe(true);
    const stored = await eventually(async () => {
      const r = await rows(
        platform,
        `SELECT "event", "open" FROM "alerts" WHERE "rule" = '${RULE}' AND "source" = 'flow' AND "event" = 'resolved'`,
      );
      return r.length === streetGauges.length ? r : undefined;
    });
    expect(stored.every((r) => r.open === 0)).toBe(true);
    expect((await floodState())?.raised).toBe(false);
  });
});

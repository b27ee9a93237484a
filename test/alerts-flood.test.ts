// End to end: the simulator's flood scenario drives Kim Long (alarm levels 1.0 / 2.0 / 3.5 m) past alarm
// 3 and back down. The Huế rule `river-alarm-level` must raise one alert, escalate it twice, and clear it,
// and that one history must be visible on MQTT, in InfluxDB and through the API — and survive a restart.
import { readFile } from 'node:fs/promises';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFleet } from '../devices/index.ts';
import { createDeviceModel, devicePayload, FLOOD_SCENARIO_MS } from '../simulators/index.ts';
import { connectClient, eventually, rows, startTestPlatform, type TestPlatform } from './kits/platform.ts';

const KIM_LONG = 'rg-kim-long';
const RULE = 'river-alarm-level';
/** The river project's report interval (docs/hue-places.md). */
const STEP_MS = 10 * 60_000;
const HOUR_MS = 3_600_000;

interface AlertMessage {
  alert: { id: number; rule: string; device: string; severity: string; state: string; level: number };
  event: { type: string; severity: string; level: number; at: string };
}

let platform: TestPlatform;
let watcher: MqttClient;
const seen: AlertMessage[] = [];

async function publishFloodScenario(): Promise<number> {
  const fleet = await loadFleet();
  const gauge = fleet.devices.find((d) => d.id === KIM_LONG)!;
  const secret = platform.seeded.find((p) => p.id === KIM_LONG)!.secret;
  const device = await connectClient(platform.mqttUrl, {
    clientId: KIM_LONG,
    username: KIM_LONG,
    password: secret,
  });
  const model = createDeviceModel(gauge, { seed: 7, scenario: 'flood' });
  // The whole scenario, ending now: every reading is in the past, as a gateway's backlog would be.
  const start = Date.now() - FLOOD_SCENARIO_MS - HOUR_MS;
  let state = model.initial({ t: start, scenarioMs: 0 });
  let published = 0;
  for (let t = start + STEP_MS; t < start + FLOOD_SCENARIO_MS + HOUR_MS; t += STEP_MS) {
    const step = model.step(state, { t, scenarioMs: t - start });
    state = step.state;
    if (Object.keys(step.fields).length === 0) continue;
    await device.publishAsync(`city/flood/${KIM_LONG}/telemetry`, devicePayload(step.fields, t), { qos: 1 });
    published++;
  }
  await device.endAsync();
  return published;
}

beforeAll(async () => {
  platform = await startTestPlatform({ CITY_SEED_FLEET: 'true' });
  const service = platform.seeded.find((p) => p.type === 'service')!;
  watcher = await connectClient(platform.mqttUrl, {
    clientId: service.id,
    username: service.id,
    password: service.secret,
  });
  watcher.on('message', (_topic, payload) => seen.push(JSON.parse(payload.toString()) as AlertMessage));
  await watcher.subscribeAsync(`city/alerts/flood/${KIM_LONG}/${RULE}`, { qos: 1 });
  expect(await publishFloodScenario()).toBeGreaterThan(300);
}, 60_000);

afterAll(async () => {
  await watcher?.endAsync();
  await platform?.destroy();
});

const api = async (path: string): Promise<Response> =>
  fetch(`http://127.0.0.1:${platform.apiPort}${path}`, {
    headers: { authorization: `Bearer ${platform.adminToken}` },
  });

describe('the flood scenario at Kim Long', () => {
  it('raises one alert on MQTT, escalates it to alarm 2 and 3, and clears it', async () => {
    await eventually(() => (seen.some((m) => m.event.type === 'resolved') ? true : undefined));
    expect(seen.map((m) => [m.event.type, m.event.severity, m.event.level])).toEqual([
      ['raised', 'warning', 1],
      ['escalated', 'warning', 2],
      ['escalated', 'critical', 3],
      ['resolved', 'critical', 3],
    ]);
    expect(new Set(seen.map((m) => m.alert.id)).size).toBe(1);
  });

  it('the same four transitions are in InfluxDB, tagged for Grafana', async () => {
    const q = `SELECT "event", "severity", "owner", "district", "level", "open" FROM "alerts" WHERE "rule" = '${RULE}' AND "device" = '${KIM_LONG}'`;
    const got = await eventually(async () => {
      const r = await rows(platform, q);
      return r.length === 4 ? r : undefined;
    });
    expect(got.map((r) => [r.event, r.severity, r.level, r.open])).toEqual([
      ['raised', 'warning', 1, 1],
      ['escalated', 'warning', 2, 1],
      ['escalated', 'critical', 3, 1],
      ['resolved', 'critical', 3, 0],
    ]);
    expect(got.every((r) => r.owner === 'flood-control' && r.district === 'Kim Long')).toBe(true);
  });

  it('the API lists the one alert, resolved automatically, with its history', async () => {
    const list = (await (await api(`/api/alerts?rule=${RULE}&device=${KIM_LONG}`)).json()) as {
      alerts: Array<{ id: number; state: string; severity: string; resolution: string }>;
    };
    expect(list.alerts.map((a) => [a.state, a.severity, a.resolution])).toEqual([
      ['resolved', 'critical', 'auto'],
    ]);
    const one = (await (await api(`/api/alerts/${list.alerts[0]!.id}`)).json()) as {
      events: Array<{ type: string }>;
    };
    expect(one.events.map((e) => e.type)).toEqual(['raised', 'escalated', 'escalated', 'resolved']);
  });

  it('a backtest of the flood rules over the stored scenario finds the same history, and touches no live alert', async () => {
    const source = await readFile(new URL('../rules/hue/flood.yaml', import.meta.url), 'utf8');
    const now = Date.now();
    const res = await fetch(`http://127.0.0.1:${platform.apiPort}/api/rules/backtest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        source,
        name: 'flood.yaml',
        from: Math.floor(now - FLOOD_SCENARIO_MS - 2 * HOUR_MS),
        to: now,
      }),
    });
    if (res.status !== 200) throw new Error(await res.text());
    const report = (await res.json()) as {
      transitions: Array<{ rule: string; device: string; type: string; severity: string; level: number }>;
    };
    const mine = report.transitions.filter((t) => t.rule === RULE && t.device === KIM_LONG);
    expect(mine.map((t) => [t.type, t.severity, t.level])).toEqual([
      ['raise', 'warning', 1],
      ['escalate', 'warning', 2],
      ['escalate', 'critical', 3],
      ['clear', 'critical', 3],
    ]);
    const list = (await (await api(`/api/alerts?rule=${RULE}`)).json()) as { alerts: unknown[] };
    expect(list.alerts).toHaveLength(1);
  });

  it('after a restart the alert is still there, and nothing is raised again', async () => {
    platform = await platform.restart();
    const list = (await (await api(`/api/alerts?rule=${RULE}`)).json()) as { alerts: unknown[] };
    expect(list.alerts).toHaveLength(1);
  });
});

// The real platform writes its health and every device's status into InfluxDB: a reading and a refused
// message show up in `platform` and `rejections`, every seeded device has a `device_status` point with its
// place, and an alert raised by a Huế rule turns its device to `alerting`.
import os from 'node:os';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, loadFleet, sunAltitudeDeg } from '../devices/index.ts';

import {
  connectClient,
  eventually,
  rows,
  startTestPlatform,
  type TestPlatform,
} from '../test/kits/platform.ts';

let platform: TestPlatform;
let fleet: Fleet;
const clients = new Map<string, MqttClient>();

/** Publishes a flood reading from a seeded device over its own connection (one per device). */
async function publish(device: string, payload: Record<string, unknown>): Promise<void> {
  let client = clients.get(device);
  if (client === undefined) {
    const secret = platform.seeded.find((p) => p.id === device)!.secret;
    client = await connectClient(platform.mqttUrl, { clientId: device, username: device, password: secret });
    clients.set(device, client);
  }
  await client.publishAsync(`city/flood/${device}/telemetry`, JSON.stringify(payload), { qos: 1 });
}

/** The latest device_status point of each device. */
async function latestStatus(): Promise<Map<string, Record<string, unknown>>> {
  const found = await rows(
    platform,
    'SELECT "name", "lat", "lon", "status", "status_code", "open_alerts", "sun_altitude_deg" FROM "device_status" GROUP BY "device", "kind", "district"',
  );
  // Each series comes in time order: the last row of a device is its latest point.
  return new Map(found.map((r) => [String(r.device), r]));
}

beforeAll(async () => {
  platform = await startTestPlatform({
    CITY_SEED_FLEET: 'true',
    CITY_HEALTH_INTERVAL_MS: '1000',
    CITY_STATUS_INTERVAL_MS: '1000',
  });
  fleet = await loadFleet();
});

afterAll(async () => {
  await Promise.all([...clients.values()].map((c) => c.endAsync()));
  await platform?.destroy();
});

describe('the health report in InfluxDB', () => {
  it("writes the event loop's lag with each platform point", async () => {
    const [point] = await eventually(async () => {
      const found = await rows(
        platform,
        'SELECT "event_loop_lag_ms_p99", "event_loop_lag_ms_max" FROM "platform" ORDER BY time DESC LIMIT 1',
      );
      return found.length > 0 ? found : undefined;
    });
    expect(point?.event_loop_lag_ms_p99).toBeGreaterThanOrEqual(0);
    expect(point?.event_loop_lag_ms_max).toBeGreaterThanOrEqual(Number(point?.event_loop_lag_ms_p99));
  });

  it("serves the Node.js process's metrics in /metrics, as Prometheus users expect", async () => {
    const text = await (await fetch(`http://127.0.0.1:${platform.apiPort}/metrics`)).text();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_gc_duration_seconds_count',
      'nodejs_active_handles_total',
    ]) {
      expect(text, name).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? `, 'm'));
    }
  });

  it('counts an accepted reading in `platform` and a refused one in `rejections` under its reason', async () => {
    await publish('rain-kim-long', { rain_mm: 0 });
    await publish('rain-kim-long', { rain_mm: 9_999 });

    const health = await eventually(async () => {
      const r = await rows(platform, 'SELECT * FROM "platform" WHERE "readings" >= 1');
      return r.length > 0 ? r : undefined;
    });
    expect(health[0]).toMatchObject({ host: os.hostname() });
    expect(health[0]!.readings_per_s).toBeGreaterThan(0);
    const refused = await eventually(async () => {
      const r = await rows(
        platform,
        `SELECT sum("count") AS "count" FROM "rejections" WHERE "reason" = 'INGEST_ERR_RANGE' GROUP BY "kind"`,
      );
      return r.length > 0 ? r : undefined;
    });
    expect(refused.map((r) => [r.kind, r.count])).toEqual([['flood', 1]]);
  });

  it('writes a device_status point for every seeded device, at its place, ok while no alert is open', async () => {
    const statuses = await eventually(async () => {
      const latest = await latestStatus();
      return latest.size === fleet.devices.length ? latest : undefined;
    });
    for (const d of fleet.devices) {
      const status = statuses.get(d.id);
      expect(status, d.id).toMatchObject({
        name: d.name,
        lat: d.location.lat,
        lon: d.location.lon,
        status: 'ok',
        status_code: 0,
        open_alerts: 0,
      });
      const { lat, lon } = d.location;
      expect(status!.sun_altitude_deg).toBeCloseTo(sunAltitudeDeg(Number(status!.time), lat, lon), 9);
    }
  });

  it("turns a device to alerting once a Huế rule raises an alert on it, and counts the platform's open alerts", async () => {
    // 60 mm of rain: rain-burst-1h, very-heavy-rain-12h and heavy-rain-24h (rules/hue/flood.yaml) fire at once.
    await publish('rain-phu-bai', { rain_mm: 60 });
    const rules = ['heavy-rain-24h', 'rain-burst-1h', 'very-heavy-rain-12h'];
    await eventually(async () => {
      const open = (await platform.alerts.listOpen()).filter((a) => a.device === 'rain-phu-bai');
      return open.length === rules.length ? open : undefined;
    });
    expect(
      (await platform.alerts.listOpen())
        .filter((a) => a.device === 'rain-phu-bai')
        .map((a) => a.rule)
        .sort(),
    ).toEqual(rules);

    const alerting = await eventually(async () => {
      const latest = await latestStatus();
      const status = latest.get('rain-phu-bai');
      return status?.status === 'alerting' && status.open_alerts === rules.length ? latest : undefined;
    });
    expect(alerting.get('rain-phu-bai')).toMatchObject({ status_code: 1 });
    expect(alerting.get('rain-kim-long')).toMatchObject({ status: 'ok', open_alerts: 0 });
    await eventually(async () => {
      const r = await rows(
        platform,
        `SELECT "open_alerts" FROM "platform" WHERE "open_alerts" >= ${rules.length}`,
      );
      return r.length > 0 ? r : undefined;
    });
  });
});

// No acknowledged reading is lost: not across a graceful restart, not while InfluxDB is down, and not when
// the platform process is killed outright right after the PUBACKs went out.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../devices/index.ts';
import { startLocalInfluxd } from '../influx/index.ts';
import {
  connectClient,
  eventually,
  rows,
  spawnPlatform,
  startTestPlatform,
  type TestPlatform,
} from './kits/platform.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const at = { lat: 16.4697, lon: 107.5778 };

/** Publishes `count` QoS 1 readings with distinct timestamps and resolves when every PUBACK is in. */
async function publishAcked(
  url: string,
  id: string,
  secret: string,
  count: number,
  t0: number,
): Promise<void> {
  const client = await connectClient(url, { clientId: id, username: id, password: secret });
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      client.publishAsync(`city/air_quality/${id}/telemetry`, JSON.stringify({ pm25: i % 500, ts: t0 + i }), {
        qos: 1,
      }),
    ),
  );
  await client.endAsync(true);
}

const countOf = async (platform: TestPlatform, id: string) =>
  Number((await rows(platform, `SELECT count(pm25) FROM air_quality WHERE device = '${id}'`))[0]?.count ?? 0);

describe('durability', () => {
  it('keeps every acknowledged reading across a graceful restart', async () => {
    let platform = await startTestPlatform();
    const { secret } = await platform.registry.provisionDevice({
      id: 'aq-restart',
      kind: 'air_quality',
      name: 'r',
      district: 'Vỹ Dạ',
      location: at,
    });
    await publishAcked(platform.mqttUrl, 'aq-restart', secret, 2000, Date.now() - 60_000);
    platform = await platform.restart();
    cleanups.push(() => platform.destroy());
    expect(
      await eventually(async () => ((await countOf(platform, 'aq-restart')) === 2000 ? 2000 : undefined)),
    ).toBe(2000);
  });

  it('holds readings in the spool while InfluxDB is down and writes them when it is back', async () => {
    const influxDir = await fs.mkdtemp(path.join(os.tmpdir(), 'influx-down-'));
    let influxd = await startLocalInfluxd({ dataDir: influxDir, port: 0 });
    const port = influxd.port;
    // The platform's own health points share the spool: written once at start, then not for an hour,
    // so exactly the 300 readings are what the outage holds.
    let platform = await startTestPlatform({
      INFLUX_URL: influxd.url,
      CITY_STOP_DRAIN_MS: '500',
      CITY_HEALTH_INTERVAL_MS: '3600000',
      CITY_STATUS_INTERVAL_MS: '3600000',
    });
    cleanups.push(async () => {
      await platform.destroy();
      await influxd.stop();
      await fs.rm(influxDir, { recursive: true, force: true });
    });
    const { secret } = await platform.registry.provisionDevice({
      id: 'aq-outage',
      kind: 'air_quality',
      name: 'o',
      district: 'An Cựu',
      location: at,
    });

    await eventually(() => (platform.spool.stats().pendingLines === 0 ? true : undefined));
    await influxd.stop();
    await publishAcked(platform.mqttUrl, 'aq-outage', secret, 300, Date.now() - 60_000);
    expect(platform.spool.stats().pendingLines).toBe(300);
    await platform.close();

    influxd = await startLocalInfluxd({ dataDir: influxDir, port });
    platform = await platform.restart();
    expect(
      await eventually(async () => ((await countOf(platform, 'aq-outage')) === 300 ? 300 : undefined)),
    ).toBe(300);
  });

  it('keeps every acknowledged reading when the process is killed right after the PUBACKs', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'city-crash-'));
    const db = `crash_${process.pid}_${Date.now()}`;
    const registry = await openRegistry({ file: path.join(dataDir, 'registry.db') });
    const { secret } = await registry.provisionDevice({
      id: 'aq-crash',
      kind: 'air_quality',
      name: 'c',
      district: 'Thủy Xuân',
      location: at,
    });
    await registry.close();

    const running = await spawnPlatform({ CITY_DATA_DIR: dataDir, INFLUX_DB: db });
    await publishAcked(running.mqttUrl, 'aq-crash', secret, 3000, Date.now() - 60_000);
    running.child.kill('SIGKILL');
    await running.exited;

    const platform = await startTestPlatform({}, { dataDir, db });
    cleanups.push(() => platform.destroy());
    expect(
      await eventually(async () => ((await countOf(platform, 'aq-crash')) === 3000 ? 3000 : undefined)),
    ).toBe(3000);
  });
});

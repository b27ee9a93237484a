// Failed CONNECTs are cheap and limited: a device's secret is checked as an HMAC (no thread-pool work),
// and failures per user name and per client address start blocks during which CONNECTs are refused
// unchecked (CONNACK 5, BROKER_ERR_AUTH_BLOCKED). A flood of wrong passwords leaves a connected device's
// publishes acknowledged and stored.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../devices/secrets.ts';
import {
  connectClient,
  eventually,
  metricValue,
  rows,
  startTestPlatform,
  type TestPlatform,
} from './kits/platform.ts';
import { connackCode } from './kits/raw-mqtt.ts';

const station = (id: string) => ({
  id,
  kind: 'air_quality' as const,
  name: id,
  district: 'Thuận Hóa',
  location: { lat: 16.4637, lon: 107.5909 },
});

let platform: TestPlatform | undefined;
afterEach(async () => {
  await platform?.destroy();
  platform = undefined;
});

describe('failed CONNECTs', () => {
  it('after wrong passwords for a device, even its right secret is refused until the block ends', async () => {
    platform = await startTestPlatform({ CITY_MQTT_AUTH_FAILURES_PER_USER: '3' });
    const p = platform;
    const { secret } = await p.registry.provisionDevice(station('aq-kim-long'));
    const attempt = (password: string) =>
      connackCode({ port: p.mqttPort, clientId: 'aq-kim-long', username: 'aq-kim-long', password });

    expect(await attempt(secret)).toBe(0);
    for (let i = 0; i < 3; i++) expect(await attempt(`${secret}x`)).toBe(4);
    expect(await attempt(secret)).toBe(5);
    expect(await metricValue(p, 'city_broker_refused_total{code="BROKER_ERR_AUTH_BLOCKED"}')).toBe(1);
    expect(await metricValue(p, 'city_broker_blocked{by="user"}')).toBe(1);
    // Another device from the same address is not concerned.
    const other = await p.registry.provisionDevice(station('aq-vy-da'));
    expect(
      await connackCode({
        port: p.mqttPort,
        clientId: 'aq-vy-da',
        username: 'aq-vy-da',
        password: other.secret,
      }),
    ).toBe(0);
    // The first block lasts a second; then the right secret is accepted, and the failures forgotten.
    await eventually(async () => ((await attempt(secret)) === 0 ? true : undefined), 5_000);
    expect(await attempt(`${secret}x`)).toBe(4);
    expect(await attempt(secret)).toBe(0);
  });

  it('checks no more than the limit of a burst for a device still on an older scrypt hash', async () => {
    const first = await startTestPlatform();
    const { secret } = await first.registry.provisionDevice(station('aq-thuy-bieu'));
    await first.close();
    // The device's hash as a registry made before HMACs kept it.
    const file = path.join(first.dataDir, 'registry.db');
    const db = new Database(file);
    db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ?').run(
      await hashPassword(secret),
      'aq-thuy-bieu',
    );
    const stored = () =>
      (
        db.prepare('SELECT secret_hash FROM devices WHERE id = ?').get('aq-thuy-bieu') as {
          secret_hash: string;
        }
      ).secret_hash;
    const p = (platform = await startTestPlatform({}, { dataDir: first.dataDir, db: first.db }));
    const attempt = (password: string) =>
      connackCode({ port: p.mqttPort, clientId: 'aq-thuy-bieu', username: 'aq-thuy-bieu', password });
    const codes = await Promise.all(Array.from({ length: 100 }, () => attempt('guess')));
    // Five checks ran (one scrypt at a time); the other 95 were refused while they ran, unchecked.
    expect(codes.filter((c) => c === 4)).toHaveLength(5);
    expect(codes.filter((c) => c === 5)).toHaveLength(95);
    // Once the block ends, the right secret connects, and its hash becomes an HMAC.
    expect(stored()).toMatch(/^\$scrypt\$/);
    await eventually(async () => ((await attempt(secret)) === 0 ? true : undefined), 10_000);
    expect(stored()).toMatch(/^\$hmac-sha256\$/);
    db.close();
  });

  it('a flood of 2,000 wrong passwords leaves a connected device publishing, acknowledged and stored', async () => {
    platform = await startTestPlatform();
    const p = platform;
    const { secret } = await p.registry.provisionDevice(station('aq-dong-ba'));
    const device = await connectClient(p.mqttUrl, {
      clientId: 'aq-dong-ba',
      username: 'aq-dong-ba',
      password: secret,
    });
    const codes = new Map<number, number>();
    let flooding = true;
    const flood = (async () => {
      const total = 2_000;
      const concurrency = 50;
      let next = 0;
      const worker = async () => {
        while (next < total) {
          const i = next++;
          const user = `aq-flood-${i % 400}`;
          const code = await connackCode({
            port: p.mqttPort,
            clientId: user,
            username: user,
            password: 'guess',
          });
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      flooding = false;
    })();
    let acked = 0;
    while (flooding || acked < 10) {
      await device.publishAsync('city/air_quality/aq-dong-ba/telemetry', JSON.stringify({ pm25: acked }), {
        qos: 1,
      });
      acked++;
    }
    await flood;
    await device.endAsync();

    expect([...codes.keys()].sort()).toEqual([4, 5]);
    expect((codes.get(4) ?? 0) + (codes.get(5) ?? 0)).toBe(2_000);
    // 50 failures were checked (checks running count as failures), then one as each block (1 s, 2 s, 4 s…)
    // ended; the rest were refused unchecked.
    expect(codes.get(4)).toBeGreaterThanOrEqual(50);
    expect(codes.get(4)).toBeLessThanOrEqual(55);
    expect(await metricValue(p, 'city_broker_blocked{by="address"}')).toBe(1);
    const [row] = await eventually(async () => {
      const r = await rows(p, `SELECT count(pm25) FROM air_quality WHERE device = 'aq-dong-ba'`);
      return r[0]?.count === acked ? r : undefined;
    });
    expect(row?.count).toBe(acked);
  });
});

// Notifications survive kill -9. The platform runs as its own process; one street gauge's alert has a
// delivery failing against the flood committee's webhook (HTTP 503, waiting for its retry), and a second
// gauge's alert is raised and the process killed before its group has waited, so its event is still
// unread in the outbox. After a restart with the receiver back, both are delivered, the first under the
// same idempotency key it failed with.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openRegistry, type DeviceInput } from '../devices/index.ts';
import { connectClient, eventually, startTestPlatform, type TestPlatform } from './kits/platform.ts';

interface Hook {
  readonly key: string;
  readonly devices: string[];
  readonly answered: number;
}
const hooks: Hook[] = [];
let answer = 503;
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const { notification } = JSON.parse(body) as { notification: { alerts: Array<{ device: string }> } };
    const key = String(req.headers['idempotency-key']);
    hooks.push({ key, devices: notification.alerts.map((a) => a.device), answered: answer });
    res.writeHead(answer).end();
  });
});

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const gauge = (id: string, name: string): DeviceInput => ({
  id,
  kind: 'flood',
  name,
  district: 'Thuận Hóa',
  location: { lat: 16.4565, lon: 107.578 },
  meta: { type: 'street' },
  tags: ['street-flood'],
});

/** Two readings a street gauge would send as water rises over the road: street-flooded is raised. */
async function flood(mqttUrl: string, id: string, secret: string): Promise<void> {
  const client = await connectClient(mqttUrl, { clientId: id, username: id, password: secret });
  const now = Date.now();
  for (const [ago, depth] of [
    [3, 0.31],
    [1, 0.34],
  ] as const) {
    const ts = new Date(now - ago * 60_000).toISOString();
    await client.publishAsync(`city/flood/${id}/telemetry`, JSON.stringify({ water_level_m: depth, ts }), {
      qos: 1,
    });
  }
  await client.endAsync();
}

describe('notifications across kill -9', () => {
  it('delivers every notification after a restart: one failing before the kill, one not yet queued', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/flood`;
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'city-notify-crash-'));
    const routing = path.join(dataDir, 'routing.yaml');
    await fs.writeFile(
      routing,
      'defaults: { group_by: [agency, rule, device], group_wait: 2s }\nroutes:\n  - receivers: [$owner]\n',
    );
    const db = `notify_crash_${process.pid}_${Date.now()}`;
    const registry = await openRegistry({ file: path.join(dataDir, 'registry.db') });
    const first = await registry.provisionDevice(gauge('sf-crash-a', 'Ngập đường Lê Lợi'));
    const second = await registry.provisionDevice(gauge('sf-crash-b', 'Ngập đường Hùng Vương'));
    registry.createAgency({
      id: 'flood-control',
      name: { vi: 'Ban Chỉ huy PCTT và TKCN', en: 'Flood steering committee' },
      receivers: [{ id: 'duty-desk', type: 'webhook', url }],
    });
    await registry.close();

    const child = spawn(process.execPath, ['--import', 'tsx', 'platform/main.ts'], {
      env: {
        ...process.env,
        CITY_HOST: '127.0.0.1',
        CITY_MQTT_PORT: '0',
        CITY_API_PORT: '0',
        CITY_DATA_DIR: dataDir,
        CITY_ROUTING_FILE: routing,
        INFLUX_URL: inject('influxUrl'),
        INFLUX_DB: db,
        CITY_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const mqttPort = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`platform exited with ${code}`)));
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; mqtt?: number };
        if (entry.msg === 'platform started' && entry.mqtt) resolve(entry.mqtt);
      });
    });
    const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;

    await flood(mqttUrl, 'sf-crash-a', first.secret);
    const failed = await eventually(() => hooks.find((h) => h.devices.includes('sf-crash-a')), 20_000);
    expect(failed.answered).toBe(503);

    await flood(mqttUrl, 'sf-crash-b', second.secret);
    const alerts = new Database(path.join(dataDir, 'alerts.db'), { readonly: true });
    await eventually(() =>
      alerts.prepare("SELECT id FROM alerts WHERE device = 'sf-crash-b'").get() === undefined
        ? undefined
        : true,
    );
    child.kill('SIGKILL');
    await exited;
    alerts.close();
    const before = hooks.length;
    // Killed inside the second group's wait: its alert's event is in the outbox, no delivery made of it yet.
    const outbox = new Database(path.join(dataDir, 'notify.db'), { readonly: true });
    const queued = outbox
      .prepare("SELECT count(*) AS n FROM deliveries WHERE payload LIKE '%sf-crash-b%'")
      .get() as { n: number };
    outbox.close();
    expect(queued.n).toBe(0);

    answer = 200;
    const platform: TestPlatform = await startTestPlatform({ CITY_ROUTING_FILE: routing }, { dataDir, db });
    cleanups.push(() => platform.destroy());
    const delivered = (device: string) => hooks.find((h) => h.answered === 200 && h.devices.includes(device));
    await eventually(() => (delivered('sf-crash-a') && delivered('sf-crash-b') ? true : undefined), 20_000);
    // The failed delivery was tried again under its own key: the receiver can tell it is the same one.
    expect(delivered('sf-crash-a')!.key).toBe(failed.key);
    expect(hooks.slice(before).every((h) => h.answered === 200)).toBe(true);
    await eventually(() => {
      const counts = platform.notifications.store.counts();
      return counts.pending === 0 ? counts : undefined;
    });
    expect(platform.notifications.store.counts()).toEqual({ pending: 0, delivered: 2, dead: 0 });
  }, 60_000);
});

// Notifications survive kill -9. The platform runs as its own process; one street gauge's alert has a
// delivery failing against the flood committee's webhook (HTTP 503, waiting for its retry), and a second
// gauge's alert is raised and the process killed before its group has waited, so its event is still
// unread in the outbox. After a restart with the receiver back, both are delivered, the first under the
// same idempotency key it failed with.
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openRegistry, type DeviceInput } from '../devices/index.ts';
import {
  eventually,
  floodStreet,
  spawnPlatform,
  startTestPlatform,
  type TestPlatform,
} from './kits/platform.ts';

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
    await registry.createAgency({
      id: 'flood-control',
      name: { vi: 'Ban Chỉ huy PCTT và TKCN', en: 'Flood steering committee' },
      receivers: [{ id: 'duty-desk', type: 'webhook', url }],
    });
    await registry.close();

    const running = await spawnPlatform({
      CITY_DATA_DIR: dataDir,
      CITY_ROUTING_FILE: routing,
      INFLUX_DB: db,
    });
    const { mqttUrl } = running;

    await floodStreet(mqttUrl, 'sf-crash-a', first.secret);
    const failed = await eventually(() => hooks.find((h) => h.devices.includes('sf-crash-a')), 20_000);
    expect(failed.answered).toBe(503);

    await floodStreet(mqttUrl, 'sf-crash-b', second.secret);
    const alerts = new Database(path.join(dataDir, 'alerts.db'), { readonly: true });
    await eventually(() =>
      alerts.prepare("SELECT id FROM alerts WHERE device = 'sf-crash-b'").get() === undefined
        ? undefined
        : true,
    );
    running.child.kill('SIGKILL');
    await running.exited;
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
    await eventually(async () => {
      const counts = await platform.notifications.store.counts();
      return counts.pending === 0 ? counts : undefined;
    });
    expect(await platform.notifications.store.counts()).toEqual({ pending: 0, delivered: 2, dead: 0 });
  }, 60_000);
});

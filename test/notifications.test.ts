// Notifications end to end, on the real platform: a street gauge's readings raise street-flooded, and
// within seconds the flood steering committee's webhook receives one signed notification of it (with the
// delivery's idempotency key) and its control room's MQTT topic the same notification.
import { createHmac } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminRequest,
  connectClient,
  floodStreet,
  metricValue,
  startTestPlatform,
  type TestPlatform,
} from './kits/platform.ts';

const SECRET = 'whsec-hue-flood-0123456789';
let platform: TestPlatform;
let dir: string;
let server: http.Server;
let hooks: string;
const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
const published: Array<{ topic: string; body: string }> = [];
let control: MqttClient;

const secretOf = (id: string) => platform.seeded.find((s) => s.id === id)!.secret;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hooks = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/flood`;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notifications-'));
  const routing = path.join(dir, 'routing.yaml');
  await fs.writeFile(routing, 'defaults: { group_wait: 1s }\nroutes:\n  - receivers: [$owner]\n');
  platform = await startTestPlatform({ CITY_SEED_FLEET: 'true', CITY_ROUTING_FILE: routing });
  const agency = (await adminRequest(platform, 'GET', '/api/agencies/flood-control')).body;
  const replaced = await adminRequest(platform, 'PUT', '/api/agencies/flood-control', {
    name: agency.name,
    receivers: [
      { id: 'control-room', type: 'mqtt' },
      { id: 'duty-desk', type: 'webhook', url: hooks, secret: SECRET },
    ],
  });
  expect(replaced.status).toBe(200);
  // The control room's screen: a service account subscribed to the agency's notifications.
  control = await connectClient(platform.mqttUrl, {
    clientId: 'node-red',
    username: 'node-red',
    password: secretOf('node-red'),
  });
  control.on('message', (topic, payload) => published.push({ topic, body: payload.toString() }));
  await control.subscribeAsync('city/notifications/flood-control', { qos: 1 });
});

afterAll(async () => {
  await control?.endAsync();
  await platform?.destroy();
  await new Promise((resolve) => server.close(resolve));
  await fs.rm(dir, { recursive: true, force: true });
});

describe('notifications', () => {
  it("tells the owner's webhook and control room of an alert raised by readings, signed and keyed", async () => {
    await floodStreet(platform.mqttUrl, 'sf-le-loi', secretOf('sf-le-loi'));

    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(1);
    const [hook] = received;
    const body = JSON.parse(hook!.body) as {
      delivery: string;
      notification: { status: string; alerts: { rule: string; device: string }[] };
    };
    expect(body.notification).toMatchObject({
      status: 'firing',
      alerts: [{ rule: 'street-flooded', device: 'sf-le-loi' }],
    });
    expect(hook!.headers['idempotency-key']).toBe(body.delivery);
    const [t, v1] = String(hook!.headers['x-city-signature'])
      .split(',')
      .map((p) => p.split('=')[1]);
    expect(v1).toBe(createHmac('sha256', SECRET).update(`${t}.${hook!.body}`).digest('hex'));

    await expect.poll(() => published.length, { timeout: 5_000 }).toBe(1);
    expect(JSON.parse(published[0]!.body)).toMatchObject({
      notification: { alerts: [{ rule: 'street-flooded' }] },
    });
    // The API shows the alert's deliveries, each with its attempt.
    const alertId = (body.notification.alerts[0] as unknown as { id: number }).id;
    await expect
      .poll(async () => {
        const res = await adminRequest(platform, 'GET', `/api/alerts/${alertId}/deliveries`);
        return (res.body.deliveries as Array<{ status: string }>).map((d) => d.status);
      })
      .toEqual(['delivered', 'delivered']);
    const { body: shown } = await adminRequest(platform, 'GET', `/api/alerts/${alertId}/deliveries`);
    expect(shown.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          agency: 'flood-control',
          receiver: 'duty-desk',
          type: 'webhook',
          key: body.delivery,
          attempts: [expect.objectContaining({ ok: true, detail: 'HTTP 204' })],
        }),
      ]),
    );
    const dead = await adminRequest(platform, 'GET', '/api/deliveries?status=dead');
    expect(dead.body).toEqual({ deliveries: [] });
    // And /metrics counts them.
    expect(
      await metricValue(platform, 'city_notification_attempts_total{type="webhook",outcome="delivered"}'),
    ).toBe(1);
    expect(
      await metricValue(platform, 'city_notification_attempts_total{type="mqtt",outcome="delivered"}'),
    ).toBe(1);
    expect(await metricValue(platform, 'city_notification_deliveries{status="delivered"}')).toBe(2);
    expect(await metricValue(platform, 'city_notification_deliveries{status="dead"}')).toBe(0);
  });
});

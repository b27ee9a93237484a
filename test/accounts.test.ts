// Gateways and service accounts managed through the API, against the real broker on real sockets: a
// gateway provisioned and given its devices over HTTP publishes for them over MQTT; a new secret closes
// its connection and the old secret is refused; Node-RED's account, connected twice, loses both
// connections when its secret is reissued; a removed gateway cannot connect again.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminRequest,
  closed,
  connectClient,
  eventually,
  rows,
  startTestPlatform,
  type TestPlatform,
} from './kits/platform.ts';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.destroy();
});

const LAMPS = ['sl-api-01', 'sl-api-02'];

async function refused(username: string, password: string): Promise<boolean> {
  try {
    const client = await connectClient(platform.mqttUrl, { clientId: username, username, password });
    await client.endAsync();
    return false;
  } catch {
    return true;
  }
}

describe('a gateway onboarded through the API', () => {
  let secret: string;
  let gateway: MqttClient;

  it('publishes for the devices put behind it', async () => {
    const made = await adminRequest(platform, 'POST', '/api/gateways', {
      id: 'gw-api',
      name: 'Gateway chiếu sáng Lê Lợi',
      district: 'Thuận Hóa',
      location: { lat: 16.46225, lon: 107.5835 },
    });
    expect(made.status).toBe(201);
    secret = made.body.secret as string;
    for (const [i, id] of LAMPS.entries()) {
      const lamp = await adminRequest(platform, 'POST', '/api/devices', {
        id,
        kind: 'streetlight',
        name: `Đèn Lê Lợi ${i + 1}`,
        district: 'Thuận Hóa',
        location: { lat: 16.4622 + i * 0.0003, lon: 107.5835 },
        meta: { street: 'Lê Lợi', rated_w: 150 },
      });
      expect(lamp.status).toBe(201);
    }
    const attached = await adminRequest(platform, 'POST', '/api/gateways/gw-api/children', {
      devices: LAMPS,
    });
    expect(attached.body.children).toEqual(LAMPS);

    gateway = await connectClient(platform.mqttUrl, {
      clientId: 'gw-api',
      username: 'gw-api',
      password: secret,
    });
    const t = Date.now() / 1000;
    await gateway.publishAsync(
      'city/gateway/gw-api/telemetry',
      JSON.stringify([
        { bn: 'sl-api-01/', bt: t, n: 'power_w', u: 'W', v: 148 },
        { bn: 'sl-api-02/', bt: t, n: 'power_w', u: 'W', v: 151 },
      ]),
      { qos: 1 },
    );
    const stored = await eventually(async () => {
      const r = await rows(platform, `SELECT power_w, gateway FROM streetlight WHERE gateway = 'gw-api'`);
      return r.length === 2 ? r : undefined;
    });
    expect(stored.map((r) => r.power_w).sort()).toEqual([148, 151]);
  });

  it('is cut off when its secret is rotated: the connection closes and the old secret is refused', async () => {
    const rotated = await adminRequest(platform, 'POST', '/api/gateways/gw-api/secret');
    expect(rotated.status).toBe(200);
    await closed(gateway);
    expect(await refused('gw-api', secret)).toBe(true);
    secret = rotated.body.secret as string;
    gateway = await connectClient(platform.mqttUrl, {
      clientId: 'gw-api',
      username: 'gw-api',
      password: secret,
    });
    expect(gateway.connected).toBe(true);
  });

  it('cannot be removed while its lamps are active; once they are gone it is, and it cannot connect', async () => {
    expect((await adminRequest(platform, 'DELETE', '/api/gateways/gw-api')).status).toBe(409);
    expect(gateway.connected).toBe(true);
    for (const id of LAMPS) await adminRequest(platform, 'DELETE', `/api/devices/${id}`);
    expect((await adminRequest(platform, 'DELETE', '/api/gateways/gw-api')).status).toBe(204);
    await closed(gateway);
    expect(await refused('gw-api', secret)).toBe(true);
  });
});

describe("Node-RED's service account", () => {
  it('loses every connection when its secret is reissued, and comes back with the new one', async () => {
    const made = await adminRequest(platform, 'POST', '/api/service-accounts', {
      id: 'node-red-api',
      mayPublishAlerts: true,
    });
    expect(made.status).toBe(201);
    const old = made.body.secret as string;
    // A service account may hold several connections, `<id>:<suffix>`.
    const [a, b] = await Promise.all(
      ['node-red-api', 'node-red-api:editor'].map((clientId) =>
        connectClient(platform.mqttUrl, { clientId, username: 'node-red-api', password: old }),
      ),
    );
    const reissued = await adminRequest(platform, 'POST', '/api/service-accounts/node-red-api/secret');
    expect(reissued.status).toBe(200);
    await Promise.all([closed(a!), closed(b!)]);
    expect(await refused('node-red-api', old)).toBe(true);
    const again = await connectClient(platform.mqttUrl, {
      clientId: 'node-red-api',
      username: 'node-red-api',
      password: reissued.body.secret as string,
    });
    await again.endAsync();
  });
});

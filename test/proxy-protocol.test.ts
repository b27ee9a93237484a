// The broker behind a load balancer (CITY_MQTT_PROXY_PROTOCOL), on real sockets with real MQTT clients:
// each connection opens with the PROXY header a balancer such as HAProxy sends (v1 text or v2 binary),
// and the broker takes the device's address from it, for its refusals and its failed-CONNECT limits. A
// connection without a header, which only something other than the balancer would make, is closed.
import net from 'node:net';
import { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  eventually,
  metricValue,
  rows,
  startTestPlatform,
  type TestPlatform,
} from './kits/platform.ts';

let platform: TestPlatform;
let secret: string;

beforeAll(async () => {
  platform = await startTestPlatform({ CITY_MQTT_PROXY_PROTOCOL: 'true' });
  secret = (
    await platform.registry.provisionDevice({
      id: 'aq-proxied',
      kind: 'air_quality',
      name: 'Trạm quan trắc Đại Nội',
      district: 'Thuận Hóa',
      location: { lat: 16.4697, lon: 107.5778 },
    })
  ).secret;
});
afterAll(async () => {
  await platform?.destroy();
});

/** A v2 PROXY header for a TCP/IPv4 client at `address`:`port`. */
function v2Header(address: string, port: number): Buffer {
  const signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const block = Buffer.alloc(12);
  Buffer.from(address.split('.').map(Number)).copy(block, 0);
  Buffer.from([127, 0, 0, 1]).copy(block, 4);
  block.writeUInt16BE(port, 8);
  block.writeUInt16BE(platform.mqttPort, 10);
  return Buffer.concat([signature, Buffer.from([0x21, 0x11, 0x00, 0x0c]), block]);
}

/** An MQTT client whose connection opens with `header`, as through the balancer. */
function throughBalancer(header: Buffer | string, password: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = new MqttClient(
      () => {
        const socket = net.connect(platform.mqttPort, '127.0.0.1');
        socket.write(header);
        return socket;
      },
      { clientId: 'aq-proxied', username: 'aq-proxied', password, protocolVersion: 4, reconnectPeriod: 0 },
    );
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}

async function refusals(code: string) {
  const res = await fetch(`http://127.0.0.1:${platform.apiPort}/api/dead-letters?code=${code}`, {
    headers: { authorization: `Bearer ${platform.adminToken}` },
  });
  return ((await res.json()) as { deadLetters: Array<{ detail: string }> }).deadLetters;
}

describe('behind a load balancer', () => {
  it('takes a device through a v2 header and stores its readings', async () => {
    const client = await throughBalancer(v2Header('203.0.113.7', 51_234), secret);
    await client.publishAsync('city/air_quality/aq-proxied/telemetry', JSON.stringify({ pm25: 31.5 }), {
      qos: 1,
    });
    await client.endAsync();
    const stored = await eventually(async () => {
      const r = await rows(platform, `SELECT pm25 FROM air_quality WHERE device = 'aq-proxied'`);
      return r.length > 0 ? r : undefined;
    });
    expect(stored[0]?.pm25).toBe(31.5);
  });

  it("refuses a wrong secret with the device's address from the header, v1 or v2, not the balancer's", async () => {
    await expect(
      throughBalancer('PROXY TCP4 198.51.100.20 127.0.0.1 40001 1883\r\n', 'wrong'),
    ).rejects.toMatchObject({
      code: 4,
    });
    await expect(throughBalancer(v2Header('192.0.2.44', 40_002), 'wrong')).rejects.toMatchObject({ code: 4 });
    const details = await eventually(async () => {
      const letters = await refusals('BROKER_ERR_AUTH');
      return letters.length >= 2 ? letters.map((l) => l.detail) : undefined;
    });
    expect(details).toEqual(
      expect.arrayContaining([
        expect.stringContaining('(from 198.51.100.20)'),
        expect.stringContaining('(from 192.0.2.44)'),
      ]),
    );
  });

  it('closes a connection that does not start with a header, and counts it', async () => {
    const before = await metricValue(platform, 'city_broker_refused_total{code="BROKER_ERR_PROXY_HEADER"}');
    await expect(
      connectClient(platform.mqttUrl, { clientId: 'aq-proxied', username: 'aq-proxied', password: secret }),
    ).rejects.toThrow();
    await eventually(async () =>
      (await metricValue(platform, 'city_broker_refused_total{code="BROKER_ERR_PROXY_HEADER"}')) > before
        ? true
        : undefined,
    );
  });
});

// The broker end to end with real MQTT clients: the WebSocket and TLS listeners carry readings to
// InfluxDB; a second connection takes over the first; a last will reaches subscribers; service accounts
// read but never publish readings; the subscribe ACL; decommissioned devices are shut out; and a
// dead-lettered payload is never forwarded.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closed,
  connectClient,
  eventually,
  rows,
  startTestPlatform,
  type TestPlatform,
} from './kits/platform.ts';

const at = { lat: 16.4637, lon: 107.5909 }; // Huế citadel, central wards
let platform: TestPlatform;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

async function provision(id: string): Promise<string> {
  const { secret } = await platform.registry.provisionDevice({
    id,
    kind: 'air_quality',
    name: id,
    district: 'Thuận Hóa',
    location: at,
  });
  secrets.set(id, secret);
  return secret;
}

/** Connects as `id`; a service account's client id is `<account>` or `<account>:<consumer>`. */
async function connect(
  id: string,
  options: IClientOptions = {},
  url = platform.mqttUrl,
): Promise<MqttClient> {
  const username = id.split(':')[0]!;
  const client = await connectClient(url, {
    clientId: id,
    username,
    password: secrets.get(username)!,
    ...options,
  });
  clients.push(client);
  return client;
}

/** Resolves with the stored row once `device` has a pm25 of `value` in InfluxDB. */
const stored = (target: TestPlatform, device: string, value: number) =>
  eventually(
    async () =>
      (await rows(target, `SELECT pm25 FROM air_quality WHERE device = '${device}' AND pm25 = ${value}`))[0],
  );

/** Collects the messages a client receives, as `topic payload` strings. */
function inbox(client: MqttClient): string[] {
  const received: string[] = [];
  client.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
  return received;
}

beforeAll(async () => {
  platform = await startTestPlatform({ CITY_MQTT_WS_PORT: '0' });
  secrets.set(
    'svc',
    (await platform.registry.provisionServiceAccount({ id: 'svc', mayPublishAlerts: false })).secret,
  );
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  for (const cleanup of cleanups.reverse()) await cleanup();
  await platform?.destroy();
});

describe('listeners', () => {
  it('stores a reading published over MQTT on WebSocket', async () => {
    await provision('aq-ws');
    expect(platform.wsPort).toBeGreaterThan(0);
    const client = await connect('aq-ws', {}, `ws://127.0.0.1:${platform.wsPort}`);
    await client.publishAsync('city/air_quality/aq-ws/telemetry', JSON.stringify({ pm25: 21.5 }), { qos: 1 });
    expect(await stored(platform, 'aq-ws', 21.5)).toMatchObject({ pm25: 21.5 });
  });

  it('stores a reading published over MQTT on TLS', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'city-tls-'));
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    await selfSignedCertificate(cert, key);
    const secure = await startTestPlatform({ CITY_MQTT_TLS_CERT: cert, CITY_MQTT_TLS_KEY: key });
    cleanups.push(() => secure.destroy());
    const { secret } = await secure.registry.provisionDevice({
      id: 'aq-tls',
      kind: 'air_quality',
      name: 'aq-tls',
      district: 'Thuận Hóa',
      location: at,
    });
    // The certificate is trusted as its own CA, so the connection verifies it (no rejectUnauthorized: false).
    const client = await connectClient(`mqtts://127.0.0.1:${secure.mqttPort}`, {
      clientId: 'aq-tls',
      username: 'aq-tls',
      password: secret,
      ca: await fs.readFile(cert),
    });
    clients.push(client);
    await client.publishAsync('city/air_quality/aq-tls/telemetry', JSON.stringify({ pm25: 33 }), { qos: 1 });
    expect(await stored(secure, 'aq-tls', 33)).toMatchObject({ pm25: 33 });
  });
});

describe('sessions', () => {
  it('a second connection with the same device id takes over: the first is closed', async () => {
    await provision('aq-twice');
    const first = await connect('aq-twice');
    const firstClosed = closed(first);
    const second = await connect('aq-twice');
    await firstClosed;
    expect(first.connected).toBe(false);
    expect(second.connected).toBe(true);
  });

  it("delivers a device's retained last will to a subscribed service account when its socket dies", async () => {
    await provision('aq-will');
    const service = await connect('svc');
    const received = inbox(service);
    await service.subscribeAsync('city/+/+/status', { qos: 1 });
    const status = 'city/air_quality/aq-will/status';
    const device = await connect('aq-will', {
      will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await device.publishAsync(status, 'online', { qos: 1, retain: true });
    await eventually(() => (received.includes(`${status} online`) ? true : undefined));

    device.stream.destroy(); // no DISCONNECT: the broker sees the socket drop and sends the will
    await eventually(() => (received.includes(`${status} offline`) ? true : undefined));

    // Retained: a subscriber arriving later learns the device is offline.
    const late = await connect('svc:late');
    const lateReceived = inbox(late);
    await late.subscribeAsync(status, { qos: 1 });
    await eventually(() => (lateReceived.includes(`${status} offline`) ? true : undefined));
  });
});

describe('service accounts and the subscribe ACL', () => {
  it('a service account subscribed to city/# receives telemetry', async () => {
    await provision('aq-watched');
    const service = await connect('svc:watch');
    const received = inbox(service);
    const [grant] = await service.subscribeAsync('city/#', { qos: 1 });
    expect(grant?.qos).toBe(1);
    const device = await connect('aq-watched');
    const payload = JSON.stringify({ pm25: 12.5 });
    await device.publishAsync('city/air_quality/aq-watched/telemetry', payload, { qos: 1 });
    await eventually(() =>
      received.includes(`city/air_quality/aq-watched/telemetry ${payload}`) ? true : undefined,
    );
  });

  it('a service account publishing on a telemetry topic is disconnected and nothing is stored', async () => {
    await provision('aq-impersonated');
    const service = await connect('svc:rogue');
    const hangup = closed(service);
    service.publish('city/air_quality/aq-impersonated/telemetry', JSON.stringify({ pm25: 777 }), { qos: 1 });
    await hangup;
    expect(service.connected).toBe(false);
    // The broker still serves the device itself, and the impersonated reading never reached InfluxDB.
    const device = await connect('aq-impersonated');
    await device.publishAsync('city/air_quality/aq-impersonated/telemetry', JSON.stringify({ pm25: 7 }), {
      qos: 1,
    });
    await stored(platform, 'aq-impersonated', 7);
    expect(await rows(platform, `SELECT pm25 FROM air_quality WHERE pm25 = 777`)).toEqual([]);
  });

  it("grants a device its own commands and refuses another device's with SUBACK 0x80", async () => {
    await provision('aq-sub');
    await provision('aq-neighbour');
    const device = await connect('aq-sub');
    // mqtt.js rejects a SUBSCRIBE with any refused filter, and keeps the SUBACK on the error.
    const suback = await device
      .subscribeAsync(['city/air_quality/aq-sub/commands', 'city/air_quality/aq-neighbour/commands'], {
        qos: 1,
      })
      .then(
        () => undefined,
        (err: unknown) => (err as { packet?: { granted?: unknown } }).packet,
      );
    expect(suback?.granted).toEqual([1, 128]);
    expect(device.connected).toBe(true);

    // The granted one works: a command published by the platform reaches the device.
    const received = inbox(device);
    await platform.broker.publish('city/air_quality/aq-sub/commands', 'ping');
    await eventually(() => (received.length > 0 ? true : undefined));
    expect(received).toEqual(['city/air_quality/aq-sub/commands ping']);
  });
});

describe('decommissioned devices', () => {
  it('a decommissioned device is refused with CONNACK 4', async () => {
    await provision('aq-retired');
    await platform.registry.decommissionDevice('aq-retired');
    await expect(connect('aq-retired')).rejects.toMatchObject({ code: 4 });
  });

  it('decommissioning through the API closes the connection, and the device cannot come back', async () => {
    await provision('aq-removed');
    const device = await connect('aq-removed');
    const hangup = closed(device);
    const res = await fetch(`http://127.0.0.1:${platform.apiPort}/api/devices/aq-removed`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    expect(res.status).toBe(200);
    await hangup;
    expect(device.connected).toBe(false);
    await expect(connect('aq-removed')).rejects.toMatchObject({ code: 4 });
  });
});

describe('dead letters', () => {
  it('forwards the good reading to subscribers but not the malformed one sent before it', async () => {
    await provision('aq-mixed');
    const topic = 'city/air_quality/aq-mixed/telemetry';
    const service = await connect('svc:mixed');
    const received = inbox(service);
    await service.subscribeAsync(topic, { qos: 1 });
    const device = await connect('aq-mixed');
    await device.publishAsync(topic, '{"pm25": 4', { qos: 1 });
    const good = JSON.stringify({ pm25: 4 });
    await device.publishAsync(topic, good, { qos: 1 });
    // Messages from one publisher are forwarded in order: once the good one is in, the bad one would be too.
    await eventually(() => (received.length > 0 ? true : undefined));
    expect(received).toEqual([`${topic} ${good}`]);
    expect(platform.deadLetters.list({ source: 'aq-mixed' })).toMatchObject([{ code: 'INGEST_ERR_JSON' }]);
  });

  it('dead-letters a status that is not online or offline, and neither forwards nor retains it', async () => {
    await provision('aq-status');
    const topic = 'city/air_quality/aq-status/status';
    const device = await connect('aq-status');
    await device.publishAsync(topic, 'x'.repeat(2000), { qos: 1, retain: true });
    await eventually(() => platform.deadLetters.list({ source: 'aq-status' })[0]);
    expect(platform.deadLetters.list({ source: 'aq-status' })).toMatchObject([{ code: 'INGEST_ERR_STATUS' }]);
    const service = await connect('svc:status');
    const received = inbox(service);
    await service.subscribeAsync(topic, { qos: 1 });
    // A good status after the subscription: once it is in, a retained junk one would have come first.
    await device.publishAsync(topic, 'online', { qos: 1, retain: true });
    await eventually(() => (received.length > 0 ? true : undefined));
    expect(received).toEqual([`${topic} online`]);
    expect(device.connected).toBe(true);
  });

  it('does not deliver a malformed retained reading to a later subscriber', async () => {
    await provision('aq-retained');
    const topic = 'city/air_quality/aq-retained/telemetry';
    const device = await connect('aq-retained');
    await device.publishAsync(topic, '{"pm25": 5', { qos: 1, retain: true });
    await eventually(() => platform.deadLetters.list({ source: 'aq-retained' })[0]);
    const service = await connect('svc:retained');
    const received = inbox(service);
    await service.subscribeAsync(topic, { qos: 1 });
    // A good reading after the subscription: once it is in, a retained message would have come first.
    const good = JSON.stringify({ pm25: 5 });
    await device.publishAsync(topic, good, { qos: 1 });
    await eventually(() => (received.length > 0 ? true : undefined));
    expect(received).toEqual([`${topic} ${good}`]);
  });
});

/** A self-signed certificate for 127.0.0.1, made with the openssl command line tool. */
async function selfSignedCertificate(cert: string, key: string): Promise<void> {
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        'the TLS test needs the openssl command line tool on the PATH (apt-get install openssl)',
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}

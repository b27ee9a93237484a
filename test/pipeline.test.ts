// End to end: real MQTT clients → the platform's broker → spool → InfluxDB → the HTTP API.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceInput } from '../devices/index.ts';
import { connectClient, eventually, rows, startTestPlatform, type TestPlatform } from './kits/platform.ts';

let platform: TestPlatform;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];

async function device(id: string): Promise<MqttClient> {
  const client = await connectClient(platform.mqttUrl, {
    clientId: id,
    username: id,
    password: secrets.get(id)!,
  });
  clients.push(client);
  return client;
}

const publish = (client: MqttClient, topic: string, payload: string | Buffer) =>
  client.publishAsync(topic, payload, { qos: 1 });

beforeAll(async () => {
  platform = await startTestPlatform();
  const r = platform.registry;
  const at = { lat: 16.4697, lon: 107.5778 };
  const inputs: DeviceInput[] = [
    { id: 'aq-e2e-1', kind: 'air_quality', name: 'Station 1', district: 'Phú Xuân', location: at },
    { id: 'aq-e2e-2', kind: 'air_quality', name: 'Station 2', district: 'Thuận Hóa', location: at },
    {
      id: 'river-e2e',
      kind: 'flood',
      name: 'Kim Long',
      district: 'Kim Long',
      location: { lat: 16.455, lon: 107.56 },
      meta: { type: 'river', station: 'Kim Long', river: 'Hương', datum_m: 8, alarm_levels_m: [1, 2, 3.5] },
    },
  ];
  for (const input of inputs) {
    secrets.set(input.id, (await r.provisionDevice(input)).secret);
  }
  secrets.set(
    'gw-e2e',
    (await r.provisionGateway({ id: 'gw-e2e', name: 'Lê Lợi lighting', district: 'Thuận Hóa', location: at }))
      .secret,
  );
  for (const id of ['lamp-e2e-1', 'lamp-e2e-2']) {
    await r.provisionDevice({
      id,
      kind: 'streetlight',
      name: id,
      district: 'Thuận Hóa',
      location: at,
      gateway: 'gw-e2e',
      meta: { street: 'Lê Lợi', rated_w: 150, tolerance_pct: 10 },
    });
  }
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await platform?.destroy();
});

describe('a reading travels from device to API', () => {
  it('stores a QoS 1 JSON reading with its registry tags and serves it through the API', async () => {
    const client = await device('aq-e2e-1');
    await publish(
      client,
      'city/air_quality/aq-e2e-1/telemetry',
      JSON.stringify({ pm25: 23.5, pm10: 41, ts: Date.now() - 1000 }),
    );

    const stored = await eventually(
      async () =>
        (await rows(platform, `SELECT pm25, pm10, district FROM air_quality WHERE device = 'aq-e2e-1'`))[0],
    );
    expect(stored).toMatchObject({ pm25: 23.5, pm10: 41, district: 'Phú Xuân' });

    const res = await fetch(`http://127.0.0.1:${platform.apiPort}/api/devices/aq-e2e-1/readings/latest`, {
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('23.5');
  });

  it('stores a gateway SenML pack as one reading per child, tagged with the gateway', async () => {
    const gw = await device('gw-e2e');
    const t = Date.now() / 1000;
    await publish(
      gw,
      'city/gateway/gw-e2e/telemetry',
      JSON.stringify([
        { bn: 'lamp-e2e-1/', bt: t, n: 'power_w', u: 'W', v: 148.5 },
        { n: 'lamp_on', vb: true },
        { bn: 'lamp-e2e-2/', n: 'power_w', u: 'W', v: 0 },
        { n: 'lamp_on', vb: false },
      ]),
    );
    const lamps = await eventually(async () => {
      const r = await rows(
        platform,
        `SELECT power_w, lamp_on, gateway, rated_w, power_limit_w FROM streetlight GROUP BY device, street`,
      );
      return r.length === 2 ? r : undefined;
    });
    // Each lamp carries its street, rated power and power limit (150 W + 10 %) from the registry, so the
    // panels grouped by street and the limits they draw follow the registry.
    const registry = { street: 'Lê Lợi', rated_w: 150, power_limit_w: 165 };
    expect(lamps).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ device: 'lamp-e2e-1', power_w: 148.5, lamp_on: true, ...registry }),
        expect.objectContaining({ device: 'lamp-e2e-2', power_w: 0, lamp_on: false, ...registry }),
      ]),
    );
  });

  it("derives a radar gauge's water level from its datum in the registry", async () => {
    const gauge = await device('river-e2e');
    await publish(gauge, 'city/flood/river-e2e/telemetry', JSON.stringify({ distance_m: 5.25 }));
    const stored = await eventually(
      async () =>
        (
          await rows(
            platform,
            `SELECT water_level_m, alarm_1_m, alarm_2_m, alarm_3_m FROM flood WHERE device = 'river-e2e' GROUP BY gauge, station, river`,
          )
        )[0],
    );
    expect(stored).toMatchObject({
      water_level_m: 2.75,
      ...{ gauge: 'river', station: 'Kim Long', river: 'Hương' },
      ...{ alarm_1_m: 1, alarm_2_m: 2, alarm_3_m: 3.5 },
    });
  });
});

// Node-RED's side of the platform end to end, with real MQTT clients on the real platform and the seeded
// `node-red` service account: decoded readings reach a service that subscribes (a device's, and a gateway
// pack's per child) and no one else; alert requests go through the alert lifecycle (raise, update,
// escalate, clear; the API, the transition topic and InfluxDB see a flow's alert like a rule's); a bad
// request is acknowledged and dead-lettered with its code, and the connection carries on; devices may not
// ask for alerts, and nobody but the platform publishes a transition.
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

const GAUGE = 'rg-kim-long';
const STREET = 'sf-le-loi';
const RULE = 'nr-street-trend';

let platform: TestPlatform;
const clients: MqttClient[] = [];
const secrets = new Map<string, string>();

interface Received {
  readonly topic: string;
  readonly body: unknown;
}

beforeAll(async () => {
  platform = await startTestPlatform({ CITY_SEED_FLEET: 'true' });
  for (const p of platform.seeded) secrets.set(p.id, p.secret);
  // A flood gauge behind the street-lighting gateway, with a datum: its pack carries distance_m.
  const child = await platform.registry.provisionDevice({
    id: 'sf-gw-child',
    kind: 'flood',
    name: 'Gauge on the Lê Lợi gateway',
    district: 'Thuận Hóa',
    location: { lat: 16.466, lon: 107.59 },
    gateway: 'gw-le-loi',
    meta: { type: 'street', datum_m: 3 },
  });
  secrets.set(child.device.id, child.secret);
  const reader = await platform.registry.provisionServiceAccount({ id: 'reader', mayPublishAlerts: false });
  secrets.set('reader', reader.secret);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await platform?.destroy();
});

/** Connects as `id` (`<account>:<consumer>` for a service account's second consumer). */
async function connect(id: string, options: IClientOptions = {}): Promise<MqttClient> {
  const username = id.split(':')[0]!;
  const client = await connectClient(platform.mqttUrl, {
    clientId: id,
    username,
    password: secrets.get(username)!,
    ...options,
  });
  clients.push(client);
  return client;
}

function inbox(client: MqttClient): Received[] {
  const received: Received[] = [];
  client.on('message', (topic, payload) => {
    const text = payload.toString();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text
    }
    received.push({ topic, body });
  });
  return received;
}

const api = async <T>(path: string): Promise<T> => {
  const res = await fetch(`http://127.0.0.1:${platform.apiPort}${path}`, {
    headers: { authorization: `Bearer ${platform.adminToken}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
};

interface ApiAlert {
  id: number;
  rule: string;
  device: string;
  source: string;
  state: string;
  severity: string;
  district: string;
  owner: string;
  level: number;
}

const alertsOf = (rule: string, device: string) =>
  api<{ alerts: ApiAlert[] }>(`/api/alerts?rule=${rule}&device=${device}`).then((r) => r.alerts);

const published = async (): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${platform.apiPort}/metrics`)).text();
  return Number(/^city_flow_readings_published_total (\S+)$/m.exec(text)?.[1] ?? NaN);
};

describe('decoded readings', () => {
  it("a service subscribed to city/readings/flood/# receives a device's reading, decoded", async () => {
    const service = await connect('node-red:readings');
    const received = inbox(service);
    const [grant] = await service.subscribeAsync('city/readings/flood/#', { qos: 0 });
    expect(grant?.qos).toBe(0);
    const gauge = await connect(GAUGE);
    const ts = Date.now() - 1_000;
    await gauge.publishAsync(`city/flood/${GAUGE}/telemetry`, JSON.stringify({ water_level_m: 0.42, ts }), {
      qos: 1,
    });
    const got = await eventually(() => received.find((m) => m.topic === `city/readings/flood/${GAUGE}`));
    expect(got.body).toEqual({
      device: GAUGE,
      kind: 'flood',
      district: 'Kim Long',
      time: new Date(ts).toISOString(),
      fields: { water_level_m: 0.42 },
    });
    await service.endAsync();
  });

  it("a gateway's SenML pack is published decoded, one message per child on its kind's topic", async () => {
    const flood = await connect('node-red:flood');
    const floodReceived = inbox(flood);
    await flood.subscribeAsync('city/readings/flood/#', { qos: 0 });
    const all = await connect('node-red:all');
    const allReceived = inbox(all);
    await all.subscribeAsync('city/readings/#', { qos: 0 });
    const gateway = await connect('gw-le-loi');
    const bt = (Date.now() - 2_000) / 1000;
    const pack = [
      { bn: 'sf-gw-child/', bt, n: 'distance_m', u: 'm', v: 2.75 },
      { bn: 'sl-le-loi-01/', n: 'dim_pct', v: 60 },
    ];
    await gateway.publishAsync('city/gateway/gw-le-loi/telemetry', JSON.stringify(pack), { qos: 1 });
    await eventually(() => (allReceived.length >= 2 ? true : undefined));
    const time = new Date(Math.round(bt * 1000)).toISOString();
    expect(allReceived).toEqual([
      {
        topic: 'city/readings/flood/sf-gw-child',
        // The level is derived from the registry's datum, as for InfluxDB.
        body: {
          device: 'sf-gw-child',
          kind: 'flood',
          district: 'Thuận Hóa',
          time,
          fields: { distance_m: 2.75, water_level_m: 0.25 },
        },
      },
      {
        topic: 'city/readings/streetlight/sl-le-loi-01',
        body: {
          device: 'sl-le-loi-01',
          kind: 'streetlight',
          district: 'Thuận Hóa',
          time,
          fields: { dim_pct: 60 },
        },
      },
    ]);
    // The flood subscriber got the flood child's reading, and the streetlight's never (it came second).
    await eventually(() => (floodReceived.length > 0 ? true : undefined));
    expect(floodReceived.map((m) => m.topic)).toEqual(['city/readings/flood/sf-gw-child']);
    await Promise.all([flood.endAsync(), all.endAsync()]);
  });

  it('are published only while someone subscribes to them', async () => {
    await eventually(() => (platform.flows.isPublishing() ? undefined : true));
    const before = await published();
    const gauge = await connect(GAUGE);
    await gauge.publishAsync(`city/flood/${GAUGE}/telemetry`, JSON.stringify({ water_level_m: 0.43 }), {
      qos: 1,
    });
    // The PUBACK goes out once the reading is durable, in the same turn as it goes to the rules and flows.
    expect(await published()).toBe(before);

    const service = await connect('node-red:toggle');
    await service.subscribeAsync(`city/readings/flood/${GAUGE}`, { qos: 0 });
    expect(platform.flows.isPublishing()).toBe(true);
    await service.unsubscribeAsync(`city/readings/flood/${GAUGE}`);
    await eventually(() => (platform.flows.isPublishing() ? undefined : true));
    await service.subscribeAsync('city/#', { qos: 0 });
    expect(platform.flows.isPublishing()).toBe(true);
    await service.endAsync();
    await eventually(() => (platform.flows.isPublishing() ? undefined : true));
  });

  it("a persistent session's subscription counts again when its client comes back", async () => {
    await eventually(() => (platform.flows.isPublishing() ? undefined : true));
    const first = await connect('node-red:persistent', { clean: false });
    await first.subscribeAsync('city/readings/flood/+', { qos: 0 });
    await first.endAsync();
    await eventually(() => (platform.flows.isPublishing() ? undefined : true));
    // The broker restores the session's subscriptions on CONNECT: no SUBSCRIBE from the client.
    const again = await connect('node-red:persistent', { clean: false });
    const received = inbox(again);
    expect(platform.flows.isPublishing()).toBe(true);
    const gauge = await connect(GAUGE);
    await gauge.publishAsync(`city/flood/${GAUGE}/telemetry`, JSON.stringify({ water_level_m: 0.44 }), {
      qos: 1,
    });
    await eventually(() => received.find((m) => m.topic === `city/readings/flood/${GAUGE}`));
    await again.endAsync();
  });

  it('a device or a gateway may not subscribe to them (SUBACK 0x80)', async () => {
    // mqtt.js rejects a SUBSCRIBE with any refused filter, and keeps the SUBACK on the error.
    const granted = (client: MqttClient, filters: string[]) =>
      client.subscribeAsync(filters, { qos: 0 }).then(
        () => undefined,
        (err: unknown) => (err as { packet?: { granted?: unknown } }).packet?.granted,
      );
    const device = await connect('sf-nhat-le');
    expect(
      await granted(device, [
        'city/flood/sf-nhat-le/commands',
        'city/readings/flood/sf-nhat-le',
        'city/readings/#',
      ]),
    ).toEqual([0, 128, 128]);
    const gateway = await connect('gw-le-loi');
    expect(
      await granted(gateway, [
        'city/streetlight/sl-le-loi-01/commands',
        'city/readings/streetlight/sl-le-loi-01',
      ]),
    ).toEqual([0, 128]);
    expect(device.connected && gateway.connected).toBe(true);
    expect(platform.flows.isPublishing()).toBe(false);
  });
});

describe('alert requests', () => {
  let flows: MqttClient;
  let transitions: Received[];
  let watched: Received[];
  const request = (action: 'raise' | 'clear', body: unknown, device = STREET, rule = RULE) =>
    flows.publishAsync(
      `city/alerts/flood/${device}/${rule}/${action}`,
      body === undefined ? '' : JSON.stringify(body),
      { qos: 1 },
    );
  const raise = {
    title: 'Street water rising',
    severity: 'info',
    owner: 'flood-control',
    message: 'Lê Lợi: 5 cm and rising',
    value: 0.05,
    threshold: 0.03,
  };
  const transitionsOf = (rule: string) =>
    transitions
      .filter((m) => m.topic === `city/alerts/flood/${STREET}/${rule}`)
      .map((m) => m.body as { alert: ApiAlert; event: { type: string; severity: string } });

  beforeAll(async () => {
    flows = await connect('node-red');
    const watcher = await connect('node-red:watch');
    transitions = inbox(watcher);
    await watcher.subscribeAsync('city/alerts/#', { qos: 1 });
    const other = await connect('reader');
    watched = inbox(other);
    await other.subscribeAsync('city/alerts/#', { qos: 1 });
  });

  it('a raise creates an alert with source flow, in the API, on the transition topic and in InfluxDB', async () => {
    await request('raise', raise);
    const [alert] = await eventually(async () => {
      const list = await alertsOf(RULE, STREET);
      return list.length > 0 ? list : undefined;
    });
    expect(alert).toMatchObject({
      rule: RULE,
      device: STREET,
      source: 'flow',
      state: 'open',
      severity: 'info',
      district: 'Thuận Hóa',
      owner: 'flood-control',
      level: 1,
    });
    const [message] = await eventually(() => {
      const t = transitionsOf(RULE);
      return t.length > 0 ? t : undefined;
    });
    expect(message).toMatchObject({ alert: { id: alert!.id, source: 'flow' }, event: { type: 'raised' } });
    const stored = await eventually(async () => {
      const r = await rows(
        platform,
        `SELECT "event", "source", "owner", "open" FROM "alerts" WHERE "rule" = '${RULE}' AND "device" = '${STREET}'`,
      );
      return r.length > 0 ? r : undefined;
    });
    expect(stored).toMatchObject([{ event: 'raised', source: 'flow', owner: 'flood-control', open: 1 }]);
  });

  it('a second raise updates the open alert, and a higher severity escalates it', async () => {
    await request('raise', { ...raise, message: 'Lê Lợi: 6 cm', value: 0.06 });
    await request('raise', { ...raise, severity: 'warning', message: 'Lê Lợi: 12 cm', value: 0.12 });
    await eventually(() => (transitionsOf(RULE).length >= 3 ? true : undefined));
    expect(transitionsOf(RULE).map((m) => [m.event.type, m.event.severity])).toEqual([
      ['raised', 'info'],
      ['updated', 'info'],
      ['escalated', 'warning'],
    ]);
    const list = await alertsOf(RULE, STREET);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ state: 'open', severity: 'warning' });
  });

  it('a registry sync or a rule reload leaves the open alert of a flow alone', async () => {
    await platform.rules.syncDevices();
    expect(await platform.rules.reload()).toEqual([]);
    expect((await alertsOf(RULE, STREET))[0]).toMatchObject({ state: 'open' });
  });

  it('a clear resolves it, and the request topics never reach other subscribers', async () => {
    await request('clear', undefined);
    await eventually(() => (transitionsOf(RULE).length >= 4 ? true : undefined));
    expect(transitionsOf(RULE).at(-1)?.event.type).toBe('resolved');
    expect(await alertsOf(RULE, STREET)).toMatchObject([{ state: 'resolved', source: 'flow' }]);
    // A clear with nothing open changes nothing.
    await request('clear', { message: 'still dry' });
    expect(await alertsOf(RULE, STREET)).toHaveLength(1);
    await eventually(() => (watched.length >= 4 ? true : undefined));
    expect(watched.every((m) => !/\/(raise|clear)$/.test(m.topic))).toBe(true);
    expect(transitions.every((m) => !/\/(raise|clear)$/.test(m.topic))).toBe(true);
  });

  it('a bad request is acknowledged and dead-lettered with its code, and the next valid one still works', async () => {
    await request('raise', { ...raise, severity: 'urgent' }); // resolves on PUBACK
    await flows.publishAsync(`city/alerts/flood/${STREET}/nr-bad-json/raise`, '{"title":', { qos: 1 });
    expect(flows.connected).toBe(true);
    const letters = platform.deadLetters.list({ source: 'node-red', code: 'RULES_ERR_FLOW_REQUEST' });
    expect(letters.map((l) => l.topic)).toEqual([
      `city/alerts/flood/${STREET}/nr-bad-json/raise`,
      `city/alerts/flood/${STREET}/${RULE}/raise`,
    ]);
    expect(letters[1]?.payload.toString()).toContain('urgent');
    const listed = await api<{ deadLetters: Array<{ code: string; description: string }> }>(
      '/api/dead-letters?code=RULES_ERR_FLOW_REQUEST',
    );
    expect(listed.deadLetters).toHaveLength(2);
    expect(listed.deadLetters[0]?.description).toMatch(/flow/);

    await request('raise', raise, STREET, 'nr-after-bad');
    await eventually(async () => ((await alertsOf('nr-after-bad', STREET)).length === 1 ? true : undefined));
  });

  it('a request about an unknown, decommissioned or other-kind device is dead-lettered as RULES_ERR_FLOW_DEVICE', async () => {
    await platform.registry.provisionDevice({
      id: 'sf-retired',
      kind: 'flood',
      name: 'Retired gauge',
      district: 'Thuận Hóa',
      location: { lat: 16.46, lon: 107.59 },
      meta: { type: 'street' },
    });
    await platform.registry.decommissionDevice('sf-retired');
    await request('raise', raise, 'sf-nowhere');
    await request('raise', raise, 'sf-retired');
    await flows.publishAsync(`city/alerts/flood/sl-le-loi-01/${RULE}/raise`, JSON.stringify(raise), {
      qos: 1,
    });
    const letters = platform.deadLetters.list({ source: 'node-red', code: 'RULES_ERR_FLOW_DEVICE' });
    expect(letters.map((l) => l.topic.split('/')[3])).toEqual(['sl-le-loi-01', 'sf-retired', 'sf-nowhere']);
    expect(await alertsOf(RULE, 'sf-retired')).toEqual([]);
  });

  it("a request using a rule file's id is refused with RULES_ERR_FLOW_RULE", async () => {
    await request('raise', raise, STREET, 'street-flooded');
    await request('clear', undefined, STREET, 'street-flooded');
    const letters = platform.deadLetters.list({ source: 'node-red', code: 'RULES_ERR_FLOW_RULE' });
    expect(letters).toHaveLength(2);
    expect(await alertsOf('street-flooded', STREET)).toEqual([]);
    expect(flows.connected).toBe(true);
  });

  it('a device publishing a request is disconnected, and no alert is raised', async () => {
    const device = await connect(STREET);
    const hangup = closed(device);
    device.publish(`city/alerts/flood/${STREET}/nr-device/raise`, JSON.stringify(raise), { qos: 1 });
    await hangup;
    expect(device.connected).toBe(false);
    expect(await alertsOf('nr-device', STREET)).toEqual([]);
  });

  it('a service account without the right to publish alerts is disconnected for a request', async () => {
    const reader = await connect('reader:rogue');
    const hangup = closed(reader);
    reader.publish(`city/alerts/flood/${STREET}/nr-reader/raise`, JSON.stringify(raise), { qos: 1 });
    await hangup;
    expect(await alertsOf('nr-reader', STREET)).toEqual([]);
  });

  it('a service publishing on a transition topic is disconnected, and subscribers never see it', async () => {
    const rogue = await connect('node-red:rogue');
    const hangup = closed(rogue);
    const forged = { alert: { rule: 'nr-forged', state: 'open' }, event: { type: 'raised' } };
    rogue.publish(`city/alerts/flood/${STREET}/nr-forged`, JSON.stringify(forged), { qos: 1, retain: true });
    await hangup;
    expect(rogue.connected).toBe(false);
    // A request sent retained is carried out, but not kept.
    await flows.publishAsync(`city/alerts/flood/${STREET}/nr-retained/raise`, JSON.stringify(raise), {
      qos: 1,
      retain: true,
    });
    expect(await alertsOf('nr-retained', STREET)).toHaveLength(1);
    // A subscriber that comes later gets neither the forgery nor the request.
    const late = await connect('node-red:late');
    const received = inbox(late);
    await late.subscribeAsync(`city/alerts/flood/${STREET}/#`, { qos: 1 });
    await eventually(() => (received.some((m) => m.topic.endsWith('/nr-retained')) ? true : undefined)); // the retained real transitions
    expect(received.some((m) => m.topic.endsWith('/nr-forged'))).toBe(false);
    expect(received.some((m) => m.topic.endsWith('/raise'))).toBe(false);
    expect(transitions.some((m) => m.topic.endsWith('/nr-forged'))).toBe(false);
  });
});

// Every kind of bad input gets its documented outcome — a refused connection, a closed connection, or a
// dead letter with its code — and the broker keeps serving everyone else.
import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closed,
  connectClient,
  eventually,
  metricValue,
  rows,
  startTestPlatform,
  type TestPlatform,
} from './kits/platform.ts';

let platform: TestPlatform;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];
const at = { lat: 16.457, lon: 107.578 };

async function connect(id: string, password = secrets.get(id)!): Promise<MqttClient> {
  const client = await connectClient(platform.mqttUrl, { clientId: id, username: id, password });
  clients.push(client);
  return client;
}

/** The dead letters recorded for a source, newest first. */
const deadLetters = (source: string) => platform.deadLetters.list({ source });

/** Publishes a good reading from a second device and waits until it is stored: the broker still serves. */
let witnessValue = 1;
async function othersStillServed(): Promise<void> {
  const witness = await connect('aq-witness');
  const value = witnessValue++;
  await witness.publishAsync('city/air_quality/aq-witness/telemetry', JSON.stringify({ pm25: value }), {
    qos: 1,
  });
  await eventually(
    async () =>
      (
        await rows(platform, `SELECT pm25 FROM air_quality WHERE device = 'aq-witness' AND pm25 = ${value}`)
      )[0],
  );
  witness.end(true);
}

beforeAll(async () => {
  platform = await startTestPlatform({ CITY_MAX_PACKET_BYTES: '4096' });
  for (const id of ['aq-bad', 'aq-witness', 'aq-other', 'aq-junk', 'aq-guessed']) {
    const { secret } = await platform.registry.provisionDevice({
      id,
      kind: 'air_quality',
      name: id,
      district: 'Thuận Hóa',
      location: at,
    });
    secrets.set(id, secret);
  }
  secrets.set(
    'gw-bad',
    (
      await platform.registry.provisionGateway({
        id: 'gw-bad',
        name: 'gw',
        district: 'Thuận Hóa',
        location: at,
      })
    ).secret,
  );
  await platform.registry.provisionDevice({
    id: 'lamp-child',
    kind: 'streetlight',
    name: 'lamp',
    district: 'Thuận Hóa',
    location: at,
    gateway: 'gw-bad',
    meta: { street: 'Lê Lợi', rated_w: 120, tolerance_pct: 10 },
  });
  await platform.registry.provisionDevice({
    id: 'lamp-stranger',
    kind: 'streetlight',
    name: 'lamp',
    district: 'Thuận Hóa',
    location: at,
    meta: { street: 'Hùng Vương', rated_w: 120, tolerance_pct: 10 },
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await platform?.destroy();
});

describe('bad payloads are dead-lettered with their code; the connection and other readings carry on', () => {
  const cases: Array<[string, string, string]> = [
    ['malformed JSON', '{"pm25": 12', 'INGEST_ERR_JSON'],
    ['a value of the wrong type', '{"pm25": "twelve"}', 'INGEST_ERR_SCHEMA'],
    ['no required field', '{"temperature": 30}', 'INGEST_ERR_SCHEMA'],
    ['a value out of physical range', '{"pm25": -4}', 'INGEST_ERR_RANGE'],
    ['an unknown field', '{"pm25": 12, "radiation": 3}', 'INGEST_ERR_UNKNOWN_FIELD'],
  ];
  it.each(cases)('%s → %s', async (_what, payload, code) => {
    const client = await connect('aq-bad');
    const before = deadLetters('aq-bad').length;
    await client.publishAsync('city/air_quality/aq-bad/telemetry', payload, { qos: 1 });
    const letter = await eventually(() =>
      deadLetters('aq-bad').length > before ? deadLetters('aq-bad')[0] : undefined,
    );
    expect(letter).toMatchObject({ code, topic: 'city/air_quality/aq-bad/telemetry' });
    expect(letter.payload.toString()).toBe(payload);
    // Same connection, next reading: stored.
    expect(client.connected).toBe(true);
    await client.publishAsync('city/air_quality/aq-bad/telemetry', JSON.stringify({ pm25: 7 }), { qos: 1 });
    client.end(true);
    await othersStillServed();
  });

  it('counts rejections by kind and reason in /metrics', async () => {
    const res = await fetch(`http://127.0.0.1:${platform.apiPort}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/city_messages_rejected_total\{kind="air_quality",reason="INGEST_ERR_JSON"\} [1-9]/);
  });
});

describe('a device sending only junk', () => {
  it('has 60 of its dead letters a minute kept and the rest counted; all are acknowledged', async () => {
    const junk = await connect('aq-junk');
    const before = await metricValue(platform, 'city_dead_letters_throttled_total');
    for (let i = 0; i < 200; i++) {
      await junk.publishAsync('city/air_quality/aq-junk/telemetry', `{"pm25": ${i}`, { qos: 1 });
    }
    expect(junk.connected).toBe(true);
    expect(deadLetters('aq-junk')).toHaveLength(60);
    expect((await metricValue(platform, 'city_dead_letters_throttled_total')) - before).toBe(140);
    expect(
      await metricValue(
        platform,
        'city_messages_rejected_total{kind="air_quality",reason="INGEST_ERR_JSON"}',
      ),
    ).toBeGreaterThanOrEqual(200);
    // Another device's junk is kept: the budget is the sender's.
    const other = await connect('aq-other');
    await other.publishAsync('city/air_quality/aq-other/telemetry', '{"pm25":', { qos: 1 });
    expect(deadLetters('aq-other')[0]?.code).toBe('INGEST_ERR_JSON');
    junk.end(true);
    other.end(true);
    await othersStillServed();
  });
});

describe("refusals, where a device's maker reads them", () => {
  /** The dead letters of `source` with `code`, through the API as an engineer reads them. */
  async function refusals(source: string, code?: string) {
    const filter = code === undefined ? '' : `&code=${code}`;
    const res = await fetch(
      `http://127.0.0.1:${platform.apiPort}/api/dead-letters?source=${source}${filter}&limit=1000`,
      { headers: { authorization: `Bearer ${platform.adminToken}` } },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      deadLetters: Array<{ topic: string; detail: string; description: string; payloadPreview: string }>;
    };
    return body.deadLetters;
  }

  it('keeps a publish refused by the ACL with its topic and payload, and a wrong secret with its address', async () => {
    const client = await connect('aq-bad');
    const hangup = closed(client);
    client.publish('city/air_quality/aq-witness/telemetry', '{"pm25": 1}', { qos: 1 });
    await hangup;
    const [acl] = await refusals('aq-bad', 'BROKER_ERR_ACL');
    expect(acl).toMatchObject({
      topic: 'city/air_quality/aq-witness/telemetry',
      payloadPreview: '{"pm25": 1}',
    });
    expect(acl?.description).toMatch(/may not publish/);

    await expect(connect('aq-bad', 'not-the-secret')).rejects.toMatchObject({ code: 4 });
    const [auth] = await refusals('aq-bad', 'BROKER_ERR_AUTH');
    expect(auth?.detail).toMatch(/wrong credentials \(from (::ffff:)?127\.0\.0\.1\)/);
  });

  it("keeps a known device's failed CONNECTs and the start of its block, not what the block refuses", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      codes.push(
        await connect('aq-guessed', `guess-${i}`).then(
          () => 0,
          (err: { code: number }) => err.code,
        ),
      );
    }
    // Five checked and refused (CONNACK 4), then blocked (5); a block that ends lets one more be checked.
    expect(codes.slice(0, 5)).toEqual([4, 4, 4, 4, 4]);
    expect(codes).toContain(5);
    const checked = codes.filter((c) => c === 4).length;
    expect(await refusals('aq-guessed', 'BROKER_ERR_AUTH')).toHaveLength(checked);
    const blocks = await refusals('aq-guessed', 'BROKER_ERR_AUTH_BLOCKED');
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    expect(blocks.length).toBeLessThan(codes.length - checked);
    // A made-up user name has no maker to read its refusals: nothing is kept for it.
    await expect(connect('aq-made-up', 'whatever')).rejects.toMatchObject({ code: 4 });
    expect(await refusals('aq-made-up')).toEqual([]);
  });
});

describe('refused connections and publishes', () => {
  it('refuses a wrong password with CONNACK 4', async () => {
    await expect(connect('aq-other', 'not-the-secret')).rejects.toMatchObject({ code: 4 });
    await othersStillServed();
  });

  it('refuses an unknown device with CONNACK 4', async () => {
    await expect(connect('aq-nobody', 'whatever')).rejects.toMatchObject({ code: 4 });
  });

  it('refuses a client id that is not the device id with CONNACK 2', async () => {
    const attempt = connectClient(platform.mqttUrl, {
      clientId: 'someone-else',
      username: 'aq-other',
      password: secrets.get('aq-other')!,
    });
    await expect(attempt).rejects.toMatchObject({ code: 2 });
  });

  it("closes the connection of a device publishing on another device's topic, and stores nothing", async () => {
    const client = await connect('aq-other');
    const hangup = closed(client);
    client.publish('city/air_quality/aq-witness/telemetry', JSON.stringify({ pm25: 999 }), { qos: 1 });
    await hangup;
    await othersStillServed();
    expect(await rows(platform, `SELECT pm25 FROM air_quality WHERE pm25 = 999`)).toEqual([]);
  });

  it('closes the connection of a gateway publishing on a device topic that is not its child', async () => {
    const gw = await connect('gw-bad');
    const hangup = closed(gw);
    gw.publish('city/streetlight/lamp-stranger/telemetry', JSON.stringify({ power_w: 1 }), { qos: 1 });
    await hangup;
    await othersStillServed();
  });

  it('dead-letters a gateway SenML pack naming a device that is not its child', async () => {
    const gw = await connect('gw-bad');
    await gw.publishAsync(
      'city/gateway/gw-bad/telemetry',
      JSON.stringify([
        { n: 'lamp-child/power_w', u: 'W', v: 100 },
        { n: 'lamp-stranger/power_w', u: 'W', v: 100 },
      ]),
      { qos: 1 },
    );
    const letter = await eventually(() => deadLetters('gw-bad')[0]);
    expect(letter.code).toBe('INGEST_ERR_NOT_CHILD');
    expect(await rows(platform, `SELECT power_w FROM streetlight WHERE device = 'lamp-child'`)).toEqual([]);
  });

  it('closes a connection that sends a packet over the size limit, before reading it whole', async () => {
    const socket = net.connect(platform.mqttPort, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clientId: 'aq-other',
        clean: true,
        keepalive: 30,
        username: 'aq-other',
        password: Buffer.from(secrets.get('aq-other')!),
      }),
    );
    const big = mqttPacket.generate({
      cmd: 'publish',
      topic: 'city/air_quality/aq-other/telemetry',
      payload: Buffer.alloc(100_000, 0x20),
      qos: 1,
      messageId: 1,
      retain: false,
      dup: false,
    });
    socket.write(big.subarray(0, 10)); // the header alone announces 100 kB
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(socket.destroyed).toBe(true);
    await othersStillServed();
    const metrics = await (await fetch(`http://127.0.0.1:${platform.apiPort}/metrics`)).text();
    expect(metrics).toMatch(/city_broker_refused_total\{code="BROKER_ERR_PACKET_TOO_LARGE"\} [1-9]/);
  });
});

// The fleet simulator and the load generator against a real (bare) Aedes broker on a free port: what
// they put on the wire is parsed and validated the way ingest will.
import { Aedes, type AuthenticateError } from 'aedes';
import net from 'node:net';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTopics, PAYLOAD_SCHEMAS, resolveSenml, type Kind } from '../devices/index.ts';
import { isSimError } from './errors.ts';
import { createFleetSimulator, type SimDevice, type SimGateway } from './fleet-sim.ts';
import { runLoad, type LoadPublish } from './load.ts';

interface Seen {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
  readonly qos: number;
  readonly client: string | undefined;
  readonly at: number;
}

const topics = createTopics('city');
const log = pino({ level: 'silent' });
const HUE = { lat: 16.4697, lon: 107.5778 };

const AQ: SimDevice = { id: 'aq-hung-vuong', kind: 'air_quality', location: HUE, secret: 's-aq' };
const STREET: SimDevice = {
  id: 'fl-le-loi',
  kind: 'flood',
  location: HUE,
  gateway: 'gw-1',
  meta: { type: 'street' },
};
const devices: SimDevice[] = [
  AQ,
  {
    id: 'fl-kim-long',
    kind: 'flood',
    location: HUE,
    secret: 's-kl',
    meta: { type: 'river', alarm_levels_m: [1, 2, 3.5] },
  },
  {
    id: 'fl-phu-oc',
    kind: 'flood',
    location: HUE,
    secret: 's-po',
    meta: { type: 'river', datum_m: 9, alarm_levels_m: [1.5, 3, 4.5] },
  },
  STREET,
  {
    id: 'sl-le-loi-01',
    kind: 'streetlight',
    location: HUE,
    gateway: 'gw-1',
    meta: { street: 'Lê Lợi', rated_w: 150, tolerance_pct: 10 },
  },
];
const gateways: SimGateway[] = [{ id: 'gw-1', secret: 's-gw' }];
const secrets = new Map<string, string>([
  ['aq-hung-vuong', 's-aq'],
  ['fl-kim-long', 's-kl'],
  ['fl-phu-oc', 's-po'],
  ['gw-1', 's-gw'],
  ['load-1', 'L1'],
  ['load-2', 'L2'],
  ['load-3', 'L3'],
]);
const kindOf = new Map<string, Kind>(devices.map((d) => [d.id, d.kind]));

let broker: Aedes;
let server: net.Server;
let port: number;
let seen: Seen[];

beforeEach(async () => {
  seen = [];
  broker = await Aedes.createBroker();
  broker.authenticate = (client, username, password, done) => {
    const ok =
      username === client.id && password !== undefined && secrets.get(username) === password.toString();
    if (ok) return done(null, true);
    const err: AuthenticateError = Object.assign(new Error('bad credentials'), { returnCode: 4 as const });
    done(err, false);
  };
  broker.on('publish', (packet, client) => {
    if (packet.topic.startsWith('$SYS')) return;
    seen.push({
      topic: packet.topic,
      payload: packet.payload.toString(),
      retain: packet.retain,
      qos: packet.qos,
      client: client?.id,
      at: Date.now(),
    });
  });
  server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  port = address.port;
});

afterEach(async () => {
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function until(predicate: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Validates one telemetry message the way ingest does; returns the readings' (device, ts) pairs. */
function validate(m: Seen): Array<{ device: string; ts: number }> {
  const parsed = topics.parse(m.topic);
  if (!parsed || parsed.type === 'alert' || parsed.channel !== 'telemetry')
    throw new Error(`bad topic ${m.topic}`);
  expect(m.qos).toBe(1);
  const body: unknown = JSON.parse(m.payload);
  if (parsed.type === 'device') {
    expect(m.client).toBe(parsed.device);
    PAYLOAD_SCHEMAS[parsed.kind].parse(body);
    const reading = z.object({ ts: z.number() }).parse(body);
    expect(reading.ts).toBeLessThanOrEqual(m.at);
    return [{ device: parsed.device, ts: reading.ts }];
  }
  expect(m.client).toBe(parsed.gateway);
  const resolved = resolveSenml(body, m.at);
  if (!resolved.ok) throw new Error(`bad SenML: ${resolved.reason}`);
  const byDevice = new Map<string, Record<string, unknown>>();
  for (const r of resolved.records) {
    const [device, field, ...rest] = r.name.split('/');
    expect(rest).toEqual([]);
    if (!device || !field) throw new Error(`bad record name ${r.name}`);
    const fields = byDevice.get(device) ?? { ts: r.time };
    fields[field] = r.value;
    byDevice.set(device, fields);
  }
  return [...byDevice].map(([device, fields]) => {
    const kind = kindOf.get(device);
    if (!kind) throw new Error(`unknown child ${device}`);
    PAYLOAD_SCHEMAS[kind].parse(fields);
    expect(Number(fields.ts)).toBeLessThanOrEqual(m.at);
    return { device, ts: Number(fields.ts) };
  });
}

describe('fleet simulator', () => {
  it('backfills in time order, goes live, and announces status with a retained will', async () => {
    const sim = await createFleetSimulator({
      url: `mqtt://127.0.0.1:${port}`,
      devices,
      gateways,
      topics,
      log,
      intervalMs: 50,
      speedup: 3600,
      scenario: 'flood',
      dropout: { probability: 0 },
    });
    const backfilled = await sim.backfill({ hours: 1, stepMs: 10 * 60_000 });
    expect(backfilled.messages).toBe(6 * 4); // three direct devices and one gateway, six steps each
    const backfillCount = seen.filter((m) => m.topic.endsWith('/telemetry')).length;
    expect(backfillCount).toBe(24);
    sim.start();
    await until(
      () => seen.filter((m) => m.topic.endsWith('/telemetry')).length >= backfillCount + 4 * 5,
      'live readings',
    );
    await sim.close();
    await sim.close();

    const telemetry = seen.filter((m) => m.topic.endsWith('/telemetry'));
    const readings = telemetry.flatMap(validate);
    for (const d of devices) {
      const ts = readings.filter((r) => r.device === d.id).map((r) => r.ts);
      expect(ts.length).toBeGreaterThanOrEqual(6 + 5);
      expect([...ts].sort((a, b) => a - b)).toEqual(ts);
      expect((ts.at(-1) ?? 0) - (ts[0] ?? 0)).toBeGreaterThanOrEqual(50 * 60_000);
    }
    for (const d of devices.filter((x) => x.gateway === undefined)) {
      const status = seen.filter((m) => m.topic === topics.status(d.kind, d.id));
      expect(status.map((m) => m.payload)).toEqual(['online', 'offline']);
      expect(status.every((m) => m.retain)).toBe(true);
    }
    expect(sim.stats().failed).toBe(0);
  });

  it('drops links without DISCONNECT, so the broker publishes the will, then reconnects', async () => {
    const sim = await createFleetSimulator({
      url: `mqtt://127.0.0.1:${port}`,
      devices: [AQ],
      topics,
      log,
      intervalMs: 50,
      dropout: { probability: 1, minMs: 100, maxMs: 100 },
    });
    sim.start();
    const status = topics.status('air_quality', 'aq-hung-vuong');
    const statuses = () => seen.filter((m) => m.topic === status).map((m) => m.payload);
    await until(() => statuses().length >= 4, 'a drop and a reconnect');
    await sim.close();
    expect(statuses().slice(0, 3)).toEqual(['online', 'offline', 'online']);
    expect(sim.stats().dropouts).toBeGreaterThanOrEqual(1);
  });

  it('refuses to start when a secret is wrong', async () => {
    const wrong = [{ ...AQ, secret: 'nope' }];
    const err = await createFleetSimulator({
      url: `mqtt://127.0.0.1:${port}`,
      devices: wrong,
      topics,
      log,
    }).catch((e: unknown) => e);
    expect(isSimError(err, 'SIM_ERR_CONNECT')).toBe(true);
  });

  it('refuses a device whose gateway is unknown', async () => {
    const orphan = [{ ...STREET, gateway: 'gw-missing' }];
    const err = await createFleetSimulator({
      url: `mqtt://127.0.0.1:${port}`,
      devices: orphan,
      topics,
      log,
    }).catch((e: unknown) => e);
    expect(isSimError(err, 'SIM_ERR_CONFIG')).toBe(true);
  });
});

describe('load generator', () => {
  const loadDevices = [
    { id: 'load-1', kind: 'air_quality' as const, secret: 'L1' },
    { id: 'load-2', kind: 'air_quality' as const, secret: 'L2' },
    { id: 'load-3', kind: 'air_quality' as const, secret: 'L3' },
  ];

  it('publishes valid QoS 1 messages spread over the devices and counts every PUBACK', async () => {
    const published: LoadPublish[] = [];
    const acks = new Set<number>();
    const result = await runLoad({
      host: '127.0.0.1',
      port,
      devices: [...loadDevices, { id: 'load-x', kind: 'air_quality', secret: 'wrong' }],
      ratePerSecond: 600,
      durationMs: 500,
      qos: 1,
      payload: (i) => JSON.stringify({ pm25: i % 500, pm10: 2 * (i % 500) }),
      onPublish: (p) => published.push(p),
      onAck: (seq) => acks.add(seq),
    });
    expect(result.connected).toBe(3);
    expect(result.refused).toBe(1);
    expect(result.sent).toBeGreaterThan(0);
    expect(result.acked).toBe(result.sent);
    expect(result.ackLatency.count).toBe(result.sent);
    expect(published.map((p) => p.seq)).toEqual([...Array(result.sent).keys()]);
    expect(acks.size).toBe(result.sent);

    const telemetry = seen.filter((m) => m.client?.startsWith('load-'));
    expect(telemetry).toHaveLength(result.sent);
    for (const m of telemetry) {
      expect(m.topic).toBe(topics.telemetry('air_quality', m.client ?? ''));
      expect(m.qos).toBe(1);
      PAYLOAD_SCHEMAS.air_quality.parse(JSON.parse(m.payload));
    }
    const perDevice = loadDevices.map((d) => telemetry.filter((m) => m.client === d.id).length);
    expect(Math.max(...perDevice) - Math.min(...perDevice)).toBeLessThanOrEqual(1);
  });

  it('publishes at QoS 0 without waiting for acknowledgements', async () => {
    const result = await runLoad({
      host: '127.0.0.1',
      port,
      devices: loadDevices,
      ratePerSecond: 300,
      durationMs: 300,
      qos: 0,
      payload: (i) => JSON.stringify({ pm25: i % 500 }),
    });
    expect(result.sent).toBeGreaterThan(0);
    expect(result.acked).toBe(0);
    await until(
      () => seen.filter((m) => m.client?.startsWith('load-')).length === result.sent,
      'QoS 0 messages',
    );
  });

  it('only targets a broker on this machine', async () => {
    const err = await runLoad({
      host: '10.0.0.1',
      port,
      devices: loadDevices,
      ratePerSecond: 1,
      durationMs: 1,
      qos: 1,
      payload: () => '{}',
    }).catch((e: unknown) => e);
    expect(isSimError(err, 'SIM_ERR_NOT_LOOPBACK')).toBe(true);
  });
});

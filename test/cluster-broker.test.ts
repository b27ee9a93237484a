// Brokers of a cluster on a real Redis, with real MQTT clients on real sockets: a publish on one node
// reaches subscribers on another, retained messages and QoS 1 sessions are found on any node, a client id
// connecting on a second node closes its connection on the first; Redis missing at start stops the start
// with a clear error, and Redis lost while running makes the node refuse clients, and its /health say so,
// until it is back; so does PostgreSQL lost. Readings a node accepted reach the node that evaluates their
// device's rules over the brokers' bus, in order.
// Each node has its own spool and ingest, as platform nodes do; they share one registry.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, type Broker } from '../broker/index.ts';
import { openPostgresAlertStore, partitionOf } from '../alerts/index.ts';
import { createTopics, openRegistry, type Reading, type Registry } from '../devices/index.ts';
import { freePort } from '../influx/index.ts';
import { createIngest, createSpool, openDeadLetters } from '../ingest/index.ts';
import { createMetrics } from '../platform/metrics.ts';
import { startRuleRouting } from '../platform/rule-routing.ts';
import { closed, connectClient, eventually, startTestPlatform } from './kits/platform.ts';
import { startPostgres } from './kits/postgres.ts';
import { startRedis, type TestRedis } from './kits/redis.ts';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const topics = createTopics('city');
const at = { lat: 16.4637, lon: 107.5909 };

interface Node {
  readonly broker: Broker;
  readonly url: string;
  /** What the broker told the platform last: whether anyone in the cluster reads the decoded readings. */
  readingsWanted(): boolean;
  close(): Promise<void>;
}

let root: string;
let redis: TestRedis;
let registry: Registry;
const secrets = new Map<string, string>();
const cleanups: Array<() => Promise<unknown>> = [];

async function startNode(nodeId: string, redisUrl = redis.url): Promise<Node> {
  const dir = await fs.mkdtemp(path.join(root, `${nodeId}-`));
  const metrics = createMetrics();
  const spool = await createSpool({
    dir: path.join(dir, 'spool'),
    maxBytes: 64 << 20,
    segmentBytes: 1 << 20,
  });
  const deadLetters = openDeadLetters({ file: path.join(dir, 'dead-letters.db'), maxBytes: 1 << 20 });
  const getDevice = (id: string) => registry.getDevice(id);
  const ingest = createIngest({
    ...{ getDevice, spool, deadLetters, log, metrics: metrics.ingest },
    ...{ clock: Date.now, maxPayloadBytes: 65_536 },
  });
  const stop = async () => {
    await spool.close();
    deadLetters.close();
    metrics.close();
  };
  const config = { host: '127.0.0.1', port: 0, maxPacketBytes: 65_536, cluster: { redisUrl, nodeId } };
  const broker = await createBroker(config, { log, topics, metrics: metrics.broker }).catch(
    async (err: unknown) => {
      await stop();
      throw err;
    },
  );
  let wanted = false;
  const listeners = await broker.listen({
    authenticate: (user, password) => registry.authenticate(user, password),
    getDevice,
    ingest,
    alertRequest: () => Promise.resolve(undefined),
    onReadingsWanted: (now) => (wanted = now),
    commandAck: () => Promise.resolve(undefined),
    onCommandsListener: () => undefined,
  });
  const node: Node = {
    broker,
    url: `mqtt://127.0.0.1:${listeners.port}`,
    readingsWanted: () => wanted,
    close: async () => {
      await broker.close();
      await stop();
    },
  };
  cleanups.push(() => node.close());
  return node;
}

async function connect(node: Node, id: string, options: Parameters<typeof connectClient>[1] = {}) {
  const username = id.split(':')[0]!;
  const client = await connectClient(node.url, {
    clientId: id,
    username,
    password: secrets.get(username),
    ...options,
  });
  // The nodes close their clients in these tests (a takeover, Redis lost): the socket's end is expected.
  client.on('error', () => undefined);
  cleanups.push(() => client.endAsync(true));
  return client;
}

function received(client: MqttClient): Array<{ topic: string; payload: string; retain: boolean }> {
  const seen: Array<{ topic: string; payload: string; retain: boolean }> = [];
  client.on('message', (topic, payload, packet) =>
    seen.push({ topic, payload: payload.toString(), retain: packet.retain }),
  );
  return seen;
}

let a: Node;
let b: Node;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'city-cluster-broker-'));
  redis = await startRedis();
  registry = await openRegistry({ file: path.join(root, 'registry.db') });
  for (const id of ['aq-cluster-1', 'aq-cluster-2']) {
    const made = await registry.provisionDevice({
      id,
      kind: 'air_quality',
      name: id,
      district: 'Thuận Hóa',
      location: at,
    });
    secrets.set(id, made.secret);
  }
  for (const id of ['dashboard', 'node-red']) {
    const made = await registry.provisionServiceAccount({ id, mayPublishAlerts: false });
    secrets.set(id, made.secret);
  }
  a = await startNode('node-a');
  b = await startNode('node-b');
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await registry?.close();
  await redis?.stop();
  await fs.rm(root, { recursive: true, force: true });
});

describe('MQTT across nodes', () => {
  it("a device's reading accepted on one node reaches a subscriber on another", async () => {
    const reader = await connect(b, 'dashboard:readings');
    const seen = received(reader);
    await reader.subscribeAsync('city/air_quality/+/telemetry', { qos: 1 });
    const device = await connect(a, 'aq-cluster-1');
    const reading = JSON.stringify({ ts: new Date().toISOString(), pm25: 41.5 });
    await device.publishAsync('city/air_quality/aq-cluster-1/telemetry', reading, { qos: 1 });
    await eventually(() => seen.find((m) => m.payload === reading));
    expect(seen.filter((m) => m.payload === reading)).toHaveLength(1);
  });

  it('what the platform publishes on one node (an alert) reaches subscribers on the others', async () => {
    const reader = await connect(b, 'node-red:alerts');
    const seen = received(reader);
    await reader.subscribeAsync('city/alerts/#', { qos: 1 });
    const alert = JSON.stringify({ rule: 'pm25-high', device: 'aq-cluster-1', state: 'firing' });
    await a.broker.publish('city/alerts/air_quality/aq-cluster-1/pm25-high', alert, { qos: 1 });
    await eventually(() => seen.find((m) => m.payload === alert));
  });

  it('a reader of the decoded readings on one node makes every node publish them, until it leaves', async () => {
    expect([a.readingsWanted(), b.readingsWanted()]).toEqual([false, false]);
    const reader = await connect(b, 'node-red:readings');
    await reader.subscribeAsync('city/readings/#', { qos: 0 });
    await eventually(() => (a.readingsWanted() && b.readingsWanted()) || undefined);
    await reader.unsubscribeAsync('city/readings/#');
    await eventually(() => (!a.readingsWanted() && !b.readingsWanted()) || undefined);
  });

  it('a retained message published on one node is given to a later subscriber on another', async () => {
    const status = JSON.stringify({ status: 'online', ts: new Date().toISOString() });
    await a.broker.publish('city/air_quality/aq-cluster-2/status', status, { qos: 1, retain: true });
    const reader = await connect(b, 'dashboard:status');
    const seen = received(reader);
    await reader.subscribeAsync('city/air_quality/+/status', { qos: 1 });
    await eventually(() => seen.find((m) => m.payload === status && m.retain));
  });

  it('a QoS 1 session left on one node gets what was published meanwhile when it comes back on another', async () => {
    const first = await connect(a, 'node-red:session', { clean: false });
    await first.subscribeAsync('city/alerts/#', { qos: 1 });
    await first.endAsync();
    const alert = JSON.stringify({
      rule: 'river-high',
      device: 'aq-cluster-2',
      state: 'firing',
      n: Date.now(),
    });
    await b.broker.publish('city/alerts/air_quality/aq-cluster-2/river-high', alert, { qos: 1 });
    const again = await connect(b, 'node-red:session', { clean: false, reconnectPeriod: 0 });
    const seen = received(again);
    await eventually(() => seen.find((m) => m.payload === alert));
  });

  it('a client id connecting on a second node closes its older connection on the first', async () => {
    const old = await connect(a, 'aq-cluster-2');
    const gone = closed(old);
    const fresh = await connect(b, 'aq-cluster-2');
    await gone;
    expect(fresh.connected).toBe(true);
    expect(old.connected).toBe(false);
  });
});

describe('Redis faults', () => {
  it('Redis unreachable at start: the node does not start, and says where it looked and what to do', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    await expect(startNode('node-c', nowhere)).rejects.toMatchObject({
      code: 'BROKER_ERR_REDIS',
      message: expect.stringMatching(
        /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+.*start it, or check CITY_REDIS_URL/,
      ) as unknown,
    });
  });

  it('Redis lost while running: clients are closed and refused (CONNACK 3) until it answers again', async () => {
    const node = await startNode('node-d');
    const device = await connect(node, 'aq-cluster-1');
    const gone = closed(device);
    await redis.kill();
    try {
      await gone;
      await eventually(() => node.broker.cluster()?.redis === 'down' || undefined);
      await expect(connect(node, 'aq-cluster-1')).rejects.toMatchObject({ code: 3 });
    } finally {
      await redis.start();
    }
    await eventually(() => node.broker.cluster()?.redis === 'up' || undefined, 15_000);
    const back = await connect(node, 'aq-cluster-1');
    expect(back.connected).toBe(true);
  });

  it('Redis that stops answering (its sockets open) is found out by the ping, and the node refuses clients', async () => {
    const node = await startNode('node-e');
    const device = await connect(node, 'aq-cluster-2');
    const gone = closed(device);
    redis.pause();
    try {
      await gone;
      await expect(connect(node, 'aq-cluster-2')).rejects.toMatchObject({ code: 3 });
      expect(node.broker.cluster()).toMatchObject({ node: 'node-e', redis: 'down' });
    } finally {
      redis.resume();
    }
    await eventually(() => node.broker.cluster()?.redis === 'up' || undefined, 15_000);
    expect((await connect(node, 'aq-cluster-2')).connected).toBe(true);
  });
});

describe('a platform node', () => {
  it('tells in /health whether it reaches Redis and PostgreSQL: 503 naming the part that does not answer', async () => {
    const pg = await startPostgres();
    cleanups.push(() => pg.stop());
    const platform = await startTestPlatform({
      ...{ CITY_REDIS_URL: redis.url, CITY_NODE_ID: 'node-f' },
      CITY_DATABASE_URL: await pg.database('node_f'),
    });
    cleanups.push(() => platform.destroy());
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${platform.apiPort}/health`);
      return { status: res.status, body: (await res.json()) as { ok: boolean; cluster?: unknown } };
    };
    const unhealthy = () =>
      eventually(async () => {
        const h = await health();
        return h.status === 503 ? h : undefined;
      });
    expect(await health()).toMatchObject({
      status: 200,
      body: { ok: true, cluster: { node: 'node-f', redis: 'up' } },
    });
    await redis.kill();
    try {
      const down = await unhealthy();
      expect(down.body).toMatchObject({
        ok: false,
        cluster: { node: 'node-f', redis: 'down', problem: expect.any(String) as unknown },
      });
    } finally {
      await redis.start();
    }
    const healthy = () => eventually(async () => ((await health()).status === 200 ? true : undefined));
    await healthy();

    await pg.kill();
    try {
      const down = await unhealthy();
      expect(down.body).toMatchObject({
        ok: false,
        cluster: { redis: 'up' },
        registry: { database: 'postgresql', ok: false, problem: expect.any(String) as unknown },
      });
    } finally {
      await pg.start();
    }
    await healthy();
  });
});

describe("readings sent to the node that evaluates their device's rules", () => {
  it('reach that node in order, wait while no node holds the partition, and go on once one does', async () => {
    const pg = await startPostgres();
    cleanups.push(() => pg.stop());
    const url = await pg.database('rule_routing');
    const nodes = [
      { name: 'node-a', broker: a.broker },
      { name: 'node-b', broker: b.broker },
    ].map(async ({ name, broker }) => {
      const store = await openPostgresAlertStore({ url, origin: name, leases: { renewMs: 3_600_000 }, log });
      cleanups.push(() => store.close());
      const leases = store.leases!;
      const seen: number[] = [];
      const rules = {
        owns: (id: string) => leases.fenceOf(partitionOf(id)) !== undefined,
        onReadings: (readings: readonly Reading[]) => seen.push(...readings.map((r) => r.time)),
      };
      const routing = startRuleRouting({
        rules,
        leases,
        bus: broker.bus!,
        getDevice: (id) => registry.getDevice(id),
        log,
      });
      cleanups.push(() => Promise.resolve(routing.close()));
      return { leases, seen, routing };
    });
    const [ra, rb] = await Promise.all(nodes);
    const device = registry.getDevice('aq-cluster-1')!;
    const reading = (time: number): Reading => ({
      kind: 'air_quality',
      device: device.id,
      time,
      fields: { pm25: 1 },
    });
    // Nobody holds any partition yet: b keeps them.
    rb!.routing.onReadings([reading(1)], device);
    rb!.routing.onReadings([reading(2)], device);
    await ra!.leases.round(); // a takes every partition
    await rb!.leases.round(); // and b reads who holds what
    // Before b sends what waits (its next retry), a newer reading: it goes behind them, not ahead.
    rb!.routing.onReadings([reading(3)], device);
    await eventually(() => (ra!.seen.length === 3 ? true : undefined));
    rb!.routing.onReadings([reading(4), reading(5)], device);
    await eventually(() => (ra!.seen.length === 5 ? true : undefined));
    ra!.routing.onReadings([reading(6)], device); // accepted by the holder itself
    expect(ra!.seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rb!.seen).toEqual([]);
    expect(rb!.routing.dropped()).toBe(0);
  });
});

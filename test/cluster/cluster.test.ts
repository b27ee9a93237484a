// Three platform nodes behind HAProxy on Redis and PostgreSQL, on this machine: 1,000 devices publish QoS 1
// through HAProxy, one node is killed with SIGKILL in the middle and started again, and every reading any
// node acknowledged is in InfluxDB. A device's second connection on another node closes its first; a
// registry change made through one node is honoured by another within a second; an alert raised on one
// node reaches an MQTT subscriber and a stream of server-sent events on others; and when the node that
// evaluates a street gauge's rules is killed, its partition moves to a survivor, which raises the
// gauge's alert once and clears it once. When the node that sends the notifications is killed with one
// waiting to be retried, a survivor takes its lease and sends it, under the same key, once. A command
// asked through one node reaches a lamp connected to another, whose answer is recorded there; a message
// one node refuses is listed, with that node's name, through another.
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { MqttClient, type IClientOptions } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCluster, type ClusterNode, type TestCluster } from '../kits/cluster.ts';
import { closed, connectClient, eventually, floodStreetWith } from '../kits/platform.ts';
import { partitionOf } from '../../alerts/index.ts';

const DEVICES = 1_000;
const READINGS_PER_DEVICE = 12;
const at = { lat: 16.4637, lon: 107.5909 };

let cluster: TestCluster;
const secrets = new Map<string, string>();
let dir: string;

/** flood-control's duty desk: a webhook that answers `hookStatus`, and every call it had. */
const hooks: Array<{ key: string; devices: string[]; answered: number }> = [];
let hookStatus = 200;
const hookServer = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const sent = JSON.parse(body) as {
      delivery: string;
      notification: { alerts: Array<{ device: string }> };
    };
    const devices = sent.notification.alerts.map((a) => a.device);
    hooks.push({ key: sent.delivery, devices, answered: hookStatus });
    res.writeHead(hookStatus).end();
  });
});

async function api(method: string, url: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${cluster.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
}

/** InfluxQL against the nodes' database. */
async function query(q: string): Promise<Array<[string, ...unknown[]]>> {
  const url = `${inject('influxUrl')}/query?db=${cluster.db}&q=${encodeURIComponent(q)}`;
  const body = (await (await fetch(url)).json()) as {
    results: Array<{ series?: Array<{ tags?: Record<string, string>; values: unknown[][] }> }>;
  };
  return (body.results[0]?.series ?? []).flatMap((s) =>
    s.values.map((v) => [s.tags?.device ?? '', ...v] as [string, ...unknown[]]),
  );
}

/** What a node's /health says of its part in the cluster (undefined for a node down). */
const clusterHealth = (node: ClusterNode) =>
  fetch(`${node.apiUrl}/health`)
    .then((r) => r.json() as Promise<{ cluster?: { partitions?: number[]; notifier?: boolean } }>)
    .then((h) => h.cluster)
    .catch(() => undefined);

/** The partitions of the device space each node says it evaluates, by node (a node down says nothing). */
async function partitionsByNode(): Promise<Map<ClusterNode, number[]>> {
  const out = new Map<ClusterNode, number[]>();
  for (const node of cluster.nodes) {
    const partitions = (await clusterHealth(node))?.partitions;
    if (partitions) out.set(node, partitions);
  }
  return out;
}

/** The node that holds the notifier's lease, once one does. */
const notifierNode = () =>
  eventually(async () => {
    for (const node of cluster.nodes) if ((await clusterHealth(node))?.notifier === true) return node;
    return undefined;
  }, 30_000);

/** Publishes a street gauge's water depths through one node, each `minutesAgo` old, QoS 1. */
async function sendDepths(
  node: ClusterNode,
  gauge: string,
  points: ReadonlyArray<readonly [minutesAgo: number, depth: number]>,
): Promise<void> {
  const client = await connectToNode(node, {
    clientId: gauge,
    username: gauge,
    password: secrets.get(gauge),
  });
  for (const [minutesAgo, depth] of points) {
    const ts = new Date(Date.now() - minutesAgo * 60_000).toISOString();
    await client.publishAsync(`city/flood/${gauge}/telemetry`, JSON.stringify({ water_level_m: depth, ts }), {
      qos: 1,
    });
  }
  await client.endAsync();
}

/** The node that evaluates the device's rules now, once one does. */
async function ownerOf(device: string, timeoutMs = 30_000): Promise<ClusterNode> {
  const p = partitionOf(device);
  return eventually(
    async () => [...(await partitionsByNode())].find(([, held]) => held.includes(p))?.[0],
    timeoutMs,
  );
}

/** Reads a stream of server-sent events until `until` holds for the text so far (or 20 s pass). */
function readEvents(
  url: string,
  until: (text: string) => boolean,
  opened: () => Promise<void>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const headers = { authorization: `Bearer ${cluster.adminToken}`, accept: 'text/event-stream' };
    const request = http.get(url, { headers }, (response) => {
      if (response.statusCode !== 200) reject(new Error(`the stream answered ${response.statusCode}`));
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        if (until(text)) request.destroy();
      });
      opened().catch(reject);
    });
    request.on('close', () => resolve(text));
    request.on('error', () => resolve(text));
    setTimeout(() => request.destroy(), 20_000).unref();
  });
}

/** An MQTT client connected straight to one node, its connection opening with the PROXY header HAProxy sends. */
function connectToNode(node: ClusterNode, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = new MqttClient(
      () => {
        const socket = net.connect(node.mqttPort, '127.0.0.1');
        socket.write(`PROXY TCP4 10.20.0.7 127.0.0.1 40000 ${node.mqttPort}\r\n`);
        return socket;
      },
      { protocolVersion: 4, reconnectPeriod: 0, ...options },
    );
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.on('error', () => undefined);
  });
}

beforeAll(async () => {
  await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cluster-'));
  const routing = path.join(dir, 'routing.yaml');
  await fs.writeFile(routing, 'defaults: { group_wait: 1s }\nroutes:\n  - receivers: [$owner]\n');
  cluster = await startCluster({ nodes: 3, env: { CITY_ROUTING_FILE: routing } });
  await cluster.nodesUp(3);
  const devices = Array.from({ length: DEVICES }, (_, i) => ({
    id: `aq-cl-${String(i).padStart(4, '0')}`,
    kind: 'air_quality',
    name: `Trạm ${i}`,
    district: 'Thuận Hóa',
    location: at,
  }));
  for (const [id, name, street] of [
    ['sf-cl-le-loi', 'Ngập đường Lê Lợi', 'Lê Lợi'],
    ['sf-cl-ba-trieu', 'Ngập đường Bà Triệu', 'Bà Triệu'],
    ['sf-cl-nguyen-hue', 'Ngập đường Nguyễn Huệ', 'Nguyễn Huệ'],
  ] as const)
    devices.push({
      ...{ id, kind: 'flood', name, district: 'Thuận Hóa', location: at },
      meta: { type: 'street', street },
      tags: ['street-flood'],
    } as (typeof devices)[number]);
  devices.push({
    ...{ id: 'sl-cl-hung-vuong', kind: 'streetlight', name: 'Đèn Hùng Vương', district: 'Thuận Hóa' },
    ...{ location: at, meta: { street: 'Hùng Vương', rated_w: 150 } },
  });
  const made = await api('POST', `${cluster.apiUrl}/api/devices/bulk`, { devices });
  expect(made.status).toBe(201);
  for (const d of (made.body as { devices: Array<{ id: string; secret: string }> }).devices)
    secrets.set(d.id, d.secret);
  const floodControl = (await api('GET', `${cluster.apiUrl}/api/agencies/flood-control`)).body as {
    name: unknown;
  };
  const url = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hooks/flood`;
  const replaced = await api('PUT', `${cluster.apiUrl}/api/agencies/flood-control`, {
    name: floodControl.name,
    receivers: [{ id: 'duty-desk', type: 'webhook', url }],
  });
  expect(replaced.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await new Promise((resolve) => hookServer.close(resolve));
  if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
}, 60_000);

describe('a cluster of three nodes behind HAProxy', () => {
  it('keeps every acknowledged reading when a node is killed with SIGKILL under load and started again', async () => {
    const t0 = Date.now() - 10 * 60_000;
    const acked = new Map<string, Set<number>>();
    const clients: MqttClient[] = [];
    let reconnected = 0;
    for (const id of [...secrets.keys()].filter((d) => d.startsWith('aq-cl-'))) {
      const client = await connectClient(cluster.mqttUrl, {
        clientId: id,
        username: id,
        password: secrets.get(id),
        reconnectPeriod: 300,
        connectTimeout: 5_000,
      });
      client.on('error', () => undefined);
      client.on('reconnect', () => (reconnected += 1));
      clients.push(client);
      acked.set(id, new Set());
    }

    // Each device sends a reading every 250 ms; the second node dies after a third of them.
    const publishing = clients.map(async (client, n) => {
      const id = client.options.clientId!;
      for (let i = 0; i < READINGS_PER_DEVICE; i++) {
        const ts = t0 + i * 1_000 + (n % 1_000);
        client
          .publishAsync(`city/air_quality/${id}/telemetry`, JSON.stringify({ ts, pm25: 10 + i }), { qos: 1 })
          .then(
            () => acked.get(id)!.add(ts),
            () => undefined, // not acknowledged: not promised
          );
        await new Promise((r) => setTimeout(r, 250));
      }
    });
    await new Promise((r) => setTimeout(r, READINGS_PER_DEVICE * 80));
    const victim = cluster.nodes[1]!;
    await victim.kill();
    await Promise.all(publishing);
    // What was in flight is resent by the clients once they are back on a node.
    const total = () => [...acked.values()].reduce((n, s) => n + s.size, 0);
    await eventually(() => (total() === DEVICES * READINGS_PER_DEVICE ? true : undefined), 60_000).catch(
      () => undefined,
    );
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await victim.start();
    await cluster.nodesUp(3);

    // About a third of the devices were on the node that died, and came back through HAProxy.
    expect(reconnected).toBeGreaterThan(DEVICES / 6);
    const expected = total();
    expect(expected).toBeGreaterThan(DEVICES * READINGS_PER_DEVICE * 0.9);
    const stored = await eventually(async () => {
      const rows = await query(`SELECT pm25 FROM air_quality WHERE device =~ /^aq-cl-/ GROUP BY device`);
      return rows.length >= expected ? rows : undefined;
    }, 60_000);
    const have = new Set(stored.map(([device, time]) => `${device} ${Date.parse(String(time))}`));
    const missing = [...acked].flatMap(([device, tss]) =>
      [...tss].filter((ts) => !have.has(`${device} ${ts}`)).map((ts) => `${device} ${ts}`),
    );
    expect(missing).toEqual([]);
  }, 240_000);

  it("a device's second connection, on another node, closes its first", async () => {
    const id = 'aq-cl-0001';
    const options = { clientId: id, username: id, password: secrets.get(id) };
    const first = await connectToNode(cluster.nodes[0]!, options);
    const gone = closed(first);
    const second = await connectToNode(cluster.nodes[2]!, options);
    await gone;
    expect(second.connected).toBe(true);
    await second.endAsync(true);
  });

  it('a device decommissioned through one node is refused by another within a second', async () => {
    const id = 'aq-cl-0002';
    const gone = await api('DELETE', `${cluster.nodes[0]!.apiUrl}/api/devices/${id}`);
    expect(gone.status).toBe(200);
    await eventually(async () => {
      const seen = await api('GET', `${cluster.nodes[2]!.apiUrl}/api/devices/${id}`);
      return (seen.body as { status?: string }).status === 'decommissioned' ? true : undefined;
    }, 1_000);
    await expect(
      connectToNode(cluster.nodes[2]!, { clientId: id, username: id, password: secrets.get(id) }),
    ).rejects.toMatchObject({ code: 4 });
  });

  it('an alert raised on one node reaches an MQTT subscriber on another', async () => {
    const made = await api('POST', `${cluster.apiUrl}/api/service-accounts`, { id: 'ops-wall' });
    expect(made.status).toBe(201);
    const secret = (made.body as { secret: string }).secret;
    const reader = await eventually(
      () =>
        connectToNode(cluster.nodes[2]!, { clientId: 'ops-wall', username: 'ops-wall', password: secret }),
      2_000,
    );
    const seen: string[] = [];
    reader.on('message', (topic) => seen.push(topic));
    await reader.subscribeAsync('city/alerts/#', { qos: 1 });
    const gauge = 'sf-cl-le-loi';
    const password = secrets.get(gauge);
    await floodStreetWith(
      await connectToNode(cluster.nodes[0]!, { clientId: gauge, username: gauge, password }),
      gauge,
    );
    await eventually(() => seen.find((t) => t.includes(gauge)), 20_000);
    await reader.endAsync(true);
  });

  it("an alert raised on one node reaches an operator's event stream on another", async () => {
    const gauge = 'sf-cl-le-loi';
    const owner = await ownerOf(gauge);
    const watcher = cluster.nodes.find((n) => n !== owner)!;
    const text = await readEvents(
      `${watcher.apiUrl}/api/alerts/stream`,
      (t) => t.includes(`"device":"${gauge}"`) && t.includes('"type":"resolved"'),
      async () => {
        // The gauge clears: its open alert (raised by the test before) is resolved on the owner.
        const client = await connectToNode(owner, {
          clientId: gauge,
          username: gauge,
          password: secrets.get(gauge),
        });
        const ts = new Date().toISOString();
        await client.publishAsync(
          `city/flood/${gauge}/telemetry`,
          JSON.stringify({ water_level_m: 0.05, ts }),
          {
            qos: 1,
          },
        );
        await client.endAsync();
      },
    );
    expect(text).toContain('event: alert');
    expect(text).toContain(`"device":"${gauge}"`);
  });

  it('moves the rules of a killed node to a survivor, which raises the alert once and clears it once', async () => {
    const gauge = 'sf-cl-ba-trieu';
    const owner = await ownerOf(gauge);
    const through = cluster.nodes.find((n) => n !== owner)!;
    const send = (points: ReadonlyArray<readonly [number, number]>) => sendDepths(through, gauge, points);
    await send([[4, 0.31]]); // the sustain starts on the owner
    await owner.kill();
    try {
      const survivor = await ownerOf(gauge);
      expect(survivor).not.toBe(owner);
      await send([
        [3, 0.32],
        [1, 0.34],
      ]);
      const alerts = async () =>
        (
          (await api('GET', `${through.apiUrl}/api/alerts?device=${gauge}`)).body as {
            alerts: Array<{ id: number; state: string }>;
          }
        ).alerts;
      const [raised] = await eventually(
        async () => ((await alerts()).length > 0 ? alerts() : undefined),
        20_000,
      );
      await send([[0, 0.05]]);
      await eventually(async () => ((await alerts())[0]?.state === 'resolved' ? true : undefined), 20_000);
      expect((await alerts()).map((a) => [a.id, a.state])).toEqual([[raised!.id, 'resolved']]);
      const history = (await api('GET', `${through.apiUrl}/api/alerts/${raised!.id}`)).body as {
        events: Array<{ type: string }>;
      };
      expect(history.events.map((e) => e.type)).toEqual(['raised', 'resolved']);
    } finally {
      await owner.start();
      await cluster.nodesUp(3);
    }
  });

  it("sends a killed notifier's notification, waiting to be retried, from the survivor that takes its lease", async () => {
    const gauge = 'sf-cl-nguyen-hue';
    const notifier = await notifierNode();
    const through = cluster.nodes.find((n) => n !== notifier)!;
    hookStatus = 503;
    await sendDepths(through, gauge, [
      [4, 0.31],
      [3, 0.32],
      [1, 0.34],
    ]);
    const failed = await eventually(() => hooks.find((h) => h.devices.includes(gauge)), 20_000);
    expect(failed.answered).toBe(503);
    const deliveries = async () => {
      const { body } = await api('GET', `${through.apiUrl}/api/alerts?device=${gauge}`);
      const [alert] = (body as { alerts: Array<{ id: number }> }).alerts;
      const shown = (await api('GET', `${through.apiUrl}/api/alerts/${alert!.id}/deliveries`)).body as {
        deliveries: Array<{ key: string; status: string; attempts: Array<{ ok: boolean }> }>;
      };
      return shown.deliveries.map((d) => [d.key, d.status, d.attempts.map((a) => a.ok)]);
    };
    // The failed attempt recorded (a node killed between the receiver's answer and its record would send
    // the delivery again all the same, under the same key, with one attempt fewer in its history).
    await eventually(
      async () => ((await deliveries())[0]?.[2] as boolean[] | undefined)?.length === 1 || undefined,
    );
    await notifier.kill();
    try {
      hookStatus = 200;
      const delivered = await eventually(
        () => hooks.find((h) => h.devices.includes(gauge) && h.answered === 200),
        30_000,
      );
      expect(delivered.key).toBe(failed.key);
      const survivor = await notifierNode();
      expect(survivor).not.toBe(notifier);
      expect(await deliveries()).toEqual([[failed.key, 'delivered', [false, true]]]);
      expect(hooks.filter((h) => h.key === failed.key).map((h) => h.answered)).toEqual([503, 200]);
    } finally {
      await notifier.start();
      await cluster.nodesUp(3);
    }
  });

  it('sends a command asked through one node to a lamp connected to another, which records its answer', async () => {
    const id = 'sl-cl-hung-vuong';
    const [there, asked] = cluster.nodes;
    const lamp = await connectToNode(there!, { clientId: id, username: id, password: secrets.get(id) });
    const received: Array<{ id: number; type: string }> = [];
    lamp.on('message', (topic, payload) => {
      const command = JSON.parse(payload.toString()) as { id: number; type: string };
      received.push(command);
      void lamp.publishAsync(`${topic}/ack`, JSON.stringify({ id: command.id, result: 'done' }), { qos: 1 });
    });
    await lamp.subscribeAsync(`city/streetlight/${id}/commands`, { qos: 1 });
    const res = await api('POST', `${asked!.apiUrl}/api/commands`, {
      target: { device: id },
      type: 'set_dim',
      params: { level_pct: 40 },
    });
    expect(res.status).toBe(202);
    const [queued] = (res.body as { commands: Array<{ id: number }> }).commands;
    const state = async () =>
      (
        (await api('GET', `${asked!.apiUrl}/api/commands/${queued!.id}`)).body as {
          command: { state: string };
        }
      ).command.state;
    await eventually(async () => ((await state()) === 'acknowledged' ? true : undefined), 10_000);
    expect(received).toEqual([expect.objectContaining({ id: queued!.id, type: 'set_dim' })]);
    await lamp.endAsync();
  });

  it("lists a message one node refused through another node's API, with the refusing node's name", async () => {
    const [refusing, asked] = cluster.nodes;
    const id = 'aq-cl-0007';
    const device = await connectToNode(refusing!, { clientId: id, username: id, password: secrets.get(id) });
    await device.publishAsync(`city/air_quality/${id}/telemetry`, '{"pm25": 12,', { qos: 1 });
    await device.endAsync();
    const listed = await eventually(async () => {
      const { body } = await api('GET', `${asked!.apiUrl}/api/dead-letters?source=${id}`);
      const letters = (body as { deadLetters: Array<{ node?: string; code: string }> }).deadLetters;
      return letters.length > 0 ? letters : undefined;
    }, 10_000);
    expect(listed.map((l) => [l.node, l.code])).toEqual([[refusing!.id, 'INGEST_ERR_JSON']]);
  });
});

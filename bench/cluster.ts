// `npm run bench:cluster`: readings stored per second by the platform alone and by clusters of 1, 2 and 3
// nodes behind HAProxy on Redis and PostgreSQL, all on this machine against one InfluxDB of the benchmark's
// own, with the CPU time each process spent per 1,000 readings. Each configuration gets the same work:
// D devices, each connected through the front (HAProxy, or the single platform's own port), publish R
// QoS 1 readings as fast as they are acknowledged, one at a time; the figure is the readings acknowledged
// divided by the time from the first publish until InfluxDB holds every one of them. The machine's cores
// are shared by every process (nodes, HAProxy, Redis, influxd, and this one, which plays the devices), so
// the CPU per reading is the figure that carries to machines of their own. With two nodes or more, the
// last node is then killed with SIGKILL and the time until the survivors hold every partition of the
// device space (their rules evaluated again, alerts/partitions.ts) is measured. A dev tool, not a test.
//
//   npm run bench:cluster -- [--devices 300] [--readings 40] [--configs plain,1,2,3] [--markdown]
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import { readCommandLine } from '../cli/index.ts';
import { PARTITIONS } from '../alerts/index.ts';
import { startLocalInfluxd } from '../influx/index.ts';
import { sampleProc } from './proc.ts';
import { machineLine } from './report.ts';
import { startCluster, type TestCluster } from './servers/cluster.ts';

const USAGE = `npm run bench:cluster -- [--devices 300] [--readings 40] [--configs plain,1,2,3] [--markdown]

  --devices N    devices publishing at once (default 300)
  --readings N   QoS 1 readings each device publishes (default 40)
  --configs      which to run: plain (the platform alone, SQLite), 1, 2, 3 (nodes behind HAProxy)
  --markdown     print the table as Markdown`;

const { values } = readCommandLine({
  usage: USAGE,
  options: {
    devices: { type: 'string' },
    readings: { type: 'string' },
    configs: { type: 'string' },
    markdown: { type: 'boolean' },
  },
});
const opts = z
  .object({
    devices: z.coerce.number().int().min(1).max(5_000).default(300),
    readings: z.coerce.number().int().min(1).max(10_000).default(40),
    configs: z
      .string()
      .default('plain,1,2,3')
      .transform((s) => s.split(','))
      .pipe(z.array(z.enum(['plain', '1', '2', '3']))),
    markdown: z.boolean().default(false),
  })
  .parse(values);

interface Result {
  readonly config: string;
  readonly readings: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** CPU ms per 1,000 readings, by process. */
  readonly cpu: ReadonlyArray<{ name: string; msPer1000: number }>;
  /** Seconds from a node's SIGKILL until the others hold all its partitions (two nodes or more). */
  readonly moveSeconds?: number;
}

/** How many partitions the nodes say they hold, in all (a node down says nothing). */
async function partitionsHeld(nodes: TestCluster['nodes']): Promise<number> {
  let held = 0;
  for (const node of nodes) {
    const health = await fetch(`${node.apiUrl}/health`)
      .then((r) => r.json() as Promise<{ cluster?: { partitions?: number[] } }>)
      .catch(() => undefined);
    held += health?.cluster?.partitions?.length ?? 0;
  }
  return held;
}

/** Kills the last node and waits until the others hold every partition; the seconds it took. */
async function partitionMove(cluster: TestCluster): Promise<number> {
  const survivors = cluster.nodes.slice(0, -1);
  while ((await partitionsHeld(cluster.nodes)) < PARTITIONS) await new Promise((r) => setTimeout(r, 100));
  const started = performance.now();
  await cluster.nodes.at(-1)!.kill();
  while ((await partitionsHeld(survivors)) < PARTITIONS) await new Promise((r) => setTimeout(r, 50));
  return (performance.now() - started) / 1000;
}

async function api(cluster: TestCluster, method: string, url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function storedCount(influxUrl: string, db: string): Promise<number> {
  const q = encodeURIComponent(`SELECT count(pm25) FROM air_quality WHERE device =~ /^aq-bench-/`);
  const res = await fetch(`${influxUrl}/query?db=${db}&q=${q}`);
  const body = (await res.json()) as { results: Array<{ series?: Array<{ values: unknown[][] }> }> };
  return Number(body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
}

async function run(config: string, influxUrl: string): Promise<Result> {
  const nodes = config === 'plain' ? 1 : Number(config);
  const cluster = await startCluster({
    nodes,
    influxUrl,
    plain: config === 'plain',
    // No rules, health points or status rounds in the measured window: the figure is the reading path.
    env: { CITY_HEALTH_INTERVAL_MS: '3600000', CITY_STATUS_INTERVAL_MS: '3600000' },
  });
  const clients: MqttClient[] = [];
  try {
    await cluster.nodesUp(nodes);
    const devices = Array.from({ length: opts.devices }, (_, i) => ({
      id: `aq-bench-${String(i).padStart(5, '0')}`,
      kind: 'air_quality',
      name: `Trạm ${i}`,
      district: 'Thuận Hóa',
      location: { lat: 16.4637, lon: 107.5909 },
    }));
    const made = (await api(cluster, 'POST', `${cluster.apiUrl}/api/devices/bulk`, { devices })) as {
      devices: Array<{ id: string; secret: string }>;
    };
    for (const d of made.devices)
      clients.push(
        await mqtt.connectAsync(cluster.mqttUrl, {
          clientId: d.id,
          username: d.id,
          password: d.secret,
          protocolVersion: 4,
          reconnectPeriod: 0,
        }),
      );
    await new Promise((r) => setTimeout(r, 1_000));
    const before = cluster.processes().map((p) => ({ ...p, cpuMs: sampleProc(p.pid)?.cpuMs ?? 0 }));
    const started = performance.now();
    const t0 = Date.now() - 3_600_000;
    let acked = 0;
    await Promise.all(
      clients.map(async (client, n) => {
        const id = client.options.clientId!;
        for (let i = 0; i < opts.readings; i++) {
          const ts = t0 + i * 1_000 + n;
          await client.publishAsync(`city/air_quality/${id}/telemetry`, JSON.stringify({ ts, pm25: i }), {
            qos: 1,
          });
          acked++;
        }
      }),
    );
    for (;;) {
      if ((await storedCount(influxUrl, cluster.db)) >= acked) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = before.map((p) => ({
      name: p.name,
      msPer1000: (((sampleProc(p.pid)?.cpuMs ?? p.cpuMs) - p.cpuMs) / acked) * 1000,
    }));
    const moveSeconds = nodes >= 2 && config !== 'plain' ? await partitionMove(cluster) : undefined;
    return { config, readings: acked, seconds, perSecond: acked / seconds, cpu, moveSeconds };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await cluster.stop();
  }
}

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-cluster-'));
const influxd = await startLocalInfluxd({ dataDir: dir, port: 0 });
const results: Result[] = [];
try {
  for (const config of opts.configs) {
    process.stderr.write(`${config === 'plain' ? 'the platform alone' : `${config} node(s)`}… `);
    const r = await run(config, influxd.url);
    process.stderr.write(`${Math.round(r.perSecond)} readings/s\n`);
    results.push(r);
  }
} finally {
  await influxd.stop();
  await fs.rm(dir, { recursive: true, force: true });
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const header = [
  'configuration',
  'readings',
  'seconds',
  'stored/s',
  'CPU ms per 1,000 readings',
  'partitions moved after a SIGKILL',
];
const rows = results.map((r) => [
  r.config === 'plain' ? 'the platform alone (SQLite, no Redis)' : `${r.config} node(s) behind HAProxy`,
  fmt(r.readings),
  fmt(r.seconds, 1),
  fmt(r.perSecond),
  r.cpu.map((c) => `${c.name} ${fmt(c.msPer1000, 1)}`).join(', ') +
    ` (total ${fmt(
      r.cpu.reduce((n, c) => n + c.msPer1000, 0),
      1,
    )})`,
  r.moveSeconds === undefined ? '–' : `${fmt(r.moveSeconds, 1)} s`,
]);
console.log(`${machineLine()}; ${opts.devices} devices × ${opts.readings} QoS 1 readings each\n`);
if (opts.markdown) {
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
} else {
  for (const row of rows) console.log(row.join('  ·  '));
}

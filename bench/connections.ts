// `npm run bench -- --connections`: what connections cost the platform, in three phases against one
// platform process, while a few devices already connected publish QoS 1 readings and their PUBACK latency
// is taken per phase:
//
//   storm   N devices connect at once, as after a platform restart: time until all are connected (a
//           refused or dropped attempt is retried after a short pause, as a device would);
//   idle    the N devices stay connected and silent: the platform's RSS and heap per device, each after
//           a full garbage collection, against the same figures before the storm;
//   flood   wrong-password CONNECTs at a steady rate from many loopback addresses, half for real
//           device ids, half for made-up ones, with the failed-attempt limits raised so every one is
//           checked: the cost of checking, which the limits only cut further.
//
// This process is the load generator (raw sockets through mqtt-packet, simulators/load-conn.ts); the
// platform runs in a process of its own (bench/run-platform.ts). A process here may hold at most
// `ulimit -n` files, so N is bounded below it.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import mqttPacket from 'mqtt-packet';
import { startLocalInfluxd } from '../influx/index.ts';
import {
  createLatencyHistogram,
  createLoadConn,
  type LatencyHistogram,
  type LatencySummary,
  type LoadConn,
} from '../simulators/index.ts';
import { ms, READY_TIMEOUT_MS, thousands } from './drive.ts';
import { forkChild, SutMessage, type Child, type Device } from './ipc.ts';
import { benchFields } from './workload.ts';

export interface ConnectionOptions {
  /** Devices connecting at once in the storm, then idle. */
  readonly storm: number;
  /** Devices connected before the storm, publishing throughout. */
  readonly working: number;
  /** Readings per second of each working device. */
  readonly workingRate: number;
  /** Wrong-password CONNECTs in the flood, and over how many seconds. */
  readonly flood: number;
  readonly floodSeconds: number;
  /** Seconds of the baseline, before the storm. */
  readonly baselineSeconds: number;
  readonly progress: (line: string) => void;
}

export interface ConnectionResult {
  readonly storm: { readonly devices: number; readonly allConnectedMs: number; readonly retries: number };
  readonly memory: {
    readonly before: Memory;
    readonly after: Memory;
    readonly rssPerDeviceKb: number;
    readonly heapPerDeviceKb: number;
  };
  readonly flood: {
    readonly attempts: number;
    readonly seconds: number;
    readonly codes: Record<string, number>;
  };
  /** PUBACK latency of the working devices, per phase. */
  readonly puback: { readonly baseline: Latency; readonly storm: Latency; readonly flood: Latency };
  readonly working: { readonly devices: number; readonly ratePerSecond: number };
}

type Memory = { readonly rssKb: number; readonly heapUsedKb: number };
type Latency = LatencySummary;

/** Keep in step with the `start` script in package.json; --expose-gc so memory is measured after a GC. */
const NODE_FLAGS = ['--max-semi-space-size=64', '--expose-gc'];
const LOOPBACK = '127.0.0.1';
/** How long the storm may take before the run gives up on it. */
const STORM_DEADLINE_MS = 180_000;
/** A device whose CONNECT failed tries again after this, plus up to as much again at random. */
const RETRY_MS = 500;
/** After the storm, before memory is measured: sockets settle, timers run once. */
const IDLE_MS = 5_000;

/** Loopback source addresses (any of 127.0.0.0/8 reaches 127.0.0.1), so no one address runs out of ports. */
const sourceAddress = (block: number, i: number) => `127.0.${block}.${2 + (i % 250)}`;

export async function runConnections(opts: ConnectionOptions, workDir: string): Promise<ConnectionResult> {
  const influxd = await startLocalInfluxd({ dataDir: path.join(workDir, 'influxdb'), port: 0 });
  const count = opts.working + opts.storm;
  const sut = forkChild(
    'run-platform.ts',
    {
      influxUrl: influxd.url,
      db: 'bench_connections',
      dataDir: path.join(workDir, 'platform'),
      devices: count,
      trace: false,
      probe: false,
      // Every wrong password is checked in the flood: the limits would refuse most of them unchecked.
      env: {
        CITY_MQTT_AUTH_FAILURES_PER_ADDRESS: '1000000000',
        CITY_MQTT_AUTH_FAILURES_PER_USER: '1000000000',
      },
    },
    SutMessage,
    NODE_FLAGS,
  );
  try {
    opts.progress(`platform: starting, provisioning ${thousands(count)} devices`);
    const ready = await sut.next((m) => (m.type === 'ready' ? m : undefined), READY_TIMEOUT_MS, 'ready');
    const working = ready.devices.slice(0, opts.working);
    const stormDevices = ready.devices.slice(opts.working);
    const publisher = await startWorking(ready.port, working, opts.workingRate);
    opts.progress(
      `${working.length} devices publishing ${opts.workingRate}/s each; baseline ${opts.baselineSeconds} s`,
    );
    await sleep(opts.baselineSeconds * 1000);
    const baseline = publisher.phase();
    const before = await memoryOf(sut);

    opts.progress(`storm: ${thousands(stormDevices.length)} devices connecting at once`);
    const storm = await connectStorm(ready.port, stormDevices, opts.progress);
    const stormLatency = publisher.phase();
    await sleep(IDLE_MS);
    const after = await memoryOf(sut);
    publisher.phase(); // the idle phase's latencies are not reported

    opts.progress(`flood: ${thousands(opts.flood)} wrong-password CONNECTs over ${opts.floodSeconds} s`);
    const codes = await flood(ready.port, stormDevices, opts.flood, opts.floodSeconds);
    const floodLatency = publisher.phase();

    publisher.stop();
    for (const c of storm.conns) c.close();
    const result = sut.next((m) => (m.type === 'result' ? m : undefined), 60_000, 'result');
    sut.stop();
    await result;
    const n = stormDevices.length;
    return {
      storm: { devices: n, allConnectedMs: storm.ms, retries: storm.retries },
      memory: {
        before,
        after,
        rssPerDeviceKb: (after.rssKb - before.rssKb) / n,
        heapPerDeviceKb: (after.heapUsedKb - before.heapUsedKb) / n,
      },
      flood: { attempts: opts.flood, seconds: opts.floodSeconds, codes },
      puback: { baseline, storm: stormLatency, flood: floodLatency },
      working: { devices: working.length, ratePerSecond: opts.workingRate * working.length },
    };
  } finally {
    sut.process.kill('SIGKILL');
    await sut.exited;
    await influxd.stop();
  }
}

async function memoryOf(sut: Child<SutMessage>): Promise<Memory> {
  const answer = sut.next((m) => (m.type === 'memory' ? m : undefined), 30_000, 'memory');
  sut.memory();
  const { rssKb, heapUsedKb } = await answer;
  return { rssKb, heapUsedKb };
}

/** The working devices: connected now, each publishing `rate` QoS 1 readings a second until stopped. */
async function startWorking(port: number, devices: readonly Device[], rate: number) {
  let histogram: LatencyHistogram = createLatencyHistogram();
  const conns = devices.map((d, i) => {
    const sent = new Map<number, number>();
    const conn = createLoadConn({
      ...{ host: LOOPBACK, port, localAddress: sourceAddress(0, i), id: d.id, secret: d.secret },
      keepaliveS: 60,
      connectTimeoutMs: 10_000,
      onPuback(id) {
        const at = sent.get(id);
        if (at === undefined) return;
        sent.delete(id);
        histogram.record(performance.now() - at);
      },
      onLost: () => undefined,
    });
    return { conn, sent, topic: `city/air_quality/${d.id}/telemetry`, nextId: 0, seq: 0 };
  });
  const outcomes = await Promise.all(conns.map((c) => c.conn.connect()));
  if (outcomes.some((o) => o !== 'accepted'))
    throw new Error(`working devices not connected: ${outcomes.join(', ')}`);
  const timer = setInterval(() => {
    for (const c of conns) {
      c.nextId = (c.nextId % 65_535) + 1;
      const payload = JSON.stringify({ ...benchFields(c.seq++), ts: Date.now() });
      c.sent.set(c.nextId, performance.now());
      c.conn.write(
        mqttPacket.generate({
          ...{ cmd: 'publish', topic: c.topic, payload, qos: 1, messageId: c.nextId },
          ...{ retain: false, dup: false },
        }),
      );
    }
  }, 1000 / rate);
  return {
    /** The latencies since the previous call (a PUBACK still missing at the end counts as it arrives). */
    phase(): LatencySummary {
      const summary = histogram.summary();
      histogram = createLatencyHistogram();
      return summary;
    },
    stop() {
      clearInterval(timer);
      for (const c of conns) c.conn.close();
    },
  };
}

/** Every device connects at once; a refused or dropped attempt is retried. */
async function connectStorm(port: number, devices: readonly Device[], progress: (line: string) => void) {
  const started = performance.now();
  let connected = 0;
  let retries = 0;
  const ticker = setInterval(() => progress(`storm: ${thousands(connected)} connected`), 2_000);
  const conns: LoadConn[] = [];
  try {
    await Promise.all(
      devices.map(async (d, i) => {
        const conn = createLoadConn({
          ...{
            host: LOOPBACK,
            port,
            localAddress: sourceAddress(1 + (i % 50), i),
            id: d.id,
            secret: d.secret,
          },
          keepaliveS: 600,
          connectTimeoutMs: 10_000,
          onPuback: () => undefined,
          onLost: () => undefined,
        });
        conns.push(conn);
        while ((await conn.connect()) !== 'accepted') {
          if (performance.now() - started > STORM_DEADLINE_MS) throw new Error(`${d.id} never connected`);
          retries++;
          await sleep(RETRY_MS * (1 + Math.random()));
        }
        connected++;
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  return { ms: performance.now() - started, retries, conns };
}

/** `count` wrong-password CONNECTs spread evenly over `seconds`; the CONNACK return codes, counted. */
async function flood(port: number, devices: readonly Device[], count: number, seconds: number) {
  const codes: Record<string, number> = {};
  const gapMs = (seconds * 1000) / count;
  const started = performance.now();
  const attempts: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const wait = started + i * gapMs - performance.now();
    if (wait > 0) await sleep(wait);
    const id = i % 2 === 0 ? (devices[i % devices.length]?.id ?? `nobody-${i}`) : `nobody-${i}`;
    const conn = createLoadConn({
      ...{
        host: LOOPBACK,
        port,
        localAddress: sourceAddress(60 + (i % 100), i),
        id,
        secret: 'not-the-secret',
      },
      keepaliveS: 60,
      connectTimeoutMs: 30_000,
      onPuback: () => undefined,
      onLost: () => undefined,
    });
    attempts.push(
      conn.connect().then((outcome) => {
        codes[outcome] = (codes[outcome] ?? 0) + 1;
        conn.close();
      }),
    );
  }
  await Promise.all(attempts);
  return codes;
}

const latencyText = (l: LatencySummary) =>
  l.count === 0 ? '–' : `p50 ${ms(l.p50)}, p99 ${ms(l.p99)}, max ${ms(l.max)} (${thousands(l.count)})`;
const kib = (kb: number) => `${kb.toFixed(1)} KiB`;

/** The result as lines of text, or as Markdown for BENCHMARKS.md. */
export function connectionReport(r: ConnectionResult, markdown: boolean): string {
  const n = thousands(r.storm.devices);
  const rate = thousands(r.storm.devices / (r.storm.allConnectedMs / 1000));
  const codes = Object.entries(r.flood.codes)
    .map(([outcome, count]) => `${thousands(count)} ${outcome}`)
    .join(', ');
  const rows: Array<[string, string]> = [
    [
      `storm: ${n} devices connecting at once`,
      `all connected in ${(r.storm.allConnectedMs / 1000).toFixed(1)} s (${rate}/s), ${thousands(r.storm.retries)} retries`,
    ],
    [
      `idle: memory per connected device`,
      `RSS ${kib(r.memory.rssPerDeviceKb)}, heap ${kib(r.memory.heapPerDeviceKb)} (RSS ${Math.round(r.memory.before.rssKb / 1024)} → ${Math.round(r.memory.after.rssKb / 1024)} MiB, heap ${Math.round(r.memory.before.heapUsedKb / 1024)} → ${Math.round(r.memory.after.heapUsedKb / 1024)} MiB)`,
    ],
    [
      `flood: ${thousands(r.flood.attempts)} wrong-password CONNECTs over ${r.flood.seconds} s, each checked`,
      codes,
    ],
    [
      `PUBACK, ${r.working.devices} connected devices at ${r.working.ratePerSecond}/s: before`,
      latencyText(r.puback.baseline),
    ],
    [`PUBACK during the storm`, latencyText(r.puback.storm)],
    [`PUBACK during the flood`, latencyText(r.puback.flood)],
  ];
  if (!markdown) return rows.map(([what, value]) => `${what}: ${value}`).join('\n');
  return [
    '| what | measured |',
    '| --- | --- |',
    ...rows.map(([what, value]) => `| ${what} | ${value} |`),
  ].join('\n');
}

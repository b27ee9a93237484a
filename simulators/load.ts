// The benchmark's load generator: many device connections publishing at a total target rate, spread
// evenly over the devices by a token bucket, with a bounded window of unacknowledged QoS 1 messages per
// connection, measuring PUBLISH → PUBACK latency. Loopback only: it is a test tool, not a flood gun.
import mqttPacket from 'mqtt-packet';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { createTopics, type Kind, type Topics } from '../devices/index.ts';
import { SimError } from './errors.ts';
import { createLatencyHistogram, type LatencySummary } from './histogram.ts';
import { createLoadConn, type LoadConn } from './load-conn.ts';

export interface LoadDevice {
  readonly id: string;
  readonly kind: Kind;
  readonly secret: string;
}

export interface LoadPublish {
  /** The message's sequence number over the whole run, from 0: the `i` given to `payload`. */
  readonly seq: number;
  readonly device: string;
  /** Wall-clock time the PUBLISH was handed to the socket, epoch ms with sub-ms precision. */
  readonly publishedAt: number;
}

export interface LoadOptions {
  /** 127.0.0.1, ::1 or localhost. */
  readonly host: string;
  readonly port: number;
  readonly devices: readonly LoadDevice[];
  /** Total publishes per second over all devices. */
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly qos: 0 | 1;
  /** The payload of message `i` (the caller decides what it carries, e.g. `i` in a numeric field). */
  payload(i: number, device: LoadDevice): string | Buffer;
  readonly topics?: Topics;
  /** Unacknowledged QoS 1 messages allowed per connection. Default 1000. */
  readonly maxInFlight?: number;
  /** After `durationMs`, how long to wait for outstanding PUBACKs. Default 5 s. */
  readonly drainMs?: number;
  /** Connections opened at once while ramping up. Default 100. */
  readonly connectConcurrency?: number;
  readonly onPublish?: (p: LoadPublish) => void;
  readonly onAck?: (seq: number, latencyMs: number) => void;
}

export interface LoadResult {
  readonly connected: number;
  readonly sent: number;
  readonly acked: number;
  /** CONNACK with a non-zero return code. */
  readonly refused: number;
  /** Connections closed by the other side, before or after CONNACK. */
  readonly closed: number;
  /** Ticks at which the token bucket had tokens but every connection's window was full. */
  readonly stalls: number;
  /** Time spent publishing, ms. */
  readonly durationMs: number;
  readonly ackLatency: LatencySummary;
}

const TICK_MS = 2;
/** The bucket holds at most 100 ms of tokens: a stalled loop does not turn into a burst. */
const BURST_S = 0.1;
/** Above this many queued bytes a QoS 0 connection skips its turn. */
const QOS0_HIGH_WATER = 1 << 20;
const MAX_PACKET_ID = 65_535;

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}

interface Conn {
  readonly device: LoadDevice;
  readonly conn: LoadConn;
  /** packet id → [sequence number, performance.now() at publish] */
  readonly inFlight: Map<number, readonly [number, number]>;
  nextId: number;
}

async function connectAll(
  opts: LoadOptions,
  conns: Conn[],
  counts: { refused: number; closed: number },
): Promise<Conn[]> {
  const concurrency = opts.connectConcurrency ?? 100;
  const up: Conn[] = [];
  for (let i = 0; i < conns.length; i += concurrency) {
    const batch = conns.slice(i, i + concurrency);
    const outcomes = await Promise.all(batch.map((c) => c.conn.connect()));
    outcomes.forEach((o, k) => {
      const c = batch[k];
      if (o === 'accepted' && c) up.push(c);
      else if (o === 'refused') counts.refused++;
      else counts.closed++;
    });
  }
  return up;
}

function nextPacketId(c: Conn): number {
  do c.nextId = c.nextId >= MAX_PACKET_ID ? 1 : c.nextId + 1;
  while (c.inFlight.has(c.nextId));
  return c.nextId;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  if (!isLoopback(opts.host)) throw new SimError('SIM_ERR_NOT_LOOPBACK', `refusing to load ${opts.host}`);
  if (!(opts.ratePerSecond > 0) || !(opts.durationMs > 0)) {
    throw new SimError('SIM_ERR_CONFIG', 'ratePerSecond and durationMs must be positive');
  }
  const topics = opts.topics ?? createTopics();
  const maxInFlight = Math.min(opts.maxInFlight ?? 1000, MAX_PACKET_ID - 1);
  const latency = createLatencyHistogram();
  const counts = { sent: 0, acked: 0, refused: 0, closed: 0, stalls: 0 };
  const timeOrigin = performance.timeOrigin;

  const all: Conn[] = opts.devices.map((device) => {
    const c: Conn = {
      device,
      inFlight: new Map(),
      nextId: 0,
      conn: createLoadConn({
        host: opts.host,
        port: opts.port,
        id: device.id,
        secret: device.secret,
        keepaliveS: 60,
        connectTimeoutMs: 10_000,
        onPuback(id) {
          const entry = c.inFlight.get(id);
          if (!entry) return;
          c.inFlight.delete(id);
          const ms = performance.now() - entry[1];
          counts.acked++;
          latency.record(ms);
          opts.onAck?.(entry[0], ms);
        },
        onLost: () => void counts.closed++,
      }),
    };
    return c;
  });

  const conns = await connectAll(opts, all, counts);
  const topicOf = new Map(conns.map((c) => [c, topics.telemetry(c.device.kind, c.device.id)]));
  let seq = 0;
  let cursor = 0;
  let tokens = 0;
  const started = performance.now();
  let last = started;
  let stopped = started;

  /** Publishes one message on the next connection with room; false when none has room. */
  function publishOne(now: number, out: Map<Conn, Buffer[]>): boolean {
    for (let tried = 0; tried < conns.length; tried++) {
      const c = conns[cursor];
      cursor = (cursor + 1) % conns.length;
      if (!c || !c.conn.alive()) continue;
      if (opts.qos === 1 ? c.inFlight.size >= maxInFlight : c.conn.queued() > QOS0_HIGH_WATER) continue;
      const i = seq++;
      const messageId = opts.qos === 1 ? nextPacketId(c) : undefined;
      const packet = mqttPacket.generate({
        cmd: 'publish',
        topic: topicOf.get(c) ?? '',
        payload: opts.payload(i, c.device),
        qos: opts.qos,
        dup: false,
        retain: false,
        ...(messageId === undefined ? {} : { messageId }),
      });
      if (messageId !== undefined) c.inFlight.set(messageId, [i, now]);
      const bufs = out.get(c);
      if (bufs) bufs.push(packet);
      else out.set(c, [packet]);
      counts.sent++;
      opts.onPublish?.({ seq: i, device: c.device.id, publishedAt: timeOrigin + now });
      return true;
    }
    return false;
  }

  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (now - started >= opts.durationMs || conns.every((c) => !c.conn.alive())) {
        clearInterval(timer);
        stopped = now;
        resolve();
        return;
      }
      tokens = Math.min(
        tokens + (opts.ratePerSecond * (now - last)) / 1000,
        Math.max(1, opts.ratePerSecond * BURST_S),
      );
      last = now;
      const out = new Map<Conn, Buffer[]>();
      while (tokens >= 1) {
        if (!publishOne(now, out)) {
          counts.stalls++;
          break;
        }
        tokens--;
      }
      // One write per connection per tick: fewer syscalls than a write per message.
      for (const [c, bufs] of out) c.conn.write(bufs.length === 1 && bufs[0] ? bufs[0] : Buffer.concat(bufs));
    }, TICK_MS);
  });

  await drain(conns, opts.drainMs ?? 5000);
  for (const c of all) c.conn.close();
  return { connected: conns.length, ...counts, durationMs: stopped - started, ackLatency: latency.summary() };
}

/** Waits until every live connection's window is empty, or `ms` has passed. */
function drain(conns: readonly Conn[], ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  return new Promise((resolve) => {
    const check = () => {
      const pending = conns.some((c) => c.conn.alive() && c.inFlight.size > 0);
      if (!pending || performance.now() >= deadline) resolve();
      else setTimeout(check, 10);
    };
    check();
  });
}

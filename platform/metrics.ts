// Prometheus metrics. Components report through narrow interfaces of their own (IngestMetrics,
// BrokerMetrics, FlowMetrics); this module maps them onto prom-client, so no component depends on it.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BrokerErrorCode, BrokerMetrics } from '../broker/index.ts';
import { KINDS, type Kind } from '../devices/index.ts';
import type { IngestErrorCode, IngestMetrics } from '../ingest/index.ts';
import type { FlowMetrics } from '../flows/index.ts';

/** Counts since start, read from the counters above (the periodic health report subtracts the previous). */
export interface MetricTotals {
  /** Readings accepted and durable in the spool. */
  readonly readings: number;
  /** Lines InfluxDB confirmed. */
  readonly stored: number;
  /** InfluxDB writes that failed (and were retried). */
  readonly writeFailures: number;
  /** Messages refused by ingest, per kind and reason code. */
  readonly rejected: ReadonlyArray<{
    readonly kind: string;
    readonly reason: string;
    readonly count: number;
  }>;
}

/** How late the event loop ran since the previous takeEventLoopLag, ms. */
export interface EventLoopLag {
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** InfluxDB batch confirm times gathered since the previous takeWriteTimes. */
export interface WriteTimes {
  readonly batches: number;
  readonly sumMs: number;
  /** 0 when no batch was confirmed. */
  readonly maxMs: number;
}

export interface PlatformMetrics {
  readonly registry: Registry;
  readonly ingest: IngestMetrics;
  readonly broker: BrokerMetrics;
  readonly flows: FlowMetrics;
  /** Decoded readings published for flows (only while someone subscribes to them). */
  readingsPublished(count: number): void;
  readingsStored(lines: number, writeMs: number): void;
  writeFailed(): void;
  /** The spool writer failed to read or confirm in the spool (it retries). */
  writerSpoolFailed(stage: 'read' | 'confirm'): void;
  /** A notification delivery attempt, by receiver type and what became of the delivery. */
  notificationAttempt(type: string, outcome: 'delivered' | 'pending' | 'dead'): void;
  /** Gauges read when scraped. */
  observe(sources: {
    spool: () => { pendingBytes: number; pendingLines: number };
    clients: () => number;
    /** Addresses and user names whose CONNECTs are refused unchecked now. */
    blockedAttempts: () => { address: number; user: number };
    /** Whether the spool writer is stuck (its latest attempt failed). */
    writerStuck: () => boolean;
    /** Notification deliveries by status (pending, delivered, dead). */
    deliveries: () => Promise<Readonly<Record<string, number>>>;
  }): void;
  text(): Promise<string>;
  totals(): Promise<MetricTotals>;
  /**
   * The batch confirm times since the previous call, then starts afresh: a maximum cannot be taken as a
   * difference of two totals, so the health report, the one caller, takes them per interval.
   */
  takeWriteTimes(): WriteTimes;
  /** The event loop's lag since the previous call (the health report's interval), then starts afresh. */
  takeEventLoopLag(): EventLoopLag;
  /** Stops sampling the event loop. */
  close(): void;
}

/** How often the event loop is sampled for its lag, ms. */
const LOOP_SAMPLE_MS = 10;

export function createMetrics(): PlatformMetrics {
  const registry = new Registry();
  // What every Prometheus user expects of a Node.js process: CPU, memory, heap, event-loop lag, GC, handles.
  collectDefaultMetrics({ register: registry });
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loopDelay.enable();
  const ingested = new Counter({
    name: 'city_readings_ingested_total',
    help: 'Readings accepted and stored durably in the spool, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'city_messages_rejected_total',
    help: 'Messages refused by ingest (dead-lettered or not acknowledged), by kind and reason code',
    labelNames: ['kind', 'reason'],
    registers: [registry],
  });
  const deadLettersThrottled = new Counter({
    name: 'city_dead_letters_throttled_total',
    help: 'Refused messages not kept as dead letters because their sender was over its budget (60 a minute); each is counted in city_messages_rejected_total all the same',
    registers: [registry],
  });
  const refused = new Counter({
    name: 'city_broker_refused_total',
    help: 'Connections, publishes and subscriptions the broker refused, by code',
    labelNames: ['code'],
    registers: [registry],
  });
  const flowRequests = new Counter({
    name: 'city_flow_requests_total',
    help: 'Alert requests from flows, by action (raise, clear) and outcome (accepted, or the RULES_ERR_FLOW_* code it was dead-lettered with)',
    labelNames: ['action', 'outcome'],
    registers: [registry],
  });
  const flowReadings = new Counter({
    name: 'city_flow_readings_published_total',
    help: 'Decoded readings published on the readings topics for flows (only while a client subscribes to them)',
    registers: [registry],
  });
  const stored = new Counter({
    name: 'city_readings_stored_total',
    help: 'Readings InfluxDB confirmed',
    registers: [registry],
  });
  const notificationAttempts = new Counter({
    name: 'city_notification_attempts_total',
    help: 'Attempts to deliver a notification, by receiver type and outcome: delivered, pending (failed, to be retried) or dead (failed for the last time)',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
  const writeFailures = new Counter({
    name: 'city_influx_write_failures_total',
    help: 'InfluxDB writes that failed and will be retried',
    registers: [registry],
  });
  const writerSpoolFailures = new Counter({
    name: 'city_writer_spool_failures_total',
    help: 'Spool reads and confirmations (checkpoints) the writer failed and retries, by stage',
    labelNames: ['stage'],
    registers: [registry],
  });
  const writeLatency = new Histogram({
    name: 'city_influx_write_duration_seconds',
    help: 'Time for InfluxDB to confirm one batch',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // Label children resolved once: the per-reading path then does one property read and one add.
  const ingestedByKind = Object.fromEntries(KINDS.map((k) => [k, ingested.labels(k)])) as Record<
    Kind,
    Counter
  >;
  // Per batch (not per reading), beside the histogram, which keeps no maximum.
  let writes = { batches: 0, sumMs: 0, maxMs: 0 };

  return {
    registry,
    ingest: {
      readingsAccepted: (kind: Kind, count: number) => ingestedByKind[kind].inc(count),
      messageRejected: (kind: Kind | 'unknown', code: IngestErrorCode) => rejected.labels(kind, code).inc(),
      deadLetterThrottled: () => deadLettersThrottled.inc(),
    },
    broker: { refused: (code: BrokerErrorCode) => refused.labels(code).inc() },
    flows: { request: (action, outcome) => flowRequests.labels(action, outcome).inc() },
    readingsPublished: (count) => flowReadings.inc(count),
    readingsStored(lines, writeMs) {
      stored.inc(lines);
      writeLatency.observe(writeMs / 1000);
      writes.batches++;
      writes.sumMs += writeMs;
      if (writeMs > writes.maxMs) writes.maxMs = writeMs;
    },
    writeFailed: () => writeFailures.inc(),
    notificationAttempt: (type, outcome) => notificationAttempts.labels(type, outcome).inc(),
    writerSpoolFailed: (stage) => writerSpoolFailures.labels(stage).inc(),
    observe(sources) {
      new Gauge({
        name: 'city_notification_deliveries',
        help: 'Notification deliveries kept, by status: pending (waiting or retrying), delivered, dead (gave up after the last attempt)',
        labelNames: ['status'],
        registers: [registry],
        // A store that cannot be read now (PostgreSQL away) leaves the figures last read.
        async collect() {
          const counts = await sources.deliveries().catch(() => ({}));
          for (const [status, count] of Object.entries(counts)) this.labels(status).set(count);
        },
      });
      new Gauge({
        name: 'city_writer_stuck',
        help: '1 while the spool writer is stuck (InfluxDB, or the spool, failing), 0 when it moves',
        registers: [registry],
        collect() {
          this.set(sources.writerStuck() ? 1 : 0);
        },
      });
      new Gauge({
        name: 'city_spool_pending_bytes',
        help: 'Bytes in the spool not yet confirmed by InfluxDB',
        registers: [registry],
        collect() {
          this.set(sources.spool().pendingBytes);
        },
      });
      new Gauge({
        name: 'city_spool_pending_readings',
        help: 'Readings in the spool not yet confirmed by InfluxDB',
        registers: [registry],
        collect() {
          this.set(sources.spool().pendingLines);
        },
      });
      new Gauge({
        name: 'city_mqtt_connected_clients',
        help: 'MQTT clients connected (devices, gateways, service accounts)',
        registers: [registry],
        collect() {
          this.set(sources.clients());
        },
      });
      new Gauge({
        name: 'city_broker_blocked',
        help: 'Client addresses (by="address") and user names (by="user") blocked after failed CONNECTs',
        labelNames: ['by'],
        registers: [registry],
        collect() {
          const blocked = sources.blockedAttempts();
          this.labels('address').set(blocked.address);
          this.labels('user').set(blocked.user);
        },
      });
    },
    text: () => registry.metrics(),
    async totals() {
      const sum = (m: { values: ReadonlyArray<{ value: number }> }) =>
        m.values.reduce((n, v) => n + v.value, 0);
      const [accepted, storedLines, failures, refusedByIngest] = await Promise.all([
        ingested.get(),
        stored.get(),
        writeFailures.get(),
        rejected.get(),
      ]);
      return {
        readings: sum(accepted),
        stored: sum(storedLines),
        writeFailures: sum(failures),
        rejected: refusedByIngest.values.map((v) => ({
          kind: String(v.labels.kind),
          reason: String(v.labels.reason),
          count: v.value,
        })),
      };
    },
    takeEventLoopLag() {
      // The histogram holds the time between two samples, in nanoseconds: the sampling period and the
      // lag. The lag is what is beyond the period (none when nothing was sampled).
      const late = (ns: number) => (loopDelay.count === 0 ? 0 : Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS));
      const lag = { p99Ms: late(loopDelay.percentile(99)), maxMs: late(loopDelay.max) };
      loopDelay.reset();
      return lag;
    },
    close: () => loopDelay.disable(),
    takeWriteTimes() {
      const taken = writes;
      writes = { batches: 0, sumMs: 0, maxMs: 0 };
      return taken;
    },
  };
}

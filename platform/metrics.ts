// Prometheus metrics. Components report through narrow interfaces of their own (IngestMetrics,
// BrokerMetrics); this module maps them onto prom-client, so no component depends on it.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BrokerErrorCode, BrokerMetrics } from '../broker/index.ts';
import { KINDS, type Kind } from '../devices/index.ts';
import type { IngestErrorCode, IngestMetrics } from '../ingest/index.ts';

export interface PlatformMetrics {
  readonly registry: Registry;
  readonly ingest: IngestMetrics;
  readonly broker: BrokerMetrics;
  readingsStored(lines: number, writeMs: number): void;
  writeFailed(): void;
  /** Gauges read when scraped. */
  observe(sources: {
    spool: () => { pendingBytes: number; pendingLines: number };
    clients: () => number;
  }): void;
  text(): Promise<string>;
}

export function createMetrics(): PlatformMetrics {
  const registry = new Registry();
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
  const refused = new Counter({
    name: 'city_broker_refused_total',
    help: 'Connections, publishes and subscriptions the broker refused, by code',
    labelNames: ['code'],
    registers: [registry],
  });
  const stored = new Counter({
    name: 'city_readings_stored_total',
    help: 'Readings InfluxDB confirmed',
    registers: [registry],
  });
  const writeFailures = new Counter({
    name: 'city_influx_write_failures_total',
    help: 'InfluxDB writes that failed and will be retried',
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

  return {
    registry,
    ingest: {
      readingsAccepted: (kind: Kind, count: number) => ingestedByKind[kind].inc(count),
      messageRejected: (kind: Kind | 'unknown', code: IngestErrorCode) => rejected.labels(kind, code).inc(),
    },
    broker: { refused: (code: BrokerErrorCode) => refused.labels(code).inc() },
    readingsStored(lines, writeMs) {
      stored.inc(lines);
      writeLatency.observe(writeMs / 1000);
    },
    writeFailed: () => writeFailures.inc(),
    observe(sources) {
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
    },
    text: () => registry.metrics(),
  };
}

// Where the rules engine's cost goes, measured inside the platform's process without changing it: the time
// spent in the engine's ingest listener (the rule core on every durable reading, and the alert transitions
// it causes), each transition through the alert service (SQLite, then InfluxDB's spool and the MQTT
// publish), and the garbage collector's time, which the rules' allocations add to. Both the engine and the
// alert service are plain objects the platform calls through, so a wrapper sees every call. Two clock
// readings per reading: cheap enough to leave on in both variants, so they carry the same instrumentation.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { Platform } from '../platform/index.ts';
import { createLatencyHistogram } from '../simulators/index.ts';
import { jsonLatency, type JsonLatency } from './workload.ts';

export interface RulesTiming {
  /** Readings the engine was given, and the ms spent in it (transitions included). */
  readonly readings: number;
  readonly engineMs: number;
  /** Each alert transition: the store's transaction, then every sink; and their total, ms (part of
   * `engineMs`). */
  readonly transitions: JsonLatency;
  readonly transitionsMs: number;
  /** Garbage collection, ms, and how many collections. */
  readonly gcMs: number;
  readonly gcCount: number;
}

export function timeRules(platform: Platform): { mark(): void; summary(): RulesTiming } {
  let readings = 0;
  let engineMs = 0;
  let transitions = createLatencyHistogram();
  let transitionsMs = 0;
  const gc = { ms: 0, count: 0 };

  const engine = platform.rules;
  const onReadings = engine.onReadings.bind(engine);
  engine.onReadings = (rs, device) => {
    const t0 = performance.now();
    try {
      onReadings(rs, device);
    } finally {
      engineMs += performance.now() - t0;
      readings += rs.length;
    }
  };
  const alerts = platform.alerts;
  // The engine hands each batch's transitions to the store at once; the time of a batch is spread evenly
  // over its transitions (each is recorded as batch time ÷ count).
  const triggerAll = alerts.triggerAll.bind(alerts);
  alerts.triggerAll = (items) => {
    const t0 = performance.now();
    try {
      return triggerAll(items);
    } finally {
      const ms = performance.now() - t0;
      for (let i = 0; i < items.length; i++) transitions.record(ms / items.length);
      transitionsMs += ms;
    }
  };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.ms += e.duration;
      gc.count++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  return {
    /** Starts the measured window: everything before it (start-up, provisioning) is forgotten. */
    mark() {
      readings = 0;
      engineMs = 0;
      transitions = createLatencyHistogram();
      transitionsMs = 0;
      gc.ms = 0;
      gc.count = 0;
    },
    summary() {
      observer.disconnect();
      return {
        readings,
        engineMs,
        transitions: jsonLatency(transitions.summary()),
        transitionsMs,
        gcMs: gc.ms,
        gcCount: gc.count,
      };
    },
  };
}

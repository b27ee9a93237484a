// `--trace`: where the platform's time goes, measured from inside its process without changing it. Wraps
// the methods of the spool and InfluxDB client the platform exposes (both call through their objects, so
// a wrapper sees every call), the fs calls the spool's group commit makes, and adds Node's event-loop
// delay and GC observers. Benchmark instrumentation only: the wrappers cost a little time themselves.
import fs from 'node:fs';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import type { Platform } from '../platform/index.ts';
import { createLatencyHistogram, type LatencyHistogram } from '../simulators/index.ts';
import { BENCH_MEASUREMENT, forEachLineTime } from './workload.ts';

interface Stage {
  /** One call at a time (the writer's loop): its total time is a share of the run. */
  readonly serial: boolean;
  readonly latency: LatencyHistogram;
  count: number;
  totalMs: number;
  bytes: number;
}

const stage = (serial = false): Stage => ({
  serial,
  latency: createLatencyHistogram(),
  count: 0,
  totalMs: 0,
  bytes: 0,
});

function record(s: Stage, ms: number, bytes = 0): void {
  s.latency.record(ms);
  s.count++;
  s.totalMs += ms;
  s.bytes += bytes;
}

const LOOP_RESOLUTION_MS = 10;

export interface Tracer {
  /** One line per stage, for the report. */
  lines(windowMs: number): string[];
}

export function tracePlatform(platform: Platform): Tracer {
  const stages = {
    'spool append → durable (PUBACK may go)': stage(),
    'group commit: fs.write': stage(true),
    'group commit: fdatasync': stage(true),
    'writer: spool.read': stage(true),
    'writer: InfluxDB POST': stage(true),
    'writer: spool.confirm (checkpoint + datasync)': stage(true),
  };
  // Age of a reading (now − its ts, the publish time) as it passes each point of the path.
  const age = {
    'publish → appended to the spool': createLatencyHistogram(),
    'publish → durable in the spool': createLatencyHistogram(),
    'publish → read by the writer': createLatencyHistogram(),
    'publish → confirmed by InfluxDB': createLatencyHistogram(),
  };
  const ages = (h: LatencyHistogram, body: Uint8Array) => {
    const now = Date.now();
    forEachLineTime(body, (ts) => h.record(Math.max(0, now - ts)), BENCH_MEASUREMENT);
  };
  const spool = platform.spool;
  const append = spool.append.bind(spool);
  spool.append = (text, lines, done) => {
    const t0 = performance.now();
    const body = Buffer.from(text);
    ages(age['publish → appended to the spool'], body);
    append(text, lines, (err) => {
      record(stages['spool append → durable (PUBACK may go)'], performance.now() - t0);
      ages(age['publish → durable in the spool'], body);
      done(err);
    });
  };
  const read = spool.read.bind(spool);
  spool.read = async (from, max) => {
    const t0 = performance.now();
    const batch = await read(from, max);
    if (batch) {
      record(stages['writer: spool.read'], performance.now() - t0, batch.body.length);
      ages(age['publish → read by the writer'], batch.body);
    }
    return batch;
  };
  const confirm = spool.confirm.bind(spool);
  spool.confirm = async (to, lines) => {
    const t0 = performance.now();
    await confirm(to, lines);
    record(stages['writer: spool.confirm (checkpoint + datasync)'], performance.now() - t0);
  };
  const influx = platform.influx;
  const write = influx.write.bind(influx);
  Object.assign(influx, {
    write: async (body: string | Uint8Array) => {
      const t0 = performance.now();
      await write(body);
      record(stages['writer: InfluxDB POST'], performance.now() - t0, body.length);
      ages(age['publish → confirmed by InfluxDB'], typeof body === 'string' ? Buffer.from(body) : body);
    },
  });
  wrapFs(stages['group commit: fs.write'], stages['group commit: fdatasync']);

  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const gc = { count: 0, ms: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.ms += e.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  return {
    lines(windowMs) {
      loop.disable();
      observer.disconnect();
      const f = (v: number) => (v < 10 ? v.toFixed(1) : Math.round(v).toString());
      const out = Object.entries(age).map(([name, h]) => {
        const q = h.summary();
        return `${name}: p50 ${f(q.p50)} ms, p99 ${f(q.p99)} ms, max ${f(q.max)} ms`;
      });
      out.push(
        ...Object.entries(stages).map(([name, s]) => {
          const q = s.latency.summary();
          const mib = s.bytes > 0 ? `, ${(s.bytes / s.count / 1024).toFixed(0)} KiB each` : '';
          const busy = s.serial ? `, ${((100 * s.totalMs) / windowMs).toFixed(0)} % of the run` : '';
          return `${name}: ${s.count} calls${mib}, p50 ${f(q.p50)} ms, p99 ${f(q.p99)} ms, max ${f(q.max)} ms${busy}`;
        }),
      );
      // The histogram holds the time between ticks of a 10 ms timer: the delay is what exceeds 10 ms.
      const late = (ns: number) => f(Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS));
      out.push(
        `event-loop delay: p50 ${late(loop.percentile(50))} ms, p99 ${late(loop.percentile(99))} ms, ` +
          `max ${late(loop.max)} ms`,
      );
      out.push(
        `GC pauses (main thread): ${gc.count}, ${f(gc.ms)} ms in all, ${((100 * gc.ms) / windowMs).toFixed(0)} % of the run`,
      );
      return out;
    },
  };
}

/** The spool writes through `fs.write` and `fs.fdatasync` with callbacks: time both. */
function wrapFs(writes: Stage, syncs: Stage): void {
  const fsWrite = fs.write;
  const fsSync = fs.fdatasync;
  Object.assign(fs, {
    write(...args: unknown[]): void {
      const cb = args.at(-1);
      if (typeof cb !== 'function') return void Reflect.apply(fsWrite, fs, args);
      const t0 = performance.now();
      const timed = (...r: unknown[]) => {
        record(writes, performance.now() - t0);
        Reflect.apply(cb, undefined, r);
      };
      Reflect.apply(fsWrite, fs, [...args.slice(0, -1), timed]);
    },
    fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void) {
      const t0 = performance.now();
      fsSync(fd, (err) => {
        record(syncs, performance.now() - t0);
        cb(err);
      });
    },
  });
}

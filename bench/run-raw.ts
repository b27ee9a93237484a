// The ceiling: the same readings as line protocol, POSTed straight to InfluxDB's /write in batches, as
// fast as InfluxDB takes them. No MQTT, no parsing, no disk of our own: what InfluxDB itself can store here.
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { createLatencyHistogram } from '../simulators/index.ts';
import { childSettings, ownUsage, tell } from './ipc.ts';
import { benchFields, benchLine, createTimestamper, jsonLatency } from './workload.ts';

const Settings = z.object({
  influxUrl: z.string(),
  db: z.string(),
  devices: z.array(z.object({ id: z.string(), district: z.string() })).min(1),
  points: z.number().int().positive(),
  /** Spacing of the timestamps, as if the points had been published at this rate. */
  rate: z.number().positive(),
  batchLines: z.number().int().positive(),
  /** POSTs in flight at once. */
  concurrency: z.number().int().positive(),
});

async function main(): Promise<void> {
  const s = childSettings(Settings);
  const writeUrl = `${s.influxUrl}/write?db=${encodeURIComponent(s.db)}&precision=ms`;
  const stamps = createTimestamper();
  const writeLatency = createLatencyHistogram();
  const t0 = Date.now();
  let next = 0;
  let stored = 0;
  let failedWrites = 0;

  function nextBody(): { body: string; lines: number } | undefined {
    if (next >= s.points) return undefined;
    const end = Math.min(next + s.batchLines, s.points);
    const lines: string[] = [];
    for (let k = next; k < end; k++) {
      const device = s.devices[k % s.devices.length]!;
      lines.push(benchLine(device, benchFields(k), stamps.next(device.id, t0 + (k * 1000) / s.rate)));
    }
    next = end;
    return { body: lines.join('\n'), lines: lines.length };
  }

  async function worker(): Promise<void> {
    for (let batch = nextBody(); batch; batch = nextBody()) {
      const started = performance.now();
      const res = await fetch(writeUrl, { method: 'POST', body: batch.body });
      await res.body?.cancel();
      writeLatency.record(performance.now() - started);
      if (res.ok) stored += batch.lines;
      else failedWrites++;
    }
  }

  const progress = setInterval(() => tell({ type: 'progress', stored }), 500);
  const startedAt = Date.now();
  const cpuAtStart = ownUsage().cpuMs;
  await Promise.all(Array.from({ length: s.concurrency }, worker));
  const endedAt = Date.now();
  clearInterval(progress);
  tell({
    type: 'result',
    stored,
    startedAt,
    endedAt,
    failedWrites,
    writeLatency: jsonLatency(writeLatency.summary()),
    usage: ownUsage(),
    cpuMsWriting: ownUsage().cpuMs - cpuAtStart,
  });
  process.disconnect?.();
}

main().catch((err: unknown) => {
  process.stderr.write(`raw writer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

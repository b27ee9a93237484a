// The baseline's subscriber: what an engineer would write in an afternoon behind Mosquitto. Subscribe to
// every telemetry topic, JSON.parse, build line protocol with a template string, batch 5000 lines or
// 100 ms, POST to /write without waiting for the previous POST. No authentication (Mosquitto allows
// anonymous clients), no validation, no durability: Mosquitto acknowledges a reading on arrival, and one
// in a batch that fails, or in memory when the process dies, is gone.
import mqtt from 'mqtt';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { childSettings, onParent, ownUsage, tell } from './ipc.ts';
import { benchLine, createStoredTracker, type BenchDevice, type BenchFields } from './workload.ts';

const Settings = z.object({
  port: z.number().int().positive(),
  influxUrl: z.string(),
  db: z.string(),
  devices: z.array(z.object({ id: z.string(), district: z.string() })),
  batchLines: z.number().int().positive(),
  flushMs: z.number().int().positive(),
});

async function main(): Promise<void> {
  const settings = childSettings(Settings);
  const byId = new Map(settings.devices.map((d): [string, BenchDevice] => [d.id, d]));
  const writeUrl = `${settings.influxUrl}/write?db=${encodeURIComponent(settings.db)}&precision=ms`;
  const tracker = createStoredTracker();
  let lines: string[] = [];
  let times: number[] = [];
  let failedWrites = 0;
  const writes = { count: 0, totalMs: 0 };

  function flush(): void {
    if (lines.length === 0) return;
    const body = lines.join('\n');
    const batchTimes = times;
    lines = [];
    times = [];
    const started = performance.now();
    fetch(writeUrl, { method: 'POST', body }).then(
      async (res) => {
        await res.body?.cancel();
        if (!res.ok) return void failedWrites++;
        tracker.timesStored(batchTimes);
        writes.count++;
        writes.totalMs += performance.now() - started;
      },
      () => void failedWrites++,
    );
  }

  const client = mqtt.connect(`mqtt://127.0.0.1:${settings.port}`, {
    clientId: 'bench-sink',
    clean: true,
    reconnectPeriod: 0,
  });
  client.on('message', (topic, payload) => {
    const id = topic.split('/')[2] ?? '';
    // Unvalidated on purpose: this is the baseline without validation.
    const r = JSON.parse(payload.toString()) as BenchFields & { ts: number };
    lines.push(benchLine(byId.get(id) ?? { id, district: 'unknown' }, r, r.ts));
    times.push(r.ts);
    if (lines.length >= settings.batchLines) flush();
  });
  const flusher = setInterval(flush, settings.flushMs);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync('city/+/+/telemetry', { qos: 1 });

  const progress = setInterval(
    () => tell({ type: 'progress', stored: tracker.stored(), rssKb: process.memoryUsage.rss() / 1024 }),
    500,
  );
  onParent(
    () => {
      clearInterval(progress);
      clearInterval(flusher);
      tell({ type: 'result', ...tracker.summary(), usage: ownUsage(), failedWrites, writes });
      client.end(true, () => process.exit(0));
    },
    (m) => tracker.measureFrom(m),
  );
  tell({ type: 'ready', port: settings.port, devices: [] });
}

main().catch((err: unknown) => {
  process.stderr.write(`subscriber: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

// The load generator's process: N simulated air-quality stations publishing at a total rate through the
// simulators' raw-socket generator, every payload stamped with its publish time. Reports progress each
// second and, at the end, what was sent and acknowledged.
import { z } from 'zod';
import { createLatencyHistogram, runLoad, type LoadDevice } from '../simulators/index.ts';
import { childSettings, Device, ownUsage, tell } from './ipc.ts';
import { benchPayload, createTimestamper, jsonLatency } from './workload.ts';

const Settings = z.object({
  port: z.number().int().positive(),
  devices: z.array(Device).min(1),
  rate: z.number().positive(),
  durationMs: z.number().positive(),
  /** The first ms of the run: published and acknowledged, not timed. */
  warmupMs: z.number().min(0),
  qos: z.union([z.literal(0), z.literal(1)]),
});

async function main(): Promise<void> {
  const settings = childSettings(Settings);
  const devices: LoadDevice[] = settings.devices.map((d) => ({
    id: d.id,
    kind: 'air_quality',
    secret: d.secret,
  }));
  const stamps = createTimestamper();
  let sent = 0;
  let acked = 0;
  let firstPublishAt: number | null = null;
  let cpuAtStart = 0;
  // Acknowledgements of readings published in the warm-up are counted, not timed (performance.now clock).
  let timedFrom = Infinity;
  const ackLatency = createLatencyHistogram();
  const progress = setInterval(() => tell({ type: 'progress', sent, acked }), 1000);

  const result = await runLoad({
    host: '127.0.0.1',
    port: settings.port,
    devices,
    ratePerSecond: settings.rate,
    durationMs: settings.durationMs,
    qos: settings.qos,
    // The station stamps the reading when it sends it; that stamp is what the stored line carries.
    payload: (i, device) => benchPayload(i, stamps.next(device.id, Date.now())),
    onPublish: (p) => {
      if (firstPublishAt === null) {
        firstPublishAt = p.publishedAt;
        cpuAtStart = ownUsage().cpuMs;
        timedFrom = performance.now() + settings.warmupMs;
        tell({ type: 'started' });
      }
      sent++;
    },
    onAck: (_seq, ms) => {
      acked++;
      if (performance.now() - ms >= timedFrom) ackLatency.record(ms);
    },
    drainMs: 10_000,
  });
  clearInterval(progress);
  tell({
    type: 'result',
    connected: result.connected,
    refused: result.refused,
    closed: result.closed,
    sent: result.sent,
    acked: result.acked,
    stalls: result.stalls,
    durationMs: result.durationMs,
    firstPublishAt,
    tsBumped: stamps.bumped(),
    ackLatency: jsonLatency(ackLatency.summary()),
    usage: ownUsage(),
    cpuMsPublishing: ownUsage().cpuMs - cpuAtStart,
  });
  process.disconnect?.();
}

main().catch((err: unknown) => {
  process.stderr.write(
    `load generator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});

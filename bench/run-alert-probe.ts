// The alert probe's process: outside the platform, like an operations console. It connects to the
// platform's broker as a street-flood gauge and as a service account that reads alerts, and from `mark`
// to `stop` publishes readings that make `street-flooded` raise and clear (bench/alert-probe.ts). Each
// transition's latency is the time from publishing the reading that caused it to receiving the alert's
// retained message; both are taken on this process's clock.
import mqtt, { type MqttClient } from 'mqtt';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  createAlertMatcher,
  parseAlertMessage,
  probeOrigin,
  probePayload,
  probeReading,
} from './alert-probe.ts';
import { childSettings, ParentMessage, ProbeSetup, tell } from './ipc.ts';

const Settings = z.object({
  port: z.number().int().positive(),
  setup: ProbeSetup,
  /** Readings per second. */
  rate: z.number().positive().max(1000),
  /** The most readings a run may publish: device time must stay behind the real clock. */
  maxReadings: z.number().int().positive(),
  /** False for a platform without rules: the probe publishes the same load and expects no alert. */
  expectAlerts: z.boolean(),
  /** After `stop`, how long to wait for transitions still outstanding. */
  graceMs: z.number().int().nonnegative(),
});

async function connect(port: number, id: string, secret: string): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId: id,
    username: id,
    password: secret,
    clean: true,
    reconnectPeriod: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

async function main(): Promise<void> {
  const s = childSettings(Settings);
  const matcher = createAlertMatcher(s.expectAlerts);
  const reader = await connect(s.port, s.setup.reader.id, s.setup.reader.secret);
  reader.on('message', (_topic, payload) => {
    matcher.received(parseAlertMessage(payload.toString()), performance.now());
  });
  await reader.subscribeAsync(s.setup.alertFilter, { qos: 1 });
  const gauge = await connect(s.port, s.setup.gauge.id, s.setup.gauge.secret);
  const origin = probeOrigin(Date.now(), s.maxReadings);

  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let measureFrom = -Infinity;
  const publishNext = () => {
    if (seq >= s.maxReadings) return clearInterval(timer);
    const reading = probeReading(seq++, origin);
    const at = performance.now();
    const timed = Date.now() >= measureFrom;
    matcher.published(reading, at, timed);
    gauge.publish(s.setup.telemetryTopic, probePayload(reading), { qos: 1 }, (err) => {
      if (!err) matcher.acked(at, performance.now(), timed);
    });
  };

  const finish = async () => {
    clearInterval(timer);
    const deadline = performance.now() + s.graceMs;
    while (matcher.outstanding() > 0 && performance.now() < deadline) await sleep(20);
    tell({ type: 'result', ...matcher.summary() });
    await Promise.all([gauge.endAsync(), reader.endAsync()]);
    process.exit(0);
  };

  process.once('disconnect', () => process.exit(2));
  process.on('message', (raw) => {
    const parsed = ParentMessage.safeParse(raw);
    if (!parsed.success) return;
    if (parsed.data.type === 'mark') {
      measureFrom = parsed.data.measureFrom ?? -Infinity;
      if (timer === undefined) timer = setInterval(publishNext, 1000 / s.rate);
      return;
    }
    finish().catch((err: unknown) => {
      process.stderr.write(`alert probe: ${String(err)}\n`);
      process.exit(1);
    });
  });
  tell({ type: 'ready' });
}

main().catch((err: unknown) => {
  process.stderr.write(`alert probe: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

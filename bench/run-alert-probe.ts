// The alert probe's process: outside the platform, like an operations console. It connects to the
// platform's broker as a street-flood gauge and as a service account that reads alerts, and from `mark`
// to `stop` publishes readings that make `street-flooded` raise and clear (bench/alert-probe.ts). Each
// transition's latency is the time from publishing the reading that caused it to receiving the alert's
// retained message; both are taken on this process's clock. It also gives the gauge's agency a webhook
// served here (through the platform's API, as an engineer would) and times each transition's notification
// to it the same way; or a webhook that never answers, to show that a dead receiver costs ingest nothing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
  webhookAlerts,
  type WebhookSummary,
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
  notify: z.enum(['webhook', 'dead', 'off']),
});

/** The agency as the API shows it: what a replacement must give back. */
const Agency = z.looseObject({ name: z.unknown(), receivers: z.array(z.looseObject({ id: z.string() })) });

/** Serves the webhook (answering 204, or never), and makes it a receiver of the agency through the API. */
async function startWebhook(
  s: z.infer<typeof Settings>,
  onBody: (text: string, at: number) => void,
): Promise<{ close(): Promise<void> }> {
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (s.notify === 'dead') return void hanging.push(res);
      onBody(body, performance.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench/alerts`;
  const { port, token, agency } = s.setup.api;
  const api = (method: string, body?: unknown) =>
    fetch(`http://127.0.0.1:${port}/api/agencies/${agency}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const current = Agency.parse(await (await api('GET')).json());
  const { id: _id, created_at: _c, updated_at: _u, ...rest } = current;
  const receivers = [
    ...current.receivers.map(({ secret_set: _s, ...r }) => r),
    { id: 'bench-probe', type: 'webhook', url },
  ];
  const res = await api('PUT', { ...rest, receivers });
  if (!res.ok) throw new Error(`the agency ${agency} was not given the webhook: HTTP ${res.status}`);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

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
  const hooked = createAlertMatcher(s.expectAlerts && s.notify === 'webhook');
  const webhook =
    s.notify === 'off'
      ? undefined
      : await startWebhook(s, (text, at) => {
          const alerts = webhookAlerts(text);
          if (alerts === undefined) return hooked.received(undefined, at);
          for (const a of alerts) hooked.received(a, at);
        });
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
    hooked.published(reading, at, timed);
    gauge.publish(s.setup.telemetryTopic, probePayload(reading), { qos: 1 }, (err) => {
      if (!err) matcher.acked(at, performance.now(), timed);
    });
  };

  const finish = async () => {
    clearInterval(timer);
    const deadline = performance.now() + s.graceMs;
    const waiting = () => matcher.outstanding() + (s.notify === 'webhook' ? hooked.outstanding() : 0);
    while (waiting() > 0 && performance.now() < deadline) await sleep(20);
    const told = hooked.summary();
    const summary: WebhookSummary | undefined =
      s.notify === 'off'
        ? undefined
        : {
            mode: s.notify,
            expected: s.notify === 'dead' ? 0 : told.expected,
            received: told.received,
            missing: s.notify === 'dead' ? 0 : told.missing,
            unexpected: told.unexpected,
            latency: told.latency,
          };
    tell({ type: 'result', ...matcher.summary(), ...(summary === undefined ? {} : { webhook: summary }) });
    await Promise.all([gauge.endAsync(), reader.endAsync(), webhook?.close()]);
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

// A command to 1,000 lamps, end to end on the real platform (its own influxd, a temporary data folder):
// one POST /api/commands for a street of 1,000 lamps, each command stored, published QoS 1 and answered by
// the lamp (behind 4 gateways of 250, or each lamp on its own MQTT connection with --via direct), and the
// time from the request to each lamp's answer being recorded. Real MQTT clients on loopback answer as
// soon as a command arrives, so the figures are the platform's. A dev tool, not a test.
//
//   npm run bench:commands -- [--lamps 1000] [--via gateway|direct] [--rounds 3] [--store sqlite|postgres]
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import { readCommandLine } from '../cli/index.ts';
import { runBenchmark, startOwnPlatform } from './own-platform.ts';
import { startPostgres } from './servers/postgres.ts';
import type { DeviceInput } from '../devices/index.ts';
import { createLatencyHistogram } from '../simulators/index.ts';

const USAGE = `npm run bench:commands -- [--lamps 1000] [--via gateway|direct] [--rounds 3] [--store sqlite|postgres]

  --lamps N     lamps on the street (default 1000)
  --via         gateway: 4 gateways answer for 250 lamps each (default); direct: each lamp connected
  --rounds N    commands sent one after the other (default 3)
  --store S     where the platform keeps its state: sqlite (one process, the default) or postgres (as a
                cluster's node does, in a throwaway PostgreSQL started for the run)`;

const { values } = readCommandLine({
  usage: USAGE,
  options: {
    lamps: { type: 'string' },
    via: { type: 'string' },
    rounds: { type: 'string' },
    store: { type: 'string' },
  },
});
const opts = z
  .object({
    lamps: z.coerce.number().int().min(1).max(10_000).default(1000),
    via: z.enum(['gateway', 'direct']).default('gateway'),
    rounds: z.coerce.number().int().min(1).max(20).default(3),
    store: z.enum(['sqlite', 'postgres']).default('sqlite'),
  })
  .parse(values);

const GATEWAYS = 4;
const ms = (v: number | undefined) => `${(v ?? NaN).toFixed(0)} ms`;

function connect(url: string, id: string, secret: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, {
      clientId: id,
      username: id,
      password: secret,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

/** Answers every command it receives, at once. */
function answer(client: MqttClient): void {
  client.on('message', (topic, payload) => {
    const { id } = JSON.parse(payload.toString()) as { id: number };
    client.publish(`${topic}/ack`, JSON.stringify({ id, result: 'done' }), { qos: 1 });
  });
}

async function main(): Promise<void> {
  const postgres = opts.store === 'postgres' ? await startPostgres() : undefined;
  const own = await startOwnPlatform(
    'commands',
    postgres === undefined ? {} : { CITY_DATABASE_URL: await postgres.database('commands') },
  );
  const { platform, adminToken } = own;
  const clients: MqttClient[] = [];
  try {
    const url = `mqtt://127.0.0.1:${platform.mqttPort}`;
    const gateways = await Promise.all(
      Array.from({ length: opts.via === 'gateway' ? GATEWAYS : 0 }, (_, g) =>
        platform.registry.provisionGateway({
          id: `gw-bench-${g}`,
          name: `Gateway ${g}`,
          district: 'Thuận Hóa',
          location: { lat: 16.462, lon: 107.583 },
        }),
      ),
    );
    const lamps: DeviceInput[] = Array.from({ length: opts.lamps }, (_, i) => ({
      id: `sl-bench-${String(i).padStart(5, '0')}`,
      kind: 'streetlight',
      name: `Đèn Lê Lợi ${i}`,
      district: 'Thuận Hóa',
      location: { lat: 16.462 + (i % 100) * 0.0001, lon: 107.583 + Math.floor(i / 100) * 0.0001 },
      ...(opts.via === 'gateway' ? { gateway: `gw-bench-${i % GATEWAYS}` } : {}),
      meta: { street: 'Lê Lợi', rated_w: 150 },
    }));
    const made = await platform.registry.provisionDevices(lamps);
    process.stderr.write(
      `connecting ${opts.via === 'gateway' ? `${GATEWAYS} gateways` : `${opts.lamps} lamps`}\n`,
    );
    if (opts.via === 'gateway') {
      for (const { gateway, secret } of gateways) {
        const c = await connect(url, gateway.id, secret);
        clients.push(c);
        answer(c);
        const mine = made
          .filter((m) => m.device.gateway === gateway.id)
          .map((m) => `city/streetlight/${m.device.id}/commands`);
        await c.subscribeAsync(mine, { qos: 1 });
      }
    } else {
      for (let i = 0; i < made.length; i += 50) {
        const batch = await Promise.all(
          made.slice(i, i + 50).map(async ({ device, secret }) => {
            const c = await connect(url, device.id, secret);
            answer(c);
            await c.subscribeAsync(`city/streetlight/${device.id}/commands`, { qos: 1 });
            return c;
          }),
        );
        clients.push(...batch);
      }
    }
    const lines: string[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${platform.apiPort}/api/commands`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          target: { street: 'Lê Lợi' },
          type: 'set_dim',
          params: { level_pct: 30 + round },
        }),
      });
      const posted = performance.now() - t0;
      if (res.status !== 202) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      const { batch } = (await res.json()) as { batch: number };
      let done: Awaited<ReturnType<typeof platform.commands.list>> = [];
      for (;;) {
        done = await platform.commands.list({ batch, state: 'acknowledged', limit: 20_000 });
        if (done.length === opts.lamps) break;
        if (performance.now() - t0 > 120_000)
          throw new Error(`${done.length} of ${opts.lamps} answered in 120 s`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const all = performance.now() - t0;
      const histogram = createLatencyHistogram();
      for (const c of done) histogram.record(c.updatedAt - c.createdAt);
      const l = histogram.summary();
      lines.push(
        `  round ${round + 1}: request answered in ${ms(posted)}; every lamp's answer recorded within ${ms(all)}; asked → answer recorded, per lamp: p50 ${ms(l.p50)}, p99 ${ms(l.p99)}, max ${ms(l.max)}`,
      );
    }
    process.stdout.write(
      [
        `commands: set_dim to ${opts.lamps} lamps via ${opts.via === 'gateway' ? `${GATEWAYS} gateways` : 'their own connections'}, Node.js ${process.version}`,
        ...lines,
        '',
      ].join('\n'),
    );
  } finally {
    await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
    await own.close();
    await postgres?.stop();
  }
}

runBenchmark(main);

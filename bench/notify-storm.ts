// The notifications in a storm, component by component on real files and a real HTTP receiver: the alert
// store and the notifier's store (SQLite, or with `--store postgres` a throwaway PostgreSQL, as a
// cluster keeps them), the notifier, the deliverer POSTing to webhooks on loopback. A
// storm of alerts is raised at once (a district's street gauges going silent together, as a typhoon
// takes the power) and the benchmark reports how many notifications Huế's routing makes of it, how fast
// the notifier reads the events (its outbox), and how fast the deliverer empties the outbox into the
// receivers. Time is a clock the benchmark drives, so group waits cost nothing; every write is the
// platform's own (synchronous = FULL). A dev tool, not a test: timing belongs in benchmarks.
//
//   npm run bench:notify -- [--alerts 1000] [--receivers 1] [--store sqlite|postgres] [--markdown]
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { z } from 'zod';
import {
  createAlertService,
  openAlertStore,
  openPostgresAlertStore,
  type AlertStore,
  type TriggerItem,
} from '../alerts/index.ts';
import { readCommandLine } from '../cli/index.ts';
import { startPostgres, type TestPostgres } from './servers/postgres.ts';
import { AgencyInput, type AgencyRecord } from '../devices/index.ts';
import {
  createDeliverer,
  createNotifier,
  openNotifyStore,
  openPostgresNotifyStore,
  openPostgresSilences,
  sqliteSilences,
  type NotifyStore,
  type SilenceStore,
  parseRouting,
  planAlert,
  webhookSender,
  type Routing,
} from '../notify/index.ts';

const USAGE = `npm run bench:notify -- [--alerts 1000] [--receivers 1] [--store sqlite|postgres] [--markdown]

  --alerts N     alerts in the storm (default 1000)
  --receivers N  webhook receivers of the owner agency (default 1): each gets every notification
  --store S      where the alerts and the notifications are kept: sqlite (one process, the default) or
                 postgres (a cluster's, in a throwaway PostgreSQL started for the run)
  --markdown     the results as a Markdown table`;

const { values } = readCommandLine({
  usage: USAGE,
  options: {
    alerts: { type: 'string' },
    receivers: { type: 'string' },
    store: { type: 'string' },
    markdown: { type: 'boolean', default: false },
  },
});
const Options = z.object({
  alerts: z.coerce.number().int().min(1).max(100_000).default(1000),
  receivers: z.coerce.number().int().min(1).max(20).default(1),
  store: z.enum(['sqlite', 'postgres']).default('sqlite'),
  markdown: z.boolean(),
});
const opts = Options.parse(values);

/** The districts of the Huế fleet (devices/hue-fleet.json): the storm's gauges are spread over them. */
const DISTRICTS = ['Hương Trà', 'Kim Long', 'Phú Bài', 'Phú Xuân', 'Thuận Hóa', 'Thủy Xuân'];
/** Huế's grouping (notify/hue/routing.yaml), and one group per alert: the outbox's worst case. */
const ROUTINGS = {
  'grouped as Huế routes (agency, rule, district)':
    'defaults: { group_by: [agency, rule, district], group_wait: 30s }\nroutes:\n  - receivers: [$owner]\n',
  'one notification per alert (grouped by device)':
    'defaults: { group_by: [agency, rule, device], group_wait: 30s }\nroutes:\n  - receivers: [$owner]\n',
} as const;

const T0 = Date.UTC(2025, 9, 28, 14, 0, 0);
const log = pino({ level: 'silent' });

async function receivers(count: number) {
  let received = 0;
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          received++;
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );
  const urls = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/hooks`);
  return {
    urls,
    received: () => received,
    close: () => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))),
  };
}

/** A storm of `n` silent street gauges: one raise each, spread over the districts, two rules. */
function storm(n: number, at: number): TriggerItem[] {
  return Array.from({ length: n }, (_, i) => ({
    input: {
      type: 'raise',
      rule: i % 2 === 0 ? 'silent-street-gauge' : 'street-flooded',
      device: `sf-storm-${String(i).padStart(5, '0')}`,
      kind: 'flood',
      district: DISTRICTS[Math.floor(i / 2) % DISTRICTS.length]!,
      owner: 'flood-control',
      title: i % 2 === 0 ? 'Street gauge silent' : 'Street flooded',
      severity: 'warning',
      message: 'no reading for 30 min',
      value: null,
      threshold: null,
      level: 1,
      at,
      source: 'rule',
    },
  }));
}

interface Result {
  readonly routing: string;
  readonly alerts: number;
  readonly raiseMs: number;
  readonly consumeMs: number;
  readonly notifications: number;
  readonly deliveries: number;
  readonly flushMs: number;
  readonly deliverMs: number;
  readonly received: number;
}

let postgres: TestPostgres | undefined;
let databases = 0;

/** The stores of one run, on fresh files or a fresh database. */
async function stores(
  dir: string,
  clock: () => number,
): Promise<{ store: AlertStore; notify: NotifyStore; silences: SilenceStore; close(): Promise<void> }> {
  if (opts.store === 'sqlite') {
    const store = openAlertStore({ file: path.join(dir, 'alerts.db'), clock });
    const notify = openNotifyStore(path.join(dir, 'notify.db'));
    return {
      store,
      notify,
      silences: sqliteSilences(notify),
      close: async () => {
        await store.close();
        await notify.close();
      },
    };
  }
  postgres ??= await startPostgres();
  const url = await postgres.database(`storm_${databases++}`);
  const store = await openPostgresAlertStore({ url, origin: 'bench', clock, log });
  const notify = await openPostgresNotifyStore({ url, log });
  const silences = await openPostgresSilences(url);
  return {
    store,
    notify,
    silences,
    close: async () => {
      await store.close();
      await notify.close();
      await silences.close();
    },
  };
}

async function run(name: keyof typeof ROUTINGS, urls: readonly string[], received: () => number) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'notify-storm-'));
  let now = T0;
  const clock = () => now;
  const opened = await stores(dir, clock);
  const { store, notify, silences } = opened;
  const alerts = createAlertService({ store, log, clock });
  const agency: AgencyRecord = {
    ...AgencyInput.parse({
      id: 'flood-control',
      name: { vi: 'Ban Chỉ huy PCTT và TKCN', en: 'Flood steering committee' },
      receivers: urls.map((url, i) => ({ id: `desk-${i}`, type: 'webhook', url })),
    }),
    created_at: '',
    updated_at: '',
  };
  const agencies = new Map([[agency.id, agency]]);
  const parsed = parseRouting(ROUTINGS[name], 'storm.yaml', agencies);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const routing: Routing = parsed.routing;
  const notifier = createNotifier({
    store: notify,
    silences,
    alerts,
    plan: (facts) => planAlert(routing, agencies, facts),
    deviceTags: () => ['street-flood'],
    clock,
    log,
  });
  const deliverer = createDeliverer({
    store: notify,
    agency: (id) => agencies.get(id),
    senders: { webhook: webhookSender(clock) },
    clock,
    log,
  });
  const before = received();

  let t = performance.now();
  // The rules engine raises a storm in batches of its transitions (one transaction each).
  const items = storm(opts.alerts, now);
  for (let i = 0; i < items.length; i += 200) await alerts.triggerAll(items.slice(i, i + 200));
  const raiseMs = performance.now() - t;

  t = performance.now();
  while ((await notifier.step()).events > 0);
  const consumeMs = performance.now() - t;

  now += 30_000; // the groups' wait
  t = performance.now();
  const flushed = await notifier.step();
  const flushMs = performance.now() - t;

  t = performance.now();
  let sent = 0;
  while (sent < flushed.deliveries) sent += (await deliverer.deliverDue()).length;
  const deliverMs = performance.now() - t;

  const result: Result = {
    routing: name,
    alerts: opts.alerts,
    raiseMs,
    consumeMs,
    notifications: flushed.notifications,
    deliveries: flushed.deliveries,
    flushMs,
    deliverMs,
    received: received() - before,
  };
  await opened.close();
  await rm(dir, { recursive: true, force: true });
  return result;
}

const perS = (n: number, ms: number) => Math.round((n / ms) * 1000).toLocaleString('en-US');
const msText = (ms: number) => `${ms.toFixed(0)} ms`;

async function main(): Promise<void> {
  const hooks = await receivers(opts.receivers);
  const rows: string[][] = [];
  try {
    for (const name of Object.keys(ROUTINGS) as Array<keyof typeof ROUTINGS>) {
      const r = await run(name, hooks.urls, hooks.received);
      rows.push([
        r.routing,
        r.alerts.toLocaleString('en-US'),
        `${msText(r.raiseMs)} (${perS(r.alerts, r.raiseMs)}/s)`,
        `${msText(r.consumeMs)} (${perS(r.alerts, r.consumeMs)}/s)`,
        r.notifications.toLocaleString('en-US'),
        `${r.deliveries.toLocaleString('en-US')} in ${msText(r.flushMs)}`,
        `${msText(r.deliverMs)} (${perS(r.deliveries, r.deliverMs)}/s)`,
        `${r.received.toLocaleString('en-US')}`,
      ]);
    }
  } finally {
    await hooks.close();
    await postgres?.stop();
  }
  const head = [
    'routing',
    'alerts',
    'raised (store)',
    'events read (notifier)',
    'notifications',
    'deliveries queued',
    'delivered (webhook)',
    'received',
  ];
  process.stdout.write(
    `storm: ${opts.alerts} alerts, ${opts.receivers} webhook receiver(s) on loopback, stores in ${opts.store}, Node.js ${process.version}\n`,
  );
  if (opts.markdown) {
    process.stdout.write(`| ${head.join(' | ')} |\n| ${head.map(() => '---').join(' | ')} |\n`);
    for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
  } else {
    for (const r of rows) process.stdout.write(`${head.map((h, i) => `  ${h}: ${r[i]}`).join('\n')}\n\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

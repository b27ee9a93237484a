// The operations console's figures, in Debian's Chromium driven by Playwright against the real platform
// (its own influxd, a temporary data folder): the JavaScript each page ships (gzipped), the time until the
// inbox with 1,000 open alerts answers (all counted, its first rows shown, a filter applied) and the map
// shows 5,000 devices (from navigation, signed in), and the time from a critical alert raised in the
// platform to its row visible at the top of the inbox (the alert stream), on one clock: the page's
// Date.now() and the platform's are the same machine's. A dev tool, not a test.
//
//   npm run bench:console -- [--alerts 1000] [--devices 5000] [--events 50]
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { z } from 'zod';
import type { TriggerInput } from '../alerts/index.ts';
import { readCommandLine } from '../cli/index.ts';
import { createLatencyHistogram } from '../simulators/index.ts';
import { runBenchmark, startOwnPlatform } from './own-platform.ts';

const USAGE = `npm run bench:console -- [--alerts 1000] [--devices 5000] [--events 50]

  --alerts N   open alerts in the inbox (default 1000)
  --devices N  devices on the map (default 5000)
  --events N   alerts raised one by one, each timed to its row in the inbox (default 50)`;

const { values } = readCommandLine({
  usage: USAGE,
  options: { alerts: { type: 'string' }, devices: { type: 'string' }, events: { type: 'string' } },
});
const opts = z
  .object({
    alerts: z.coerce.number().int().min(1).max(10_000).default(1000),
    devices: z.coerce.number().int().min(1).max(50_000).default(5000),
    events: z.coerce.number().int().min(1).max(1000).default(50),
  })
  .parse(values);

const DIST = path.resolve(import.meta.dirname, '..', 'console', 'dist', 'assets');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PASSWORD = 'benchmark passphrase';
/** Huế's centre; the bench's devices are spread over about 10 km around it. */
const CENTRE = { lat: 16.4637, lon: 107.5909 };

const ms = (v: number) => `${v.toFixed(0)} ms`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function shipped(): string[] {
  const files = readdirSync(DIST);
  const size = (prefix: string, ext: string) =>
    files
      .filter((f) => f.startsWith(prefix) && f.endsWith(ext))
      .reduce((n, f) => n + gzipSync(readFileSync(path.join(DIST, f))).length, 0);
  const line = (what: string, prefix: string) =>
    `  ${what}: JavaScript ${kb(size(prefix, '.js'))}, CSS ${kb(size(prefix, '.css'))} gzipped`;
  return [
    line('inbox, sign-in, alert, agencies and users pages', 'index-'),
    line('+ map, loaded when first opened (Leaflet, clusters)', 'map-page-'),
    line('+ device page, loaded when first opened', 'device-page-'),
    line("+ chart, loaded with a device's page or an alert's chart (uPlot)", 'chart-'),
  ];
}

const alert = (i: number, at: number): TriggerInput => ({
  type: 'raise',
  rule: 'street-flooded',
  device: `sf-bench-${String(i).padStart(5, '0')}`,
  kind: 'flood',
  district: 'Thuận Hóa',
  owner: 'flood-control',
  title: 'Street flooded',
  severity: i % 10 === 0 ? 'critical' : 'warning',
  message: `Ngập đường ${i}: 0.3 m of water on the road (warning at 0.2 m)`,
  value: 0.3,
  threshold: 0.2,
  level: 1,
  at,
  source: 'rule',
});

/**
 * The inbox is interactive when every alert is counted, its first rows are shown and it answers input:
 * typing a filter that matches one alert leaves that one row, and clearing it brings the count back.
 */
async function inboxReady(page: Page, url: string, alerts: number): Promise<void> {
  await page.goto(url);
  await page
    .locator('.inbox .count')
    .filter({ hasText: new RegExp(`^${alerts}$`) })
    .waitFor({ timeout: 60_000 });
  await page.locator('[data-testid="alert"]').first().waitFor();
  const filter = page.locator('input[type="search"]');
  await filter.fill('Ngập đường 7:');
  await page.locator('.inbox .count').filter({ hasText: /^1$/ }).waitFor();
  await filter.fill('');
  await page
    .locator('.inbox .count')
    .filter({ hasText: new RegExp(`^${alerts}$`) })
    .waitFor();
}

async function main(): Promise<void> {
  const own = await startOwnPlatform('console');
  const { platform } = own;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    process.stderr.write(`provisioning ${opts.devices} devices and raising ${opts.alerts} alerts\n`);
    for (let i = 0; i < opts.devices; i++) {
      await platform.registry.provisionDevice({
        id: `sf-bench-${String(i).padStart(5, '0')}`,
        kind: 'flood',
        name: `Benchmark street gauge ${i}`,
        district: 'Thuận Hóa',
        location: {
          lat: CENTRE.lat + ((i % 100) - 50) * 0.001,
          lon: CENTRE.lon + (Math.floor(i / 100) - 25) * 0.001,
        },
        meta: { type: 'street' },
        tags: ['street-flood'],
      });
    }
    const now = Date.now();
    const items = Array.from({ length: opts.alerts }, (_, i) => ({ input: alert(i, now - 60_000) }));
    for (let i = 0; i < items.length; i += 200) await platform.alerts.triggerAll(items.slice(i, i + 200));
    await platform.registry.users.create({ username: 'bench', role: 'viewer', password: PASSWORD });

    const base = `http://127.0.0.1:${platform.apiPort}`;
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const signIn = await context.request.post(`${base}/api/session`, {
      data: { username: 'bench', password: PASSWORD },
    });
    if (!signIn.ok()) throw new Error(`sign-in failed: ${signIn.status()}`);
    const page = await context.newPage();

    const inboxTimes: number[] = [];
    const mapTimes: number[] = [];
    for (let run = 0; run < 3; run++) {
      const t0 = Date.now();
      await inboxReady(page, `${base}/console/#/`, opts.alerts);
      inboxTimes.push(Date.now() - t0);
      const t1 = Date.now();
      await page.goto(`${base}/console/#/map`);
      await page
        .locator('#map-title')
        .filter({ hasText: String(opts.devices) })
        .waitFor({ timeout: 60_000 });
      await page.locator('.leaflet-marker-icon, .leaflet-interactive').first().waitFor({ timeout: 60_000 });
      mapTimes.push(Date.now() - t1);
    }

    // Alert raised → row visible: the page notes when each new row appears.
    await inboxReady(page, `${base}/console/#/`, opts.alerts);
    await page
      .getByTestId('live')
      .filter({ hasText: /Trực tiếp|Live/ })
      .waitFor();
    // In the page (a string: this file is compiled without the DOM's types).
    await page.evaluate(`(() => {
      const seen = (globalThis.__seen = {});
      new MutationObserver(() => {
        for (const row of document.querySelectorAll('[data-testid="alert"]'))
          seen[row.getAttribute('data-alert')] ??= Date.now();
      }).observe(document.body, { childList: true, subtree: true });
    })()`);
    const histogram = createLatencyHistogram();
    for (let i = 0; i < opts.events; i++) {
      const raisedAt = Date.now();
      const change = (await platform.alerts.trigger({
        ...alert(opts.alerts + i, raisedAt),
        severity: 'critical',
      }))!;
      const id = String(change.alert.id);
      const shownAt = await page.waitForFunction(
        (key) => (globalThis as unknown as { __seen: Record<string, number> }).__seen[key],
        id,
        { timeout: 10_000, polling: 5 },
      );
      histogram.record(((await shownAt.jsonValue()) as number) - raisedAt);
      await new Promise((r) => setTimeout(r, 100));
    }
    const l = histogram.summary();

    process.stdout.write(
      [
        `console: ${opts.alerts} open alerts, ${opts.devices} devices, Chromium ${browser.version()}, Node.js ${process.version}`,
        ...shipped(),
        `  inbox with ${opts.alerts} alerts, navigation to the list answering (all counted, first rows shown, a filter applied): ${inboxTimes.map(ms).join(', ')}`,
        `  map with ${opts.devices} devices, navigation to the markers drawn: ${mapTimes.map(ms).join(', ')}`,
        `  alert raised → row visible, ${opts.events} alerts: p50 ${ms(l.p50 ?? NaN)}, p99 ${ms(l.p99 ?? NaN)}, max ${ms(l.max ?? NaN)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await browser.close();
    await own.close();
  }
}

runBenchmark(main);

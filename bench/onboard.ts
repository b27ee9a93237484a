// Bulk onboarding's figures: a district's lamps (10,000 by default) sent as one CSV file to the real
// platform (its own influxd, a temporary data folder) over HTTP, as `npm run devices -- import` sends
// them: the time to check and create them all (one transaction), the same file again (all unchanged),
// a dry run, and the platform process's memory: its peak resident set while the request is served and
// what the registry keeps afterwards (heap after a full collection). A dev tool, not a test.
//
//   npm run bench:onboard -- [--devices 10000]
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { readCommandLine } from '../cli/index.ts';
import { runBenchmark, startOwnPlatform } from './own-platform.ts';
import { lampCsv } from '../simulators/index.ts';

const USAGE = `npm run bench:onboard -- [--devices 10000]

  --devices N  lamps in the file (default 10000, at most 20000)`;

const { values } = readCommandLine({ usage: USAGE, options: { devices: { type: 'string' } } });
const opts = z.object({ devices: z.coerce.number().int().min(1).max(20_000).default(10_000) }).parse(values);

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const gc = (globalThis as { gc?: () => void }).gc;

async function main(): Promise<void> {
  const own = await startOwnPlatform('onboard');
  const { platform, adminToken } = own;
  try {
    const csv = lampCsv(opts.devices);
    const send = async (query = '') => {
      let peak = process.memoryUsage().rss;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${platform.apiPort}/api/devices/bulk${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'text/csv', accept: 'text/csv' },
        body: csv,
      });
      const text = await res.text();
      const ms = performance.now() - t0;
      clearInterval(sampler);
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
      return { ms, peak, rows: text.trimEnd().split('\n').length - 1 };
    };
    gc?.();
    const before = process.memoryUsage();
    const dry = await send('?dry_run=true');
    const created = await send();
    gc?.();
    const after = process.memoryUsage();
    const again = await send();
    const count = platform.registry.listDevices({ kind: 'streetlight' }).length;
    if (count !== opts.devices) throw new Error(`${count} lamps in the registry, ${opts.devices} sent`);
    process.stdout.write(
      [
        `bulk onboarding: ${opts.devices} lamps, CSV ${mb(Buffer.byteLength(csv))}, Node.js ${process.version}`,
        `  dry run (checked, nothing created):   ${dry.ms.toFixed(0)} ms`,
        `  created, one transaction:             ${created.ms.toFixed(0)} ms (${((opts.devices / created.ms) * 1000).toFixed(0)} devices/s), ${created.rows} secrets in the answer`,
        `  the same file again (all unchanged):  ${again.ms.toFixed(0)} ms`,
        `  platform process, resident: ${mb(before.rss)} before, peak ${mb(Math.max(dry.peak, created.peak))} while serving`,
        `  heap after a full collection: ${mb(before.heapUsed)} before, ${mb(after.heapUsed)} after (${mb(after.heapUsed - before.heapUsed)} kept for ${opts.devices} devices${gc === undefined ? '; run with --expose-gc for exact figures' : ''})`,
        '',
      ].join('\n'),
    );
  } finally {
    await own.close();
  }
}

runBenchmark(main);

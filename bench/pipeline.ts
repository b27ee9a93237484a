// `npm run bench`: N simulated devices publishing QoS 1 at a given rate, through three systems in the same
// run against the same InfluxDB — raw line protocol (the ceiling), Mosquitto with a plain batching
// subscriber (the baseline), and the platform — reporting readings stored per second, publish-to-stored
// latency and peak memory. Loopback only; every server on a free port; all files in a temporary folder.
//
//   npm run bench -- --devices 200 --rate 30000 --duration 20 --qos 1 [--only platform,mosquitto]
//                    [--markdown | --json] [--profile <dir>] [--raw-batch 5000] [--raw-concurrency 1]
//                    [--trace] [--pause 3] [--keep]
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { startLocalInfluxd } from '../influx/index.ts';
import { formatProfile, summarizeProfile } from './profile.ts';
import { findPid } from './proc.ts';
import { machineLine, markdownTable, plainTable, type Row } from './report.ts';
import { runMosquitto, runPlatform, runRaw, type BenchContext } from './systems.ts';
import { benchDevices } from './workload.ts';

const SYSTEMS = ['raw', 'mosquitto', 'platform'] as const;
type System = (typeof SYSTEMS)[number];

const Options = z.object({
  devices: z.coerce.number().int().min(1).max(10_000).default(200),
  rate: z.coerce.number().positive().max(1_000_000).default(30_000),
  duration: z.coerce.number().positive().max(600).default(20),
  qos: z
    .enum(['0', '1'])
    .default('1')
    .transform((q) => (q === '1' ? 1 : 0)),
  only: z
    .string()
    .default(SYSTEMS.join(','))
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(SYSTEMS)).min(1)),
  markdown: z.boolean().default(false),
  /** The rows as JSON on stdout (for scripts and the smoke test), instead of the table. */
  json: z.boolean().default(false),
  profile: z.string().optional(),
  'raw-concurrency': z.coerce.number().int().min(1).max(16).default(1),
  'raw-batch': z.coerce.number().int().min(1).max(1_000_000).default(5000),
  /** Seconds between systems, so InfluxDB's background work for one does not land on the next. */
  pause: z.coerce.number().min(0).max(60).default(3),
  keep: z.boolean().default(false),
  trace: z.boolean().default(false),
});

function parseOptions(argv: string[]): z.infer<typeof Options> {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      qos: { type: 'string' },
      only: { type: 'string' },
      markdown: { type: 'boolean' },
      json: { type: 'boolean' },
      profile: { type: 'string' },
      'raw-concurrency': { type: 'string' },
      'raw-batch': { type: 'string' },
      pause: { type: 'string' },
      keep: { type: 'boolean' },
      trace: { type: 'boolean' },
    },
  });
  const parsed = Options.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  --${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`bad options:\n${problems}`);
  }
  return parsed.data;
}

const progress = (line: string) => process.stderr.write(`  ${line}\n`);

/** The run's temporary folder, removed on the way out however the run ends (unless --keep). */
let workDirToRemove: string | undefined;
process.once('exit', () => {
  if (workDirToRemove !== undefined) rmSync(workDirToRemove, { recursive: true, force: true });
});

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'city-bench-'));
  if (!opts.keep) workDirToRemove = workDir;
  const profileFile =
    opts.profile === undefined
      ? undefined
      : path.resolve(opts.profile, `platform-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  if (profileFile !== undefined) await mkdir(path.dirname(profileFile), { recursive: true });
  const influxDir = path.join(workDir, 'influxdb');
  const influxd = await startLocalInfluxd({ dataDir: influxDir, port: 0 });
  const rows: Row[] = [];
  try {
    const ctx: BenchContext = {
      influxUrl: influxd.url,
      influxPid: findPid(path.join(influxDir, 'influxd.conf')),
      workDir,
      devices: benchDevices(opts.devices),
      rate: opts.rate,
      durationS: opts.duration,
      qos: opts.qos === 1 ? 1 : 0,
      rawConcurrency: opts['raw-concurrency'],
      rawBatch: opts['raw-batch'],
      trace: opts.trace,
      profileFile,
      progress,
    };
    const run: Record<System, (c: BenchContext) => Promise<Row>> = {
      raw: runRaw,
      mosquitto: runMosquitto,
      platform: runPlatform,
    };
    const order = SYSTEMS.filter((s) => opts.only.includes(s));
    progress(
      `${opts.devices} devices, ${opts.rate.toLocaleString('en-US')} readings/s, ${opts.duration} s, QoS ${opts.qos}; ` +
        `InfluxDB at ${influxd.url}; systems: ${order.join(', ')}`,
    );
    for (const [i, system] of order.entries()) {
      if (i > 0) await sleep(opts.pause * 1000);
      const row = await run[system](ctx);
      rows.push(row);
      progress(`${system}: done`);
    }
  } finally {
    await influxd.stop();
    if (opts.keep) progress(`files kept in ${workDir}`);
  }

  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
  const header = [
    `command: ${command}`,
    `machine: ${machineLine()}`,
    `load: ${opts.devices} devices, ${opts.rate.toLocaleString('en-US')} readings/s offered for ${opts.duration} s, QoS ${opts.qos}`,
  ];
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ command, machine: machineLine(), rows })}\n`);
  } else if (opts.markdown) {
    process.stdout.write(`${header.map((h) => `- ${h}`).join('\n')}\n\n${markdownTable(rows)}\n`);
  } else {
    process.stdout.write(`\n${header.join('\n')}\n\n${plainTable(rows)}\n`);
  }
  if (profileFile !== undefined && opts.only.includes('platform')) {
    process.stdout.write(`\nplatform process, first publish to stop (${profileFile}):\n`);
    process.stdout.write(`${formatProfile(await summarizeProfile(profileFile))}\n`);
  }
}

// Ctrl-C: exit through 'exit', where every child, Mosquitto and influxd are killed and the folder removed.
process.once('SIGINT', () => process.exit(130));

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

// `npm run bench`: N simulated devices publishing QoS 1 at a given rate, through several systems in the
// same run against the same InfluxDB — raw line protocol (the ceiling), Mosquitto with a plain batching
// subscriber (the baseline), the platform without rules (an empty rule folder) and the platform with its
// rule set — reporting readings stored per second, publish-to-stored latency and peak memory, and for the
// platform the alert probe's publish-to-alert latency. `--rules` compares the platform with and without
// rules at half the maximum rate. Loopback only; every server on a free port; files in a temporary folder.
//
//   npm run bench -- --devices 200 --rate 30000 --duration 20 --warmup 5 --qos 1 [--only platform,mosquitto]
//                    [--rules] [--alert-rate 10] [--notify webhook|dead|off] [--markdown | --json] [--profile <dir>]
//                    [--raw-batch 5000] [--raw-concurrency 1] [--trace] [--pause 3] [--keep]
//   npm run bench -- --connections [--storm 10000] [--flood 2000] [--flood-seconds 20] [--baseline 10]
//                    [--markdown | --json]
//
// `--connections` measures connections instead (bench/connections.ts): a connect storm, the memory of idle
// devices and a flood of wrong passwords, with the PUBACK latency of devices already connected.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { EXIT_USAGE, readCommandLine } from '../cli/index.ts';
import { startLocalInfluxd } from '../influx/index.ts';
import { connectionReport, runConnections } from './connections.ts';
import { runPlatformSystem } from './platform-system.ts';
import { MOSQUITTO } from './mosquitto.ts';
import { formatProfile, summarizeProfile } from './profile.ts';
import { findPid } from './proc.ts';
import { machineLine, markdownTable, plainTable, type Row } from './report.ts';
import { rulesMarkdown, rulesPlain, rulesSummary, type RulesSummary } from './rules-report.ts';
import { runMosquitto, runRaw, type BenchContext } from './systems.ts';
import { benchDevices } from './workload.ts';

const SYSTEMS = ['raw', 'mosquitto', 'platform-norules', 'platform'] as const;
type System = (typeof SYSTEMS)[number];
const DEFAULT_SYSTEMS: readonly System[] = ['raw', 'mosquitto', 'platform'];
const RULES_SYSTEMS: readonly System[] = ['platform-norules', 'platform'];

/** The most the platform stores here (BENCHMARKS.md: 30,000/s, one core busy), and half of it, which
 * is where the rules engine is measured. */
const MAX_RATE = 30_000;
const RULES_RATE = MAX_RATE / 2;

const Options = z.object({
  devices: z.coerce.number().int().min(1).max(10_000).default(200),
  /** Default: 30,000/s, or 15,000/s with --rules. */
  rate: z.coerce.number().positive().max(1_000_000).optional(),
  duration: z.coerce.number().positive().max(600).default(20),
  /**
   * Seconds of load before the measured window: readings published then are stored and counted, but their
   * latencies are not taken (start-up — V8 compiling the hot path, InfluxDB creating the shard — is not the
   * steady state the goals are about). 0 times every reading.
   */
  warmup: z.coerce.number().min(0).max(120).default(5),
  qos: z
    .enum(['0', '1'])
    .default('1')
    .transform((q) => (q === '1' ? 1 : 0)),
  /** Default: raw, mosquitto, platform; or platform-norules, platform with --rules. */
  only: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(SYSTEMS)).min(1))
    .optional(),
  /** The rules engine's cost and alert latency: the platform without and with rules, at half the maximum. */
  rules: z.boolean().default(false),
  /** The alert probe's street-gauge readings per second against the platform; 0 turns it off. */
  'alert-rate': z.coerce.number().min(0).max(1000).default(10),
  /**
   * The webhook the alert probe gives the flood committee: `webhook` answers 204 and times each alert's
   * notification; `dead` accepts connections and never answers (a receiver down: ingest must not mind);
   * `off` gives none.
   */
  notify: z.enum(['webhook', 'dead', 'off']).default('webhook'),
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
  connections: z.boolean().default(false),
  /** Devices connecting at once in the connection scenario; below this machine's 20,000 open files. */
  storm: z.coerce.number().int().min(1).max(19_000).default(10_000),
  flood: z.coerce.number().int().min(0).max(100_000).default(2_000),
  'flood-seconds': z.coerce.number().positive().max(600).default(20),
  /** Seconds of the connection scenario's baseline, before the storm. */
  baseline: z.coerce.number().positive().max(600).default(10),
});

const USAGE = `usage: npm run bench -- [options]        (BENCHMARKS.md says what it measures and how)
  --devices <n>          simulated stations, one MQTT connection each (default 200)
  --rate <n>             readings per second offered (default 30000; 15000 with --rules)
  --duration <s>         seconds of publishing measured (default 20)
  --warmup <s>           seconds of publishing before, stored but not timed (default 5)
  --qos <0|1>            (default 1)
  --only <systems>       raw,mosquitto,platform-norules,platform, comma-separated
  --rules                the platform without and with its rule set, at half the maximum rate
  --alert-rate <n>       the alert probe's readings per second; 0 turns it off (default 10)
  --notify <mode>        the flood committee's webhook the probe serves: webhook (answers, timed;
                         the default), dead (never answers) or off
  --markdown | --json    the table as Markdown, or the rows as JSON
  --profile <dir>        a CPU profile of the platform under load, summarised at the end
  --trace                time each stage inside the platform
  --raw-batch <n>        lines per raw POST (default 5000)
  --raw-concurrency <n>  raw POSTs in flight (default 1)
  --pause <s>            seconds between systems (default 3)
  --keep                 keep the temporary folder
  --connections          the connection scenarios instead: a connect storm, idle memory, a wrong-password flood
  --storm <n>            devices connecting at once (default 10000, at most 19000)
  --flood <n>            wrong-password CONNECTs (default 2000)
  --flood-seconds <s>    over this many seconds (default 20)
  --baseline <s>         seconds of publishing before the storm (default 10)
  --help                 this text`;

function parseOptions(argv: string[]): z.infer<typeof Options> {
  const { values } = readCommandLine({
    usage: USAGE,
    argv,
    options: {
      devices: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      qos: { type: 'string' },
      only: { type: 'string' },
      rules: { type: 'boolean' },
      'alert-rate': { type: 'string' },
      notify: { type: 'string' },
      markdown: { type: 'boolean' },
      json: { type: 'boolean' },
      profile: { type: 'string' },
      'raw-concurrency': { type: 'string' },
      'raw-batch': { type: 'string' },
      pause: { type: 'string' },
      keep: { type: 'boolean' },
      trace: { type: 'boolean' },
      connections: { type: 'boolean' },
      storm: { type: 'string' },
      flood: { type: 'string' },
      'flood-seconds': { type: 'string' },
      baseline: { type: 'string' },
    },
  });
  const parsed = Options.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  --${i.path.join('.')}: ${i.message}`).join('\n');
    process.stderr.write(`bad options:\n${problems}\n\n${USAGE}\n`);
    process.exit(EXIT_USAGE);
  }
  return parsed.data;
}

const progress = (line: string) => process.stderr.write(`  ${line}\n`);

/** The run's temporary folder, removed on the way out however the run ends (unless --keep). */
let workDirToRemove: string | undefined;
process.once('exit', () => {
  if (workDirToRemove !== undefined) rmSync(workDirToRemove, { recursive: true, force: true });
});

type Options = z.infer<typeof Options>;

/** What the options leave to defaults: the systems, in the fixed order, and the rate. */
function resolved(opts: Options): { order: System[]; rate: number } {
  const only = opts.only ?? (opts.rules ? RULES_SYSTEMS : DEFAULT_SYSTEMS);
  return {
    order: SYSTEMS.filter((s) => only.includes(s)),
    rate: opts.rate ?? (opts.rules ? RULES_RATE : MAX_RATE),
  };
}

/** One CPU profile per platform system, named after it and the run's start. */
function profileFiles(dir: string | undefined): ((system: string) => string) | undefined {
  if (dir === undefined) return undefined;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return (system) => path.resolve(dir, `${system}-${stamp}.cpuprofile`);
}

const runners: Record<System, (c: BenchContext) => Promise<Row>> = {
  raw: runRaw,
  mosquitto: runMosquitto,
  'platform-norules': (c) => runPlatformSystem(c, 'platform-norules'),
  platform: (c) => runPlatformSystem(c, 'platform'),
};

interface RunResult {
  readonly rows: Map<System, Row>;
  /** CPU profiles written, by system. */
  readonly profiles: Array<[System, string]>;
}

function benchContext(opts: Options, workDir: string, influxUrl: string, influxPid?: number): BenchContext {
  return {
    influxUrl,
    influxPid,
    workDir,
    devices: benchDevices(opts.devices),
    rate: resolved(opts).rate,
    durationS: opts.duration,
    warmupS: opts.warmup,
    qos: opts.qos === 1 ? 1 : 0,
    rawConcurrency: opts['raw-concurrency'],
    rawBatch: opts['raw-batch'],
    trace: opts.trace,
    profileFile: profileFiles(opts.profile),
    alertRate: opts['alert-rate'],
    notify: opts.notify,
    progress,
  };
}

/** Installs Mosquitto (the baseline) when this run needs it and it is missing: only after the options
 * were read, so `--help` or a mistake installs nothing. */
function ensureMosquitto(order: readonly System[]): void {
  if (!order.includes('mosquitto') || existsSync(MOSQUITTO)) return;
  progress('Mosquitto (the baseline) is missing: installing it');
  const run = spawnSync('bash', ['scripts/install-deps.sh', 'mosquitto'], { stdio: 'inherit' });
  if (run.status !== 0)
    throw new Error('could not install mosquitto: bash scripts/install-deps.sh mosquitto');
}

async function runAll(opts: Options, workDir: string): Promise<RunResult> {
  const { order, rate } = resolved(opts);
  ensureMosquitto(order);
  if (opts.profile !== undefined) await mkdir(path.resolve(opts.profile), { recursive: true });
  const influxDir = path.join(workDir, 'influxdb');
  const influxd = await startLocalInfluxd({ dataDir: influxDir, port: 0 });
  const rows = new Map<System, Row>();
  const profiles: Array<[System, string]> = [];
  try {
    const ctx = benchContext(opts, workDir, influxd.url, findPid(path.join(influxDir, 'influxd.conf')));
    progress(
      `${opts.devices} devices, ${rate.toLocaleString('en-US')} readings/s, ${opts.warmup} s warm-up + ${opts.duration} s, QoS ${opts.qos}; ` +
        `InfluxDB at ${influxd.url}; systems: ${order.join(', ')}`,
    );
    for (const [i, system] of order.entries()) {
      if (i > 0) await sleep(opts.pause * 1000);
      rows.set(system, await runners[system](ctx));
      progress(`${system}: done`);
    }
    for (const system of order)
      if (ctx.profileFile !== undefined && system.startsWith('platform'))
        profiles.push([system, ctx.profileFile(system)]);
  } finally {
    await influxd.stop();
    if (opts.keep) progress(`files kept in ${workDir}`);
  }
  return { rows, profiles };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'city-bench-'));
  if (!opts.keep) workDirToRemove = workDir;
  if (opts.connections) return connections(opts, workDir);
  const { rows, profiles } = await runAll(opts, workDir);
  print(opts, rows);
  for (const [system, file] of profiles) {
    process.stdout.write(`\n${system} process, first publish to stop (${file}):\n`);
    process.stdout.write(`${formatProfile(await summarizeProfile(file))}\n`);
  }
}

async function connections(opts: Options, workDir: string): Promise<void> {
  const settings = {
    ...{ storm: opts.storm, working: 20, workingRate: 5, baselineSeconds: opts.baseline },
    ...{ flood: opts.flood, floodSeconds: opts['flood-seconds'], progress },
  };
  const result = await runConnections(settings, workDir);
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ command, machine: machineLine(), result })}\n`);
    return;
  }
  const header = [`command: ${command}`, `machine: ${machineLine()}`];
  const lines = opts.markdown ? header.map((h) => `- ${h}`) : header;
  process.stdout.write(`\n${lines.join('\n')}\n\n${connectionReport(result, opts.markdown)}\n`);
}

/** The table, and with both platform variants the rules engine's account, as text, Markdown or JSON. */
function print(opts: Options, bySystem: Map<System, Row>): void {
  const rows = [...bySystem.values()];
  const withRules = bySystem.get('platform');
  const withoutRules = bySystem.get('platform-norules');
  const rules: RulesSummary | undefined =
    withRules && withoutRules ? rulesSummary(withRules, withoutRules) : undefined;
  const { rate } = resolved(opts);
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
  const header = [
    `command: ${command}`,
    `machine: ${machineLine()}`,
    `load: ${opts.devices} devices, ${rate.toLocaleString('en-US')} readings/s offered for ${opts.warmup + opts.duration} s, QoS ${opts.qos}; ` +
      `latencies of the readings published after the first ${opts.warmup} s (warm-up)`,
  ];
  if (opts['alert-rate'] > 0 && (withRules || withoutRules))
    header.push(
      `alert probe: one street-flood gauge, ${opts['alert-rate']} readings/s, against the platform`,
    );
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ command, machine: machineLine(), rows, rules })}\n`);
  } else if (opts.markdown) {
    const extra = rules === undefined ? '' : `\n\n${rulesMarkdown(rules)}`;
    process.stdout.write(`${header.map((h) => `- ${h}`).join('\n')}\n\n${markdownTable(rows)}${extra}\n`);
  } else {
    const extra = rules === undefined ? '' : `\n\n${rulesPlain(rules)}`;
    process.stdout.write(`\n${header.join('\n')}\n\n${plainTable(rows)}${extra}\n`);
  }
}

// Ctrl-C: exit through 'exit', where every child, Mosquitto and influxd are killed and the folder removed.
process.once('SIGINT', () => process.exit(130));

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

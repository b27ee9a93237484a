// The platform under load, as `npm start` runs it, in two variants: with the rule set it loads by default
// (CITY_RULES_DIR unset: the Huế rules) and with an empty rule folder — a valid, empty rule set — so one
// run gives the rules engine's cost. With the alert probe on, a process of its own publishes a street
// gauge's readings during the measured window and times the alerts they cause (bench/run-alert-probe.ts);
// it runs against both variants, so both carry the same load.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProbeSummary } from './alert-probe.ts';
import {
  countInDb,
  cpuNote,
  driveLoad,
  influxRss,
  ms,
  mqttRow,
  READY_TIMEOUT_MS,
  settleAndStop,
  sysNote,
  thousands,
  type BenchContext,
} from './drive.ts';
import { forkChild, ProbeMessage, SutMessage, type ProbeSetup, type RuleCoverage } from './ipc.ts';
import type { EngineTiming, Row } from './report.ts';

/** Keep in step with the `start` script in package.json. */
const PLATFORM_NODE_FLAGS = ['--max-semi-space-size=64'];
/** After the load stops: how long the probe waits for transitions still on their way. */
const PROBE_GRACE_MS = 15_000;
/** Beyond the run's duration, seconds the probe may go on publishing (the load generator's drain). */
const PROBE_MARGIN_S = 60;

export const PLATFORM_SYSTEMS = ['platform-norules', 'platform'] as const;
export type PlatformSystem = (typeof PLATFORM_SYSTEMS)[number];

const VARIANTS: Record<PlatformSystem, { label: string; db: string; withRules: boolean }> = {
  platform: { label: 'platform', db: 'bench_platform', withRules: true },
  'platform-norules': { label: 'platform, no rules', db: 'bench_platform_norules', withRules: false },
};

/**
 * The routing of a bench run: every alert to its owner, each (rule, device) a group told at once, so the
 * webhook's latency is the notifier's and the receiver's, not a group's wait (Huế's routing waits 10 s or
 * 30 s on purpose, to gather a district's alerts).
 */
const BENCH_ROUTING = `defaults: { group_by: [agency, rule, device], group_wait: 0s, group_interval: 0s }
routes:
  - receivers: [$owner]
`;

function startProbe(ctx: BenchContext, port: number, setup: ProbeSetup, expectAlerts: boolean) {
  const settings = {
    port,
    setup,
    notify: ctx.notify,
    rate: ctx.alertRate,
    maxReadings: Math.ceil(ctx.alertRate * (ctx.warmupS + ctx.durationS + PROBE_MARGIN_S)),
    expectAlerts,
    graceMs: PROBE_GRACE_MS,
  };
  const child = forkChild('run-alert-probe.ts', settings, ProbeMessage);
  return {
    ready: child.next((m) => (m.type === 'ready' ? m : undefined), 30_000, 'ready'),
    mark: (measureFrom: number) => child.mark(measureFrom),
    /** Stops publishing; resolves once the outstanding transitions arrived or the grace ran out. */
    async finish(): Promise<ProbeSummary> {
      const result = child.next(
        (m) => (m.type === 'result' ? m : undefined),
        PROBE_GRACE_MS + 15_000,
        'result',
      );
      child.stop();
      const { type: _type, ...summary } = await result;
      await child.exited;
      return summary;
    },
  };
}

export async function runPlatformSystem(ctx: BenchContext, system: PlatformSystem): Promise<Row> {
  const { label, db, withRules } = VARIANTS[system];
  const dataDir = path.join(ctx.workDir, system);
  await mkdir(dataDir, { recursive: true });
  // An empty folder is an empty rule set (rules/loader.ts accepts zero files): the engine runs, with
  // nothing to evaluate.
  const rulesDir = withRules ? undefined : path.join(ctx.workDir, 'empty-rule-folder');
  if (rulesDir !== undefined) await mkdir(rulesDir, { recursive: true });
  const routingFile = path.join(ctx.workDir, 'bench-routing.yaml');
  await writeFile(routingFile, BENCH_ROUTING);
  const settings = {
    influxUrl: ctx.influxUrl,
    db,
    dataDir,
    devices: ctx.devices,
    trace: ctx.trace,
    profileFile: ctx.profileFile?.(system),
    rulesDir,
    probe: ctx.alertRate > 0,
    env: { CITY_ROUTING_FILE: routingFile },
  };
  // The platform runs with the Node.js flags `npm start` gives it (package.json).
  const sut = forkChild('run-platform.ts', settings, SutMessage, PLATFORM_NODE_FLAGS);
  ctx.progress(`${label}: starting, provisioning ${ctx.devices.length} devices`);
  const ready = await sut.next((m) => (m.type === 'ready' ? m : undefined), READY_TIMEOUT_MS, 'ready');
  const probe = ready.probe && startProbe(ctx, ready.port, ready.probe, withRules);
  await probe?.ready;
  const { load, window } = await driveLoad(ctx, system, ready.port, ready.devices, sut, (measureFrom) =>
    probe?.mark(measureFrom),
  );
  const alerts = await probe?.finish();
  const result = await settleAndStop(ctx, system, sut, load.sent);
  const windowMs = Date.now() - window.startedAt;
  const influx = window.influx?.stop();
  const row = mqttRow(label, load, result, await countInDb(ctx, db), result.usage.maxRssKb);
  const cpuMs = result.usage.cpuMs - window.sutCpuAtStart;
  const cpu: Array<[string, number]> = [
    [system, cpuMs],
    ['load generator', load.cpuMsPublishing],
  ];
  if (influx) cpu.push(['influxd', influx.cpuMs]);
  row.notes.push(cpuNote(windowMs, cpu));
  row.notes.push(sysNote(system, result, window));
  if (influx) row.notes.push(influxRss(influx.maxRssKb));
  if (ready.rules) row.notes.push(rulesNote(ready.rules));
  if (alerts) row.notes.push(alertsNote(alerts, withRules, ctx.alertRate));
  if (alerts?.webhook) row.notes.push(webhookNote(alerts.webhook, withRules));
  for (const line of result.trace ?? []) ctx.progress(`trace: ${line}`);
  const timing = result.rules && engineTiming(result.rules, result.stored);
  if (timing) row.notes.push(timingNote(timing));
  return {
    ...row,
    cpuUsPerReading: result.stored > 0 ? (cpuMs * 1000) / result.stored : undefined,
    rules: ready.rules,
    alerts,
    timing,
  };
}

type Timing = NonNullable<Extract<SutMessage, { type: 'result' }>['rules']>;

function engineTiming(t: Timing, stored: number): EngineTiming | undefined {
  if (t.readings === 0 || stored === 0) return undefined;
  return {
    engineUsPerReading: ((t.engineMs - t.transitionsMs) * 1000) / t.readings,
    gcUsPerReading: (t.gcMs * 1000) / stored,
    transitions: t.transitions,
  };
}

function timingNote(t: EngineTiming): string {
  const each =
    t.transitions.count === 0
      ? ''
      : `; ${t.transitions.count} alert transitions, each ${latencyText(t.transitions)}`;
  return (
    `per reading: ${t.engineUsPerReading.toFixed(1)} µs in the rules engine (transitions apart), ` +
    `${t.gcUsPerReading.toFixed(1)} µs of garbage collection${each}`
  );
}

function rulesNote(r: RuleCoverage): string {
  if (r.loaded === 0) return 'rules: none (an empty rule folder)';
  const pending = r.station.selected.filter((id) => !r.station.evaluated.includes(id));
  const notYet = pending.length === 0 ? '' : ` (${pending.join(', ')} selects it, not evaluated yet)`;
  return (
    `rules: ${r.loaded} loaded from ${path.relative(process.cwd(), r.dir) || r.dir}; ` +
    `a bench station is watched by ${r.station.evaluated.join(', ') || 'none'}${notYet}`
  );
}

const latencyText = (l: ProbeSummary['latency']) =>
  l.p50 === null || l.p99 === null || l.max === null
    ? '–'
    : `p50 ${ms(l.p50)}, p99 ${ms(l.p99)}, max ${ms(l.max)}`;

function webhookNote(w: NonNullable<ProbeSummary['webhook']>, withRules: boolean): string {
  if (w.mode === 'dead')
    return 'webhook: the flood committee’s receiver accepts and never answers (each attempt times out)';
  if (!withRules) return `webhook: no notification expected, ${w.unexpected} came`;
  const lost = w.missing > 0 ? `, ${w.missing} never told` : '';
  return `webhook: ${w.received} of ${w.expected} transitions notified${lost}; publish to webhook ${latencyText(w.latency)}`;
}

function alertsNote(a: ProbeSummary, withRules: boolean, rate: number): string {
  const probe = `alert probe: ${thousands(a.published)} street-gauge readings at ${rate}/s`;
  const acks = `their PUBACK ${latencyText(a.ackLatency)}`;
  if (!withRules) return `${probe} (no alert expected, ${a.unexpected} came); ${acks}`;
  const lost = a.missing > 0 ? `, ${a.missing} NEVER ARRIVED` : '';
  const odd = a.unexpected > 0 ? `, ${a.unexpected} unexpected` : '';
  return (
    `${probe}, ${a.received} of ${a.expected} transitions arrived${lost}${odd}; ` +
    `publish to alert ${latencyText(a.latency)}; ${acks}`
  );
}

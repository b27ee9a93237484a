// Driving one MQTT system under test: the load generator against it, progress while it runs, waiting
// until it has stored what was sent, and the row of the table it earns.
import { setTimeout as sleep } from 'node:timers/promises';
import { createInfluxClient, ident } from '../influx/index.ts';
import { forkChild, LoadMessage, type Child, type Device, type SutMessage } from './ipc.ts';
import { watchProc } from './proc.ts';
import type { Row } from './report.ts';
import type { BenchDevice } from './workload.ts';

export interface BenchContext {
  readonly influxUrl: string;
  /** influxd's pid, to account its memory and CPU to the system that loads it; undefined if not found. */
  readonly influxPid: number | undefined;
  readonly workDir: string;
  readonly devices: readonly BenchDevice[];
  readonly rate: number;
  readonly durationS: number;
  /** Seconds of load before the measured window: its readings are stored and counted, not timed. */
  readonly warmupS: number;
  readonly qos: 0 | 1;
  readonly rawConcurrency: number;
  /** Time the platform's stages from inside its process (bench/trace.ts). */
  readonly trace: boolean;
  /** Lines per raw POST. */
  readonly rawBatch: number;
  /** Where to write a platform's CPU profile of the measured window, by system; undefined: no profile. */
  readonly profileFile: ((system: string) => string) | undefined;
  /** The alert probe's readings per second against the platform; 0: no probe. */
  readonly alertRate: number;
  /** The webhook the probe gives the gauge's agency: answering (`webhook`), hanging (`dead`), or none. */
  readonly notify: 'webhook' | 'dead' | 'off';
  readonly progress: (line: string) => void;
}

/** How long a system under test may take to start and provision the bench's devices. */
export const READY_TIMEOUT_MS = 180_000;

/** `SELECT count(pm25)` of the bench's measurement: what InfluxDB really holds. */
export async function countInDb(ctx: BenchContext, db: string): Promise<number> {
  const client = createInfluxClient({ url: ctx.influxUrl, db });
  try {
    const [series] = await client.query(`SELECT count(${ident('pm25')}) FROM ${ident('air_quality')}`);
    const value = series?.[0]?.values[0]?.[1];
    return typeof value === 'number' ? value : 0;
  } finally {
    await client.close();
  }
}

/** After the load stops: how long stored may stay unchanged before we stop waiting for the rest. */
const SETTLE_IDLE_MS = 15_000;
const SETTLE_MAX_MS = 120_000;

type LoadResult = Extract<LoadMessage, { type: 'result' }>;
type SutResult = Extract<SutMessage, { type: 'result' }>;

export const thousands = (n: number) => Math.round(n).toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
export const mib = (kb: number) => `${Math.round(kb / 1024)} MiB`;
export const ms = (v: number) => (v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);
export const influxRss = (kb: number) => `influxd peak RSS ${mib(kb)} (it holds every database so far)`;

export interface Window {
  /** Epoch ms of the first publish. */
  startedAt: number;
  /** The system's own CPU time at that moment (start-up, provisioning and connecting left out). */
  sutCpuAtStart: number;
  sutSysAtStart: number;
  readonly influx: ReturnType<typeof watchProc> | undefined;
}

/**
 * Drives the load against `port` while following the system's progress. The measured window opens at the
 * first publish: then the system is asked for its CPU time so far, and influxd starts being watched.
 */
export async function driveLoad(
  ctx: BenchContext,
  label: string,
  port: number,
  devices: readonly Device[],
  sut: Child<SutMessage>,
  onStarted: (measureFrom: number) => void = () => undefined,
): Promise<{ load: LoadResult; window: Window }> {
  let stored = 0;
  let backlog: number | undefined;
  let rssKb = 0;
  const window: Window = { startedAt: NaN, sutCpuAtStart: 0, sutSysAtStart: 0, influx: undefined };
  sut.on((m) => {
    if (m.type === 'progress') ({ stored, backlog, rssKb } = m);
    else if (m.type === 'mark') Object.assign(window, { sutCpuAtStart: m.cpuMs, sutSysAtStart: m.sysMs });
  });
  const load = forkChild(
    'run-load.ts',
    {
      port,
      devices,
      rate: ctx.rate,
      durationMs: (ctx.warmupS + ctx.durationS) * 1000,
      warmupMs: ctx.warmupS * 1000,
      qos: ctx.qos,
    },
    LoadMessage,
  );
  load.on((m) => {
    if (m.type === 'started') {
      window.startedAt = Date.now();
      const measureFrom = window.startedAt + ctx.warmupS * 1000;
      sut.mark(measureFrom);
      Object.assign(window, { influx: ctx.influxPid === undefined ? undefined : watchProc(ctx.influxPid) });
      onStarted(measureFrom);
    } else if (m.type === 'progress') {
      const t = Number.isNaN(window.startedAt) ? 0 : Math.round((Date.now() - window.startedAt) / 1000);
      const queue = backlog === undefined ? '' : `  spool backlog ${thousands(backlog)}`;
      ctx.progress(
        `${label} ${t}s  published ${thousands(m.sent)}  acked ${thousands(m.acked)}  stored ${thousands(stored)}` +
          `${queue}  RSS ${mib(rssKb)}`,
      );
    }
  });
  const timeout = (ctx.warmupS + ctx.durationS + 120) * 1000;
  const result = await load.next((m) => (m.type === 'result' ? m : undefined), timeout, 'its result');
  await load.exited;
  return { load: result, window };
}

/** Waits until the system has stored `target` readings, or stopped making progress; then stops it. */
export async function settleAndStop(
  ctx: BenchContext,
  label: string,
  sut: Child<SutMessage>,
  target: number,
): Promise<SutResult> {
  let stored = 0;
  let changedAt = Date.now();
  let shownAt = Date.now();
  sut.on((m) => {
    if (m.type !== 'progress') return;
    if (m.stored !== stored) {
      stored = m.stored;
      changedAt = Date.now();
    }
    if (Date.now() - shownAt >= 1000) {
      shownAt = Date.now();
      const queue = m.backlog === undefined ? '' : `  spool backlog ${thousands(m.backlog)}`;
      ctx.progress(
        `${label} draining: stored ${thousands(stored)} of ${thousands(target)}${queue}  RSS ${mib(m.rssKb)}`,
      );
    }
  });
  const deadline = Date.now() + SETTLE_MAX_MS;
  while (stored < target && Date.now() - changedAt < SETTLE_IDLE_MS && Date.now() < deadline)
    await sleep(100);
  const result = sut.next((m) => (m.type === 'result' ? m : undefined), 30_000, 'its result');
  sut.stop();
  const r = await result;
  await sut.exited;
  return r;
}

export function mqttRow(
  system: string,
  load: LoadResult,
  sut: SutResult,
  inDb: number,
  peakRssKb: number,
): Row {
  const elapsed =
    load.firstPublishAt !== null && sut.lastStoredAt !== null ? sut.lastStoredAt - load.firstPublishAt : NaN;
  const notes = [`published ${thousands((load.sent * 1000) / load.durationMs)}/s`];
  if (load.ackLatency.p99 !== null) notes.push(`PUBACK p99 ${ms(load.ackLatency.p99)}`);
  if (sut.latency.max !== null) notes.push(`latency max ${ms(sut.latency.max)}`);
  if (sut.writes !== undefined && sut.writes.count > 0) {
    const { count, totalMs } = sut.writes;
    notes.push(
      `${thousands(count)} writes of ${thousands(sut.stored / count)} lines, ${ms(totalMs / count)} each on average`,
    );
  }
  if (load.refused > 0) notes.push(`${load.refused} connections refused`);
  if (load.closed > 0) notes.push(`${load.closed} connections lost`);
  if ((sut.failedWrites ?? 0) > 0) notes.push(`${sut.failedWrites} writes failed (their readings dropped)`);
  return {
    system,
    sent: load.sent,
    acked: load.acked,
    stored: sut.stored,
    inDb,
    perSecond: (sut.stored * 1000) / elapsed,
    p50: sut.latency.p50,
    p99: sut.latency.p99,
    max: sut.latency.max,
    peakRssKb,
    notes,
  };
}

/** CPU of each process over the window, in cores (CPU seconds per second of wall time). */
export function cpuNote(windowMs: number, parts: ReadonlyArray<readonly [string, number]>): string {
  const cores = parts.map(([name, cpuMs]) => `${name} ${(cpuMs / windowMs).toFixed(2)}`);
  return `CPU cores busy over the ${seconds(windowMs)} run: ${cores.join(', ')}`;
}

/** How much of a process's CPU went to the kernel: socket writes, fsync. */
export function sysNote(name: string, result: SutResult, window: Window): string {
  const cpu = result.usage.cpuMs - window.sutCpuAtStart;
  const sys = result.usage.sysMs - window.sutSysAtStart;
  return `${name} CPU ${Math.round((100 * sys) / cpu)} % in the kernel`;
}

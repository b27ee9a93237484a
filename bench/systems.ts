// The references the platform is compared with, run one after the other against the same influxd, each
// with a fresh database: the raw line-protocol ceiling and the Mosquitto baseline. The platform itself,
// with and without rules, is in platform-system.ts.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInfluxClient } from '../influx/index.ts';
import {
  countInDb,
  cpuNote,
  driveLoad,
  influxRss,
  mib,
  mqttRow,
  READY_TIMEOUT_MS,
  settleAndStop,
  sysNote,
  thousands,
  type BenchContext,
} from './drive.ts';
import { forkChild, RawMessage, SutMessage } from './ipc.ts';
import { startMosquitto } from './mosquitto.ts';
import { watchProc } from './proc.ts';
import type { Row } from './report.ts';

export type { BenchContext } from './drive.ts';

/** Lines per POST for the baseline's subscriber (the raw writer's default too). */
const BATCH_LINES = 5000;

async function createDb(ctx: BenchContext, db: string): Promise<void> {
  const client = createInfluxClient({ url: ctx.influxUrl, db });
  try {
    await client.ensureDatabase();
  } finally {
    await client.close();
  }
}

export async function runMosquitto(ctx: BenchContext): Promise<Row> {
  const db = 'bench_mosquitto';
  await createDb(ctx, db);
  const dir = path.join(ctx.workDir, 'mosquitto');
  await mkdir(dir, { recursive: true });
  const broker = await startMosquitto(dir);
  try {
    const settings = {
      port: broker.port,
      influxUrl: ctx.influxUrl,
      db,
      devices: ctx.devices,
      batchLines: BATCH_LINES,
      flushMs: 100,
    };
    const sut = forkChild('run-sink.ts', settings, SutMessage);
    await sut.next((m) => (m.type === 'ready' ? m : undefined), READY_TIMEOUT_MS, 'ready');
    // Mosquitto allows anonymous clients: the user name is sent and not checked.
    const devices = ctx.devices.map((d) => ({ ...d, secret: 'unchecked' }));
    let brokerCpuAtStart = 0;
    const { load, window } = await driveLoad(ctx, 'mosquitto', broker.port, devices, sut, () => {
      brokerCpuAtStart = broker.sample()?.cpuMs ?? 0;
    });
    const result = await settleAndStop(ctx, 'mosquitto', sut, load.sent);
    const windowMs = Date.now() - window.startedAt;
    const influx = window.influx?.stop();
    const mosq = broker.sample();
    const rss = result.usage.maxRssKb + (mosq?.hwmKb ?? 0);
    const row = mqttRow('Mosquitto + subscriber', load, result, await countInDb(ctx, db), rss);
    row.notes.push(`peak RSS: mosquitto ${mib(mosq?.hwmKb ?? 0)} + subscriber ${mib(result.usage.maxRssKb)}`);
    const cpu: Array<[string, number]> = [
      ['mosquitto', (mosq?.cpuMs ?? 0) - brokerCpuAtStart],
      ['subscriber', result.usage.cpuMs - window.sutCpuAtStart],
      ['load generator', load.cpuMsPublishing],
    ];
    if (influx) cpu.push(['influxd', influx.cpuMs]);
    row.notes.push(cpuNote(windowMs, cpu));
    row.notes.push(sysNote('subscriber', result, window));
    if (influx) row.notes.push(influxRss(influx.maxRssKb));
    return row;
  } finally {
    await broker.stop();
  }
}

export async function runRaw(ctx: BenchContext): Promise<Row> {
  const db = 'bench_raw';
  await createDb(ctx, db);
  const points = Math.round(ctx.rate * ctx.durationS);
  const influx = ctx.influxPid === undefined ? undefined : watchProc(ctx.influxPid);
  const child = forkChild(
    'run-raw.ts',
    {
      influxUrl: ctx.influxUrl,
      db,
      devices: ctx.devices,
      points,
      rate: ctx.rate,
      batchLines: ctx.rawBatch,
      concurrency: ctx.rawConcurrency,
    },
    RawMessage,
  );
  const started = Date.now();
  child.on((m) => {
    if (m.type === 'progress')
      ctx.progress(
        `raw ${Math.round((Date.now() - started) / 1000)}s  stored ${thousands(m.stored)} of ${thousands(points)}`,
      );
  });
  const r = await child.next((m) => (m.type === 'result' ? m : undefined), 600_000, 'its result');
  await child.exited;
  const influxUse = influx?.stop();
  const notes = [
    `${thousands(ctx.rawBatch)}-line POSTs, ${ctx.rawConcurrency} in flight`,
    `POST p50 ${r.writeLatency.p50?.toFixed(0) ?? '–'} ms, p99 ${r.writeLatency.p99?.toFixed(0) ?? '–'} ms`,
  ];
  const cpu: Array<[string, number]> = [['writer', r.cpuMsWriting]];
  if (influxUse) cpu.push(['influxd', influxUse.cpuMs]);
  notes.push(cpuNote(r.endedAt - r.startedAt, cpu));
  if (influxUse) notes.push(influxRss(influxUse.maxRssKb));
  if (r.failedWrites > 0) notes.push(`${r.failedWrites} writes failed`);
  return {
    system: 'raw line protocol (ceiling)',
    sent: points,
    acked: undefined,
    stored: r.stored,
    inDb: await countInDb(ctx, db),
    perSecond: (r.stored * 1000) / (r.endedAt - r.startedAt),
    p50: null,
    p99: null,
    max: null,
    peakRssKb: undefined,
    notes,
  };
}

// The writer against a real spool on disk and the integration tier's real influxd: it drains the spool,
// sets aside a batch InfluxDB refuses for good and carries on, and keeps everything while InfluxDB is away.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInfluxClient, freePort, type InfluxClient } from '../influx/index.ts';
import { freshDatabase, type FreshDatabase } from '../test/kits/influx.ts';
import { errno, faultyDisk } from '../test/kits/faulty-disk.ts';
import { eventually } from '../test/kits/platform.ts';
import { createSpool, type Spool, type SpoolBatch } from './spool.ts';
import { createWriter, type Writer, type WriterOptions } from './writer.ts';

const log = pino({ level: 'silent' });
const T0 = 1_795_000_000_000; // 2026-11-18, milliseconds (the client writes with precision=ms)

let database: FreshDatabase;
let dir: string;
let spool: Spool;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  database = await freshDatabase('writer');
});
afterAll(async () => {
  await database?.drop();
});
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'writer-'));
  spool = await createSpool({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 16 });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await spool.close();
  await fs.rm(dir, { recursive: true, force: true });
});

function startWriter(write: WriterOptions['write'], overrides: Partial<WriterOptions> = {}): Writer {
  const writer = createWriter({
    spool,
    write,
    log,
    maxBatchBytes: 64 * 1024,
    retry: { minMs: 10, maxMs: 50 },
    ...overrides,
  });
  cleanups.push(() => writer.close(100));
  return writer;
}

/** Appends whole lines and resolves once they are durable in the spool. */
const append = (lines: string[]) =>
  new Promise<void>((resolve, reject) =>
    spool.append(lines.map((l) => `${l}\n`).join(''), lines.length, (err) => (err ? reject(err) : resolve())),
  );

const values = async (measurement: string): Promise<unknown[]> => {
  const [series = []] = await database.client.query(`SELECT v FROM "${measurement}"`, { epoch: 'ms' });
  return series.flatMap((s) => s.values.map((row) => row[1]));
};

/** A promise settled by the callback handed to `subscribe` (for hooks the writer calls). */
function first<T>(subscribe: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve) => subscribe(resolve));
}

describe('createWriter', () => {
  it('writes what is appended to InfluxDB and leaves the spool empty', async () => {
    const writer = startWriter((body) => database.client.write(body));
    await append(Array.from({ length: 20 }, (_, i) => `drained,device=d${i % 3} v=${i} ${T0 + i}`));
    await writer.drained();
    expect(spool.stats()).toMatchObject({ pendingBytes: 0, pendingLines: 0 });
    expect(await values('drained')).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('sets aside a batch InfluxDB refuses for good, and writes the next one', async () => {
    await database.client.write(`conflict v=1 ${T0}\n`); // v is a float field from now on
    let stored = 0;
    let onRefused!: (batch: SpoolBatch, err: unknown) => void;
    const refused = first<[SpoolBatch, unknown]>((resolve) => (onRefused = (b, e) => resolve([b, e])));
    const writer = startWriter((body) => database.client.write(body), {
      onRefused: (batch, err) => onRefused(batch, err),
      onStored: () => stored++,
    });

    await append([`conflict v="text" ${T0 + 1}`]);
    const [batch, err] = await refused;
    expect(batch.body.toString()).toBe(`conflict v="text" ${T0 + 1}\n`);
    expect(err).toMatchObject({ code: 'INFLUX_ERR_BAD_REQUEST', retryable: false });

    await append([`conflict v=2 ${T0 + 2}`]);
    await writer.drained();
    expect(stored).toBe(1);
    expect(spool.stats()).toMatchObject({ pendingBytes: 0, pendingLines: 0 });
    expect(await values('conflict')).toEqual([1, 2]);
  });

  it('retries while InfluxDB is unreachable, confirms nothing, and stops leaving the lines spooled', async () => {
    // A port that was free a moment ago: nothing listens there, so every write is refused at connect.
    const closed: InfluxClient = createInfluxClient({
      url: `http://127.0.0.1:${await freePort()}`,
      db: 'nowhere',
    });
    cleanups.push(() => closed.close());
    let failures = 0;
    let stored = 0;
    let refused = 0;
    let onWriteFailed!: () => void;
    const retried = first<void>((resolve) => {
      onWriteFailed = () => {
        if (++failures >= 3) resolve();
      };
    });
    const writer = startWriter((body) => closed.write(body), {
      onWriteFailed: () => onWriteFailed(),
      onStored: () => stored++,
      onRefused: () => refused++,
    });
    const lines = Array.from({ length: 5 }, (_, i) => `away v=${i} ${T0 + i}`);
    await append(lines);
    await retried;

    await writer.close(100);
    expect([stored, refused]).toEqual([0, 0]);
    expect(spool.stats().pendingLines).toBe(5);

    // Still there for the next start: a spool reopened on the same folder offers the same lines.
    await spool.close();
    spool = await createSpool({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 16 });
    expect(spool.stats().pendingLines).toBe(5);
    const batch = await spool.read(spool.confirmed, 1 << 16);
    expect(batch?.body.toString()).toBe(lines.map((l) => `${l}\n`).join(''));
  });
});

describe('createWriter on a disk that fills and frees', () => {
  it('keeps retrying a checkpoint the full disk refuses, says it is stuck, and drains once space returns', async () => {
    const disk = faultyDisk();
    disk.fail('rename', errno('ENOSPC', 'rename'), { times: Infinity });
    const full = await fs.mkdtemp(path.join(os.tmpdir(), 'writer-full-'));
    const failing = await createSpool({
      dir: full,
      maxBytes: 1 << 20,
      segmentBytes: 1 << 16,
      fs: disk.fs,
    });
    cleanups.push(async () => {
      await failing.close().catch(() => undefined);
      await fs.rm(full, { recursive: true, force: true });
    });
    const stages: string[] = [];
    const writer = createWriter({
      spool: failing,
      write: (body) => database.client.write(body),
      log,
      maxBatchBytes: 64 * 1024,
      retry: { minMs: 10, maxMs: 50 },
      onSpoolFailed: (stage) => stages.push(stage),
    });
    cleanups.push(() => writer.close(100));
    const appendTo = (lines: string[]) =>
      new Promise<void>((resolve, reject) =>
        failing.append(lines.map((l) => `${l}\n`).join(''), lines.length, (err) =>
          err ? reject(err) : resolve(),
        ),
      );

    // Readings keep coming, as they do while InfluxDB is paused: a confirm soon checkpoints, and fails.
    let sent = 0;
    const more = async () => {
      await appendTo([`full v=${sent} ${T0 + sent}`]);
      sent += 1;
    };
    const stuck = await eventually(async () => {
      await more();
      return writer.status().stuck;
    });
    expect(stuck.stage).toBe('confirm');
    expect(stuck.error).toContain('ENOSPC');
    expect(stages).toContain('confirm');

    // A spell where reading the spool fails too.
    disk.fail('handle.read', errno('EIO', 'read'), { times: Infinity, file: '.seg' });
    await eventually(async () => {
      await more();
      return writer.status().stuck?.stage === 'read' ? true : undefined;
    });

    disk.heal();
    await writer.drained();
    await eventually(() => (writer.status().ok ? true : undefined));
    expect(failing.stats()).toMatchObject({ pendingBytes: 0, pendingLines: 0 });
    expect(await values('full')).toEqual(Array.from({ length: sent }, (_, i) => i));
  });
});

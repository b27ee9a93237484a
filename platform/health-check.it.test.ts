// /health against real parts: a spool on disk whose file system fails on cue (a full disk), the writer
// draining it to the integration tier's influxd. Unhealthy, with the reason, while the spool cannot
// write or the writer is stuck; healthy again once space returns.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpool, createWriter } from '../ingest/index.ts';
import { errno, faultyDisk } from '../test/kits/faulty-disk.ts';
import { freshDatabase, type FreshDatabase } from '../test/kits/influx.ts';
import { eventually } from '../test/kits/platform.ts';
import { createHealthCheck } from './health-check.ts';

const T0 = 1_795_000_000_000;
let database: FreshDatabase;
let dir: string;

beforeAll(async () => {
  database = await freshDatabase('health_check');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'health-check-'));
});
afterAll(async () => {
  await database?.drop();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('/health on a disk that fills and frees', () => {
  it('is unhealthy, saying why, while the spool cannot write or the writer is stuck, and healthy after', async () => {
    const disk = faultyDisk();
    const enospc = (call: 'write' | 'rename') => disk.fail(call, errno('ENOSPC', call), { times: Infinity });
    const spool = await createSpool({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 16, fs: disk.fs });
    const writer = createWriter({
      spool,
      write: (body) => database.client.write(body),
      log: pino({ level: 'silent' }),
      maxBatchBytes: 64 * 1024,
      retry: { minMs: 10, maxMs: 50 },
    });
    const health = createHealthCheck({ influx: database.client, spool, writer, clients: () => 0 });
    let sent = 0;
    const append = () =>
      new Promise<boolean>((resolve) =>
        spool.append(`health v=${sent} ${T0 + sent}\n`, 1, (err) => {
          if (!err) sent += 1;
          resolve(err === undefined);
        }),
      );
    try {
      expect(await append()).toBe(true);
      expect(await health()).toMatchObject({ ok: true, spool: { writable: true }, writer: { ok: true } });

      enospc('write');
      enospc('rename');
      expect(await append()).toBe(false);
      const report = await health();
      expect(report).toMatchObject({ ok: false, spool: { writable: false } });
      expect(JSON.stringify(report)).toContain('ENOSPC');

      // Space for the segment but not for the checkpoint: readings are taken, the writer is stuck.
      disk.heal();
      enospc('rename');
      const stuck = await eventually(async () => {
        await append();
        const r = await health();
        return r.ok === false && (r.writer as { ok: boolean }).ok === false ? r : undefined;
      });
      expect(stuck).toMatchObject({ spool: { writable: true }, writer: { stuck: { stage: 'confirm' } } });

      disk.heal();
      await writer.drained();
      await eventually(async () => ((await health()).ok ? true : undefined));
      // Every reading taken is stored; the last batch may still be on its way when /health turns ok.
      const stored = async () => {
        const [series = []] = await database.client.query('SELECT count(v) FROM health');
        return series[0]?.values[0]?.[1];
      };
      await eventually(async () => ((await stored()) === sent ? true : undefined));
      expect(await stored()).toBe(sent);
    } finally {
      await writer.close(100);
      await spool.close().catch(() => undefined);
    }
  });
});

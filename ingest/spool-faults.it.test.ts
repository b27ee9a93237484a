// The spool's failure branches, on a real temporary directory with faults injected through its `fs` seam:
// a reading that is not durably on disk must never be acknowledged, counted or handed to the writer, and
// the spool must carry on (or refuse loudly) after the fault.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errno, faultyDisk } from '../test/kits/faulty-disk.ts';
import { createSpool, type Spool, type SpoolOptions } from './spool.ts';
import type { IngestError } from './errors.ts';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'spool-faults-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** Ten lines of exactly 30 bytes each: segment sizes below are counted in lines. */
const line = (i: number) => `m,device=d${i} v=${i} ${1_700_000_000_000 + i}\n`;
const lines = (...ids: number[]) => ids.map(line).join('');
const countLines = (text: string) => text.split('\n').length - 1;

const open = (options: Partial<SpoolOptions> = {}) =>
  createSpool({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 16, ...options });

/** Appends each text as its own append, all at once (so the later ones share a group); the outcomes. */
const appendAll = (spool: Spool, texts: string[]) =>
  Promise.all(
    texts.map(
      (text) =>
        new Promise<IngestError | undefined>((resolve) =>
          spool.append(text, countLines(text), (err) => resolve(err)),
        ),
    ),
  );

/** Everything the spool hands the writer after its confirmed position (confirming nothing). */
async function readAll(spool: Spool): Promise<string> {
  let pos = spool.confirmed;
  let out = '';
  for (let batch = await spool.read(pos, 4096); batch; batch = await spool.read(pos, 4096)) {
    out += batch.body.toString();
    pos = batch.end;
  }
  return out;
}

/** The segment files on disk, in order. */
async function segmentFiles(): Promise<string[]> {
  const names = (await fsp.readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
  return Promise.all(names.map((n) => fsp.readFile(path.join(dir, n), 'utf8')));
}

/** What a fresh spool on the same directory, on node's own file system, has to send after a restart. */
async function afterRestart(): Promise<{ text: string; pendingLines: number }> {
  const spool = await open();
  const text = await readAll(spool);
  const { pendingLines } = spool.stats();
  await spool.close();
  return { text, pendingLines };
}

const expectStats = (spool: Spool, pending: string, segments = 1) =>
  expect(spool.stats()).toEqual({
    pendingBytes: Buffer.byteLength(pending),
    pendingLines: countLines(pending),
    segments,
  });

describe('spool appends under file-system faults', () => {
  it.each([
    { what: 'a short write', call: 'write', fault: 'short', cause: { code: 'EIO', message: 'short write' } },
    { what: 'a failed write', call: 'write', fault: errno('ENOSPC', 'write'), cause: { code: 'ENOSPC' } },
    {
      what: 'a failed fdatasync',
      call: 'fdatasync',
      fault: errno('EIO', 'fdatasync'),
      cause: { code: 'EIO' },
    },
  ] as const)(
    'refuses the whole group on $what, cuts its bytes off and goes on',
    async ({ call, fault, cause }) => {
      const disk = faultyDisk();
      const spool = await open({ fs: disk.fs, maxBytes: 4 * line(0).length });
      disk.fail(call, fault, { skip: 1 });

      // The first append goes out at once; the next three gather meanwhile and go out as one group, which fails.
      const [first, ...group] = await appendAll(spool, [line(1), line(2), line(3), line(4)]);
      expect(disk.calls.write).toBe(2);
      expect(first).toBeUndefined();
      for (const err of group) {
        expect(err).toMatchObject({ code: 'INGEST_ERR_SPOOL_IO' });
        expect(err?.cause).toMatchObject(cause);
      }
      expect(await readAll(spool)).toBe(line(1));
      expect(await segmentFiles()).toEqual([line(1)]);
      // The refused bytes do not count against the limit either: three more lines fit exactly.
      expectStats(spool, line(1));

      expect(await appendAll(spool, [lines(5, 6, 7)])).toEqual([undefined]);
      expect(await readAll(spool)).toBe(lines(1, 5, 6, 7));
      expect(await segmentFiles()).toEqual([lines(1, 5, 6, 7)]);
      expectStats(spool, lines(1, 5, 6, 7));
      await spool.close();
      expect(disk.leaks()).toEqual([]);
      expect(await afterRestart()).toEqual({ text: lines(1, 5, 6, 7), pendingLines: 4 });
    },
  );

  it('refuses appends while a failed group cannot be cut back, and cuts it before writing again', async () => {
    const disk = faultyDisk();
    const spool = await open({ fs: disk.fs });
    disk.fail('write', 'short', { skip: 1 });
    // The cut after the short write fails, and so does the next attempt.
    disk.fail('ftruncateSync', errno('EIO', 'ftruncate'), { times: 2 });

    const [first, ...group] = await appendAll(spool, [line(1), line(2), line(3), line(4)]);
    expect(first).toBeUndefined();
    for (const err of group) expect(err).toMatchObject({ code: 'INGEST_ERR_SPOOL_IO' });
    // Half of the group, ending in a torn line, is still in the file; it is not the spool's, and nothing
    // hands it out.
    expect(await segmentFiles()).toEqual([line(1) + lines(2, 3, 4).slice(0, 45)]);
    expect(await readAll(spool)).toBe(line(1));
    expectStats(spool, line(1));

    // Written after the torn bytes, this line would be read back glued to them: it is refused, unwritten.
    const [refused] = await appendAll(spool, [line(5)]);
    expect(refused).toMatchObject({ code: 'INGEST_ERR_SPOOL_IO' });
    expect(refused?.cause).toMatchObject({ code: 'EIO', syscall: 'ftruncate' });
    expect(disk.calls.write).toBe(2);

    expect(await appendAll(spool, [line(6)])).toEqual([undefined]);
    expect(await segmentFiles()).toEqual([lines(1, 6)]);
    expect(await readAll(spool)).toBe(lines(1, 6));
    expectStats(spool, lines(1, 6));
    await spool.close();
    expect(disk.leaks()).toEqual([]);
    expect(await afterRestart()).toEqual({ text: lines(1, 6), pendingLines: 2 });
  });

  // Rotation runs in the callback of a write that has already been acknowledged: it must not throw there.
  it.each([
    { what: 'the next segment cannot be opened', call: 'openSync', file: '000000000002.seg', rotated: false },
    { what: 'the directory cannot be synced', call: 'fsyncSync', file: '', rotated: false },
    { what: 'the full segment cannot be closed', call: 'closeSync', file: '000000000001.seg', rotated: true },
  ] as const)('keeps every line when $what at rotation', async ({ call, file, rotated }) => {
    const disk = faultyDisk();
    const spool = await open({ fs: disk.fs, segmentBytes: 64 });
    disk.fail(call, errno('EIO', call), { file });

    for (let i = 1; i <= 6; i++) expect(await appendAll(spool, [line(i)])).toEqual([undefined]);
    expect(await readAll(spool)).toBe(lines(1, 2, 3, 4, 5, 6));
    // Past 64 bytes (three lines) the spool moves to a new segment; if it cannot, the current one takes
    // one more group and the spool tries again. Either way the segments it counts are the files there are.
    const files = rotated ? [lines(1, 2, 3), lines(4, 5, 6), ''] : [lines(1, 2, 3, 4), lines(5, 6)];
    expect(await segmentFiles()).toEqual(files);
    expectStats(spool, lines(1, 2, 3, 4, 5, 6), files.length);
    await spool.close();
    expect(disk.leaks()).toEqual([]);
    expect(await afterRestart()).toEqual({ text: lines(1, 2, 3, 4, 5, 6), pendingLines: 6 });
  });
});

describe('spool start-up under file-system faults', () => {
  it.each([
    { what: 'the directory cannot be made', call: 'mkdir', skip: 0 },
    { what: 'the checkpoint cannot be read', call: 'readFile', skip: 0 },
    { what: 'the directory cannot be listed', call: 'readdir', skip: 0 },
    { what: 'a segment cannot be scanned', call: 'readFile', skip: 1 },
    { what: 'a torn last line cannot be cut', call: 'truncate', skip: 0 },
    { what: 'lines cannot be counted', call: 'readFile', skip: 2 },
    { what: 'the segment cannot be opened', call: 'openSync', skip: 0 },
    { what: 'the directory cannot be opened for its sync', call: 'openSync', skip: 1 },
    { what: 'the directory cannot be synced', call: 'fsyncSync', skip: 0 },
  ] as const)('fails to start, leaving nothing open or lost, when $what', async ({ call, skip }) => {
    const before = await open();
    expect(await appendAll(before, [lines(1, 2)])).toEqual([undefined]);
    await before.close();
    const [segment] = (await fsp.readdir(dir)).filter((n) => n.endsWith('.seg'));
    await fsp.appendFile(path.join(dir, segment!), 'm,device=d3 v=');

    const disk = faultyDisk();
    const fault = errno('EIO', call);
    disk.fail(call, fault, { skip });
    await expect(open({ fs: disk.fs })).rejects.toBe(fault);
    expect(disk.leaks()).toEqual([]);
    expect(await afterRestart()).toEqual({ text: lines(1, 2), pendingLines: 2 });
  });
});

describe('spool reads under file-system faults', () => {
  it.each([
    { what: 'the segment cannot be opened', call: 'open' },
    { what: 'the read fails', call: 'handle.read' },
  ] as const)('hands out nothing when $what, and reads it all next time', async ({ call }) => {
    const disk = faultyDisk();
    const spool = await open({ fs: disk.fs });
    expect(await appendAll(spool, [lines(1, 2, 3)])).toEqual([undefined]);
    const fault = errno('EIO', call);
    disk.fail(call, fault);

    await expect(spool.read(spool.confirmed, 4096)).rejects.toBe(fault);
    expectStats(spool, lines(1, 2, 3));
    const batch = await spool.read(spool.confirmed, 4096);
    expect(batch?.body.toString()).toBe(lines(1, 2, 3));
    await spool.confirm(batch!.end, batch!.lines);
    expectStats(spool, '');
    await spool.close();
    expect(disk.leaks()).toEqual([]);
  });

  it('hands out only the whole lines a short read filled, then the rest', async () => {
    const disk = faultyDisk();
    const spool = await open({ fs: disk.fs });
    expect(await appendAll(spool, [lines(1, 2, 3)])).toEqual([undefined]);

    disk.shortRead(45);
    const first = (await spool.read(spool.confirmed, 4096))!;
    expect(first.body.toString()).toBe(line(1));
    expect(first).toMatchObject({ lines: 1, end: { offset: 30 } });
    const rest = (await spool.read(first.end, 4096))!;
    expect(rest.body.toString()).toBe(lines(2, 3));
    await spool.close();
  });

  it('refuses a read that returns no bytes rather than hand out what the buffer held', async () => {
    const disk = faultyDisk();
    const spool = await open({ fs: disk.fs });
    expect(await appendAll(spool, [lines(1, 2, 3)])).toEqual([undefined]);

    disk.shortRead(0);
    await expect(spool.read(spool.confirmed, 4096)).rejects.toMatchObject({ code: 'INGEST_ERR_SPOOL_IO' });
    expect(await readAll(spool)).toBe(lines(1, 2, 3));
    await spool.close();
  });

  it('refuses a read whose limit is shorter than the next line, rather than cut the line', async () => {
    const spool = await open();
    expect(await appendAll(spool, [lines(1, 2)])).toEqual([undefined]);
    await expect(spool.read(spool.confirmed, 20)).rejects.toMatchObject({ code: 'INGEST_ERR_SPOOL_IO' });
    expect((await spool.read(spool.confirmed, 40))?.body.toString()).toBe(line(1));
    await spool.close();
  });
});

describe('spool checkpoints under file-system faults', () => {
  /** Nine lines in three full segments (three lines each) and an empty fourth; the first two confirmed
   * and checkpointed; the third read, then confirmed while `fault` is armed. */
  async function confirmThirdSegment(disk: ReturnType<typeof faultyDisk>, arm: () => void) {
    const spool = await open({ fs: disk.fs, segmentBytes: 64 });
    for (let i = 1; i <= 9; i++) expect(await appendAll(spool, [line(i)])).toEqual([undefined]);
    for (let segment = 1; segment <= 2; segment++) {
      const batch = (await spool.read(spool.confirmed, 4096))!;
      // Confirming into a later segment than the oldest kept is what makes a checkpoint due at once.
      await spool.confirm(batch.end, batch.lines);
    }
    expect(await segmentFiles()).toEqual([lines(4, 5, 6), lines(7, 8, 9), '']);
    arm();
    const third = (await spool.read(spool.confirmed, 4096))!;
    expect(third.body.toString()).toBe(lines(7, 8, 9));
    return { spool, confirming: spool.confirm(third.end, third.lines), end: third.end };
  }

  const checkpointFaults = [
    { what: 'its temporary file cannot be opened', call: 'open', file: 'checkpoint.json.tmp' },
    { what: 'it cannot be written', call: 'handle.writeFile', file: 'checkpoint.json.tmp' },
    { what: 'it cannot be renamed into place', call: 'rename', file: 'checkpoint.json' },
  ] as const;

  it.each(checkpointFaults)(
    'reports a checkpoint that fails as $what, keeps the confirmation, and checkpoints next time',
    async ({ call, file }) => {
      const disk = faultyDisk();
      const fault = errno('EIO', call);
      const { spool, confirming, end } = await confirmThirdSegment(disk, () =>
        disk.fail(call, fault, { file }),
      );
      await expect(confirming).rejects.toBe(fault);
      // InfluxDB has the lines: the confirmation stands, only its record on disk is late.
      expect(spool.confirmed).toEqual(end);
      expect(await segmentFiles()).toEqual([lines(4, 5, 6), lines(7, 8, 9), '']);
      expectStats(spool, '', 3);

      expect(await appendAll(spool, [line(10)])).toEqual([undefined]);
      const batch = (await spool.read(spool.confirmed, 4096))!;
      await spool.confirm(batch.end, batch.lines);
      expect(await segmentFiles()).toEqual([line(10)]);
      expectStats(spool, '', 1);
      await spool.close();
      expect(disk.leaks()).toEqual([]);
      expect(await afterRestart()).toEqual({ text: '', pendingLines: 0 });
    },
  );

  it.each(checkpointFaults)(
    'closes its files when the last checkpoint fails as $what; a restart sends again from the last one',
    async ({ call, file }) => {
      const disk = faultyDisk();
      const fault = errno('EIO', call);
      const { spool, confirming } = await confirmThirdSegment(disk, () =>
        disk.fail(call, fault, { file, times: Infinity }),
      );
      await expect(confirming).rejects.toBe(fault);
      await expect(spool.close()).rejects.toBe(fault);
      expect(disk.leaks()).toEqual([]);
      const [afterClose] = await appendAll(spool, [line(10)]);
      expect(afterClose).toMatchObject({ code: 'INGEST_ERR_SPOOL_IO', message: 'spool is closed' });
      // The third segment was confirmed after the last checkpoint on disk: it is sent again (a replayed
      // point overwrites itself in InfluxDB), and nothing is lost.
      expect(await afterRestart()).toEqual({ text: lines(7, 8, 9), pendingLines: 3 });
    },
  );

  it('keeps counting a confirmed segment it could not delete, and deletes it at the next checkpoint', async () => {
    const disk = faultyDisk();
    const fault = errno('EBUSY', 'rm');
    const { spool, confirming } = await confirmThirdSegment(disk, () =>
      disk.fail('rm', fault, { file: '000000000002.seg' }),
    );
    await expect(confirming).rejects.toBe(fault);
    expect(await segmentFiles()).toEqual([lines(4, 5, 6), lines(7, 8, 9), '']);
    expectStats(spool, '', 3);

    expect(await appendAll(spool, [line(10)])).toEqual([undefined]);
    const batch = (await spool.read(spool.confirmed, 4096))!;
    await spool.confirm(batch.end, batch.lines);
    expect(await segmentFiles()).toEqual([line(10)]);
    expectStats(spool, '', 1);
    await spool.close();
    expect(disk.leaks()).toEqual([]);
  });
});

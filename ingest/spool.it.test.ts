import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSpool, type Spool, type SpoolOptions } from './spool.ts';
import type { IngestError } from './errors.ts';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'spool-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const open = (overrides: Partial<SpoolOptions> = {}) =>
  createSpool({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 16, ...overrides });

const append = (spool: Spool, text: string) =>
  new Promise<void>((resolve, reject) =>
    spool.append(text, text.split('\n').length - 1, (err) => (err ? reject(err) : resolve())),
  );

/** Reads everything committed after the confirmed position, confirming as it goes when asked. */
async function drain(spool: Spool, confirm: boolean): Promise<string> {
  let pos = spool.confirmed;
  let out = '';
  for (let batch = await spool.read(pos, 4096); batch; batch = await spool.read(pos, 4096)) {
    out += batch.body.toString();
    if (confirm) await spool.confirm(batch.end, batch.lines);
    pos = batch.end;
  }
  return out;
}

const line = (i: number) => `m,device=d${i % 7} v=${i} ${1_700_000_000_000 + i}\n`;

describe('spool', () => {
  it('returns every appended line once, in order, across segment files', async () => {
    const spool = await open({ segmentBytes: 2048 });
    const lines = Array.from({ length: 500 }, (_, i) => line(i));
    // In groups of 20 at once: each group is one write and one sync (group commit).
    for (let i = 0; i < lines.length; i += 20)
      await Promise.all(lines.slice(i, i + 20).map((l) => append(spool, l)));
    expect(spool.stats().segments).toBeGreaterThan(3);
    expect(await drain(spool, true)).toBe(lines.join(''));
    expect(spool.stats()).toMatchObject({ pendingBytes: 0, pendingLines: 0 });
    await spool.close();
  });

  it('keeps unconfirmed lines across a restart and forgets confirmed ones', async () => {
    const first = await open({ segmentBytes: 1024 });
    const lines = Array.from({ length: 100 }, (_, i) => line(i));
    for (const l of lines) await append(first, l);
    const batch = (await first.read(first.confirmed, 1500))!;
    await first.confirm(batch.end, batch.lines);
    await first.close();

    const second = await open({ segmentBytes: 1024 });
    expect(second.stats().pendingLines).toBe(100 - batch.lines);
    expect(await drain(second, true)).toBe(lines.slice(batch.lines).join(''));
    await second.close();
  });

  it('drops a torn last line left by a crash mid-write: it was never acknowledged', async () => {
    const spool = await open();
    await append(spool, line(1));
    await spool.close();
    const [segment] = (await fs.readdir(dir)).filter((f) => f.endsWith('.seg'));
    await fs.appendFile(path.join(dir, segment!), 'm,device=d2 v=');

    const reopened = await open();
    expect(await drain(reopened, false)).toBe(line(1));
    await append(reopened, line(3));
    expect(await drain(reopened, false)).toBe(line(1) + line(3));
    await reopened.close();
  });

  it('refuses appends once the unconfirmed bytes reach the limit, and accepts again after confirmation', async () => {
    const spool = await open({ maxBytes: line(1).length * 4 });
    await append(spool, line(1).repeat(3));
    const refused = await append(spool, line(2).repeat(3)).catch((err: IngestError) => err);
    expect(refused).toMatchObject({ code: 'INGEST_ERR_SPOOL_FULL' });
    await drain(spool, true);
    await expect(append(spool, line(2).repeat(3))).resolves.toBeUndefined();
    await spool.close();
  });

  it('deletes segment files once everything in them is confirmed', async () => {
    const spool = await open({ segmentBytes: 512 });
    for (let i = 0; i < 60; i++) await append(spool, line(i));
    const before = (await fs.readdir(dir)).filter((f) => f.endsWith('.seg')).length;
    await drain(spool, true);
    const after = (await fs.readdir(dir)).filter((f) => f.endsWith('.seg')).length;
    expect(before).toBeGreaterThan(2);
    expect(after).toBe(1);
    await spool.close();
  });
});

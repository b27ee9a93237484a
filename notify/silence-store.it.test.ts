// Silences on both their databases, with the same tests: the notification store's SQLite file (one
// process) and a real PostgreSQL (a cluster), where a silence made through one node holds on the others.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../test/kits/postgres.ts';
import { openPostgresSilences, sqliteSilences, type SilenceStore } from './silence-store.ts';
import { openNotifyStore } from './store-sqlite.ts';

const T0 = Date.UTC(2025, 9, 28, 6);
const HOUR = 3_600_000;
let pg: TestPostgres | undefined;
let databases = 0;
let dir: string;
const closing: Array<() => unknown> = [];
afterAll(async () => pg?.stop());
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'silences-'));
});
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** Opens the store on a fresh database; `again` opens one more on the same database (another node). */
const BACKENDS = [
  {
    name: 'SQLite',
    open(): Promise<{ store: SilenceStore; again?: () => Promise<SilenceStore> }> {
      const notify = openNotifyStore(path.join(dir, 'notify.db'));
      closing.push(() => notify.close());
      return Promise.resolve({ store: sqliteSilences(notify) });
    },
  },
  {
    name: 'PostgreSQL',
    async open(): Promise<{ store: SilenceStore; again?: () => Promise<SilenceStore> }> {
      pg ??= await startPostgres();
      const url = await pg.database(`silences_${databases++}`);
      const node = async () => {
        const store = await openPostgresSilences(url);
        closing.push(() => store.close());
        return store;
      };
      return { store: await node(), again: node };
    },
  },
] as const;

const flood = (startsAt: number, endsAt: number, reason = 'pump station test') => ({
  match: { kind: ['flood' as const], district: ['Phú Hội'] },
  startsAt,
  endsAt,
  reason,
  createdBy: 'duty officer',
  createdAt: T0,
});

describe.each(BACKENDS)('silences in $name', (db) => {
  it('keeps a silence as made, lists the current ones newest first, and ends one early', async () => {
    const { store } = await db.open();
    const past = await store.addSilence(flood(T0 - 3 * HOUR, T0 - HOUR, 'yesterday'));
    const active = await store.addSilence(flood(T0 - HOUR, T0 + HOUR));
    const pending = await store.addSilence(flood(T0 + HOUR, T0 + 2 * HOUR, 'tonight'));
    expect(active).toMatchObject({ ...flood(T0 - HOUR, T0 + HOUR), endedBy: null });
    expect(await store.silence(active.id)).toEqual(active);
    expect(await store.silence(999)).toBeUndefined();
    expect((await store.silences({ endingAfter: T0 })).map((s) => s.id)).toEqual([pending.id, active.id]);
    expect((await store.silences()).map((s) => s.id)).toEqual([pending.id, active.id, past.id]);
    expect(await store.silences({ limit: 1 })).toEqual([pending]);

    const ended = await store.endSilence(active.id, 'engineer', T0);
    expect(ended).toMatchObject({ startsAt: T0 - HOUR, endsAt: T0, endedBy: 'engineer' });
    // A pending silence ended never starts; one ended already stays as it ended.
    expect(await store.endSilence(pending.id, 'engineer', T0)).toMatchObject({ startsAt: T0, endsAt: T0 });
    expect(await store.endSilence(past.id, 'engineer', T0)).toEqual(past);
    expect(await store.silences({ endingAfter: T0 })).toEqual([]);
  });
});

describe('silences shared by two nodes in PostgreSQL', () => {
  it('a silence made through one node is in force on the other at once, and ended there', async () => {
    const { store: a, again } = await BACKENDS[1].open();
    const b = await again!();
    const made = await a.addSilence(flood(T0, T0 + HOUR));
    expect(await b.silences({ endingAfter: T0 })).toEqual([made]);
    await b.endSilence(made.id, 'engineer', T0 + 1);
    expect(await a.silences({ endingAfter: T0 + 1 })).toEqual([]);
  });
});

// Dead letters across a cluster, on real SQLite files and a real PostgreSQL: two nodes' letters copied
// into one table, listed newest first with the node that refused each, filtered and paged as one node's
// are; copied once, also by a node started again; a node whose file was lost copies its new file; and a
// copy made while PostgreSQL is away is made when it comes back, nothing lost.
import path from 'node:path';
import { pino } from 'pino';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { storeBackends } from '../test/kits/store-backends.ts';
import { openDeadLetters } from './dead-letters.ts';
import { openSharedDeadLetters } from './dead-letters-shared.ts';

const { dir, database, kept } = storeBackends('dead_letters');
const log = pino({ level: 'silent' });
const T0 = Date.UTC(2025, 9, 28, 6);

const letter = (source: string, n: number, code = 'INGEST_ERR_JSON') => ({
  at: T0 + n,
  source,
  topic: `city/flood/${source}/telemetry`,
  code,
  detail: `bad ${n}`,
  payload: Buffer.from(`{"water_level_m": ${n},`),
});

function node(name: string, file = `${name}.db`) {
  return kept(openDeadLetters({ file: path.join(dir(), file) }));
}
const shared = async (url: string, name: string, local: ReturnType<typeof node>) =>
  kept(await openSharedDeadLetters({ url, node: name, local, everyMs: 3_600_000, log }));

describe('dead letters shared by a cluster in PostgreSQL', () => {
  it("lists every node's letters newest first, with the node, filtered and paged, each copied once", async () => {
    const url = await database();
    const [a, b] = [node('node-a'), node('node-b')];
    const [sa, sb] = [await shared(url, 'node-a', a), await shared(url, 'node-b', b)];
    a.record(letter('sf-le-loi', 1));
    b.record(letter('sf-ba-trieu', 2, 'INGEST_ERR_RANGE'));
    a.record(letter('sf-le-loi', 3));
    expect(await sa.copyNow()).toBe(2);
    expect(await sb.copyNow()).toBe(1);
    expect(await sa.copyNow()).toBe(0);
    const all = await sb.list();
    expect(all.map((l) => [l.node, l.source, l.detail])).toEqual([
      ['node-b', 'sf-ba-trieu', 'bad 2'],
      ['node-a', 'sf-le-loi', 'bad 3'],
      ['node-a', 'sf-le-loi', 'bad 1'],
    ]);
    expect(all[2]).toMatchObject({
      payload: letter('x', 1).payload,
      payloadBytes: letter('x', 1).payload.length,
      truncated: false,
    });
    expect((await sa.list({ code: 'INGEST_ERR_RANGE' })).map((l) => l.source)).toEqual(['sf-ba-trieu']);
    expect((await sa.list({ source: 'sf-le-loi', limit: 1 })).map((l) => l.detail)).toEqual(['bad 3']);
    expect((await sa.list({ before: all[1]!.id })).map((l) => l.detail)).toEqual(['bad 1']);
    expect(await sa.count()).toBe(3);

    // node-a started again: it goes on from what the table has of it.
    const again = await shared(url, 'node-a', a);
    a.record(letter('sf-le-loi', 4));
    expect(await again.copyNow()).toBe(1);
    expect(await sa.count()).toBe(4);
  });

  it('copies the new file of a node whose file was lost, and what waited while PostgreSQL was away', async () => {
    const url = await database();
    const old = node('node-a', 'old.db');
    for (let n = 1; n <= 5; n++) old.record(letter('sf-le-loi', n));
    expect(await (await shared(url, 'node-a', old)).copyNow()).toBe(5);
    // A new disk: the node's ids count from 1 again.
    const fresh = node('node-a', 'new.db');
    fresh.record(letter('sf-le-loi', 100));
    const after = await shared(url, 'node-a', fresh);
    expect(await after.copyNow()).toBe(1);
    expect((await after.list({ limit: 1 }))[0]?.detail).toBe('bad 100');

    await pgAway(url, async () => {
      fresh.record(letter('sf-le-loi', 101));
      await expect(after.copyNow()).rejects.toThrow();
    });
    expect(await after.copyNow()).toBe(1);
    expect(await after.count()).toBe(7);
  });
});

/** Runs `work` while the database refuses connections and its sessions are ended. */
async function pgAway(url: string, work: () => Promise<void>): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const other = new URL(url);
  other.pathname = '/postgres';
  const admin = postgres(other.toString(), { max: 1, onnotice: () => undefined });
  await admin.unsafe(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
  await admin.unsafe(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
  try {
    await work();
  } finally {
    await admin.unsafe(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
    await admin.end();
  }
}

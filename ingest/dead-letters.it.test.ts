// The dead-letter store on a real SQLite file: payloads capped but their size kept, filtered listing
// newest first, the table bounded, and a close that may be called twice.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSourceBudget,
  openDeadLetters,
  type DeadLetterInput,
  type DeadLetterOptions,
  type DeadLetterStore,
} from './dead-letters.ts';

let dir: string;
let store: DeadLetterStore | undefined;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dead-letters-'));
});
afterEach(async () => {
  store?.close();
  store = undefined;
  await fs.rm(dir, { recursive: true, force: true });
});

const open = (options: Omit<DeadLetterOptions, 'file'> = {}) =>
  (store = openDeadLetters({ file: path.join(dir, 'dead-letters.db'), ...options }));

const letter = (overrides: Partial<DeadLetterInput> = {}): DeadLetterInput => ({
  at: 1_795_000_000_000,
  source: 'aq-1',
  topic: 'city/air_quality/aq-1/telemetry',
  code: 'INGEST_ERR_JSON',
  detail: 'Unexpected end of JSON input',
  payload: Buffer.from('{"pm25": 12'),
  ...overrides,
});

describe('dead letters', () => {
  it('keeps a payload under the cap whole, with its size', () => {
    const letters = open({ maxPayloadBytes: 64 });
    letters.record(letter());
    const [stored] = letters.list();
    expect(stored).toMatchObject({
      source: 'aq-1',
      topic: 'city/air_quality/aq-1/telemetry',
      code: 'INGEST_ERR_JSON',
      detail: 'Unexpected end of JSON input',
      at: 1_795_000_000_000,
      payloadBytes: 11,
      truncated: false,
    });
    expect(stored!.payload.toString()).toBe('{"pm25": 12');
  });

  it('truncates a payload at maxPayloadBytes and records its full size', () => {
    const letters = open({ maxPayloadBytes: 16 });
    const payload = Buffer.from(`[${'{"n":"pm25","v":1},'.repeat(10)}]`);
    letters.record(letter({ payload, code: 'INGEST_ERR_TOO_LARGE' }));
    const [stored] = letters.list();
    expect(stored!.payload.equals(payload.subarray(0, 16))).toBe(true);
    expect(stored!.payloadBytes).toBe(payload.length);
    expect(stored!.truncated).toBe(true);
  });

  it('keeps the letters in the file across a reopen', () => {
    open().record(letter({ source: 'lamp-1' }));
    store!.close();
    expect(
      open()
        .list()
        .map((l) => l.source),
    ).toEqual(['lamp-1']);
  });

  it('lists newest first, filtered by code, by source and by id', () => {
    const letters = open();
    const sent: Array<[string, DeadLetterInput['code']]> = [
      ['aq-1', 'INGEST_ERR_JSON'],
      ['aq-2', 'INGEST_ERR_RANGE'],
      ['aq-1', 'INGEST_ERR_RANGE'],
      ['aq-2', 'INGEST_ERR_JSON'],
      ['aq-1', 'INGEST_ERR_JSON'],
    ];
    sent.forEach(([source, code], i) => letters.record(letter({ source, code, at: 1000 + i })));

    const all = letters.list();
    expect(all.map((l) => l.at)).toEqual([1004, 1003, 1002, 1001, 1000]);
    expect(all.map((l) => l.id)).toEqual([...all.map((l) => l.id)].sort((a, b) => b - a));

    expect(letters.list({ code: 'INGEST_ERR_JSON' }).map((l) => l.at)).toEqual([1004, 1003, 1000]);
    expect(letters.list({ source: 'aq-2' }).map((l) => l.at)).toEqual([1003, 1001]);
    expect(letters.list({ source: 'aq-1', code: 'INGEST_ERR_RANGE' }).map((l) => l.at)).toEqual([1002]);
    const third = all[2]!.id;
    expect(letters.list({ before: third }).map((l) => l.at)).toEqual([1001, 1000]);
    expect(letters.list({ limit: 2 }).map((l) => l.at)).toEqual([1004, 1003]);
    expect(letters.list({ source: 'nobody' })).toEqual([]);
  });

  it('pages backwards with `before` without skipping or repeating a letter', () => {
    const letters = open();
    for (let i = 0; i < 25; i++) letters.record(letter({ at: i }));
    const seen: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = letters.list(before === undefined ? { limit: 10 } : { limit: 10, before });
      if (page.length === 0) break;
      seen.push(...page.map((l) => l.at));
      before = page.at(-1)!.id;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 24 - i));
  });

  it('prunes to the newest maxRows once every 1000 letters', () => {
    const letters = open({ maxRows: 10 });
    for (let i = 0; i < 999; i++) letters.record(letter({ at: i }));
    expect(letters.count()).toBe(999); // not yet: pruning runs on the 1000th insert
    letters.record(letter({ at: 999 }));
    expect(letters.count()).toBe(10);
    expect(letters.list().map((l) => l.at)).toEqual(Array.from({ length: 10 }, (_, i) => 999 - i));
  });

  it('stays bounded across reopenings that each record fewer than 1000 letters', () => {
    // A platform restarted daily that dead-letters a few hundred messages a day must still prune.
    for (let day = 0; day < 3; day++) {
      const letters = open({ maxRows: 10 });
      for (let i = 0; i < 600; i++) letters.record(letter({ at: day * 1000 + i }));
      letters.close();
    }
    // Pruning runs once per 1000 letters, so the table may exceed maxRows by at most 999.
    expect(open({ maxRows: 10 }).count()).toBeLessThanOrEqual(10 + 999);
  });

  it('keeps at most maxBytes, the oldest going first, and counts the same after a reopen', () => {
    const kib = Buffer.alloc(1024, 'x');
    const letters = open({ maxBytes: 20 * 1024 });
    for (let i = 0; i < 100; i++) letters.record(letter({ at: i, payload: kib }));
    expect(letters.bytes()).toBeLessThanOrEqual(20 * 1024);
    const kept = letters.list({ limit: 1000 }).map((l) => l.at);
    expect(kept.length).toBeGreaterThan(10);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 99 - i));
    const bytes = letters.bytes();
    letters.close();
    expect(open({ maxBytes: 20 * 1024 }).bytes()).toBe(bytes);
  });

  it('gives each sender a budget of letters a minute, refilled evenly; a refund gives one back', () => {
    const clock = { t: 0 };
    const budget = createSourceBudget(3, () => clock.t);
    const take = (n: number) => Array.from({ length: n }, () => budget.take('aq-junk'));
    expect(take(5)).toEqual([true, true, true, false, false]);
    expect(budget.take('aq-other')).toBe(true);
    clock.t += 20_000; // a third of a minute: one more letter
    expect(take(2)).toEqual([true, false]);
    budget.refund('aq-junk');
    expect(take(2)).toEqual([true, false]);
  });

  it('may be closed twice', () => {
    const letters = open();
    letters.record(letter());
    letters.close();
    expect(() => letters.close()).not.toThrow();
  });
});

// Opening a store's SQLite file on a real disk: a new file gets the whole schema; an older one the steps it
// lacks, SQL and functions, in order; a file from a newer build is refused and left as it was; a step that
// would leave a reference dangling is rolled back whole; the durability asked for is the one in force.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite, type Migration } from './open.ts';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sqlite-'));
  file = path.join(dir, 'sub', 'store.db');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const V1: Migration = `CREATE TABLE agencies (id TEXT PRIMARY KEY) STRICT;
  CREATE TABLE alerts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL REFERENCES agencies (id),
    severity TEXT NOT NULL CHECK (severity IN ('warning', 'critical'))) STRICT;`;
// A CHECK widened: the referenced-by table is rebuilt, as SQLite requires.
const V2: Migration = `CREATE TABLE alerts_2 (id INTEGER PRIMARY KEY, owner TEXT NOT NULL REFERENCES agencies (id),
    severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical'))) STRICT;
  INSERT INTO alerts_2 SELECT * FROM alerts;
  DROP TABLE alerts;
  ALTER TABLE alerts_2 RENAME TO alerts;`;
const V3: Migration = (db) => db.prepare("INSERT INTO agencies (id) VALUES ('ioc')").run();

describe('openSqlite', () => {
  it('makes the folder, and gives a new file every step, with WAL and the durability asked for', () => {
    const told: Array<[number, number]> = [];
    const db = openSqlite({
      file,
      what: 'the test store',
      migrations: [V1, V2, V3],
      onMigrated: (a, b) => told.push([a, b]),
    });
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.prepare('SELECT id FROM agencies').all()).toEqual([{ id: 'ioc' }]);
    expect(told).toEqual([[0, 3]]);
    db.close();
    const normal = openSqlite({
      file,
      what: 'the test store',
      migrations: [V1, V2, V3],
      synchronous: 'NORMAL',
    });
    expect(normal.pragma('synchronous', { simple: true })).toBe(1);
    normal.close();
  });

  it('brings an older file up, its rows kept, a referenced table rebuilt with its references whole', () => {
    const v1 = openSqlite({ file, what: 'the test store', migrations: [V1] });
    v1.exec(
      "INSERT INTO agencies (id) VALUES ('flood-control'); INSERT INTO alerts VALUES (7, 'flood-control', 'warning');",
    );
    v1.close();
    const db = openSqlite({ file, what: 'the test store', migrations: [V1, V2, V3] });
    expect(db.prepare('SELECT * FROM alerts').all()).toEqual([
      { id: 7, owner: 'flood-control', severity: 'warning' },
    ]);
    db.prepare("INSERT INTO alerts VALUES (8, 'ioc', 'info')").run();
    expect(() => db.prepare("INSERT INTO alerts VALUES (9, 'nobody', 'info')").run()).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('refuses a file from a newer build, saying what to do, and leaves it as it was', () => {
    openSqlite({ file, what: 'the test store', migrations: [V1, V2, V3] }).close();
    expect(() => openSqlite({ file, what: 'the test store', migrations: [V1] })).toThrow(
      "the test store's schema 3 is newer than this build's (1): use a newer build",
    );
    const raw = new Database(file);
    expect(raw.pragma('user_version', { simple: true })).toBe(3);
    raw.close();
  });

  it('rolls back a migration that would leave a reference dangling, and the file keeps its version', () => {
    const v1 = openSqlite({ file, what: 'the test store', migrations: [V1] });
    v1.exec(
      "INSERT INTO agencies (id) VALUES ('hepco'); INSERT INTO alerts VALUES (1, 'hepco', 'critical');",
    );
    v1.close();
    const dropsAgencies: Migration = 'DELETE FROM agencies;';
    expect(() => openSqlite({ file, what: 'the test store', migrations: [V1, dropsAgencies] })).toThrow(
      /1 rows would refer to rows that are gone/,
    );
    const db = openSqlite({ file, what: 'the test store', migrations: [V1] });
    expect(db.prepare('SELECT id FROM agencies').all()).toEqual([{ id: 'hepco' }]);
    db.close();
  });
});

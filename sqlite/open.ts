// Opening a store's SQLite file (better-sqlite3), the one way every store does it: the folder made, WAL,
// the durability the store asks for, foreign keys on, and its schema brought up to date in one
// transaction. A store's schema is its list of migrations, in order; its version (`user_version`) is how
// many have run. A file from a newer build is refused rather than misread.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** A schema step: SQL, or a function for what SQL cannot make (a random key); run inside the migration. */
export type Migration = string | ((db: Database.Database) => void);

export interface SqliteOptions {
  /** A file (its folder is made), or `:memory:` for tests. */
  readonly file: string;
  /** What the store is, for messages: `the alert store`. */
  readonly what: string;
  readonly migrations: readonly Migration[];
  /**
   * FULL (the default): a commit is on disk when it returns, so what was answered for survives a power
   * cut. NORMAL: a power cut may take back the last commits, never corrupt the file (diagnostics).
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** Told when the schema was brought up from an older version. */
  readonly onMigrated?: (from: number, to: number) => void;
}

/**
 * Brings the schema to the last migration. Foreign keys are off while it runs, so that a step may rebuild
 * a table others refer to (SQLite cannot change a CHECK in place), and every reference is checked before
 * the transaction commits (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table
 * Schema Changes").
 */
function migrate(db: Database.Database, options: SqliteOptions): void {
  const target = options.migrations.length;
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version > target)
    throw new Error(
      `${options.what}'s schema ${version} is newer than this build's (${target}): use a newer build`,
    );
  if (version === target) return;
  db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      for (const step of options.migrations.slice(version)) {
        if (typeof step === 'string') db.exec(step);
        else step(db);
      }
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length > 0) throw new Error(`${broken.length} rows would refer to rows that are gone`);
      db.pragma(`user_version = ${target}`);
    }).immediate();
  } finally {
    db.pragma('foreign_keys = ON');
  }
  options.onMigrated?.(version, target);
}

/** The store's database, open and up to date; on any failure it is closed again and the error thrown. */
export function openSqlite(options: SqliteOptions): Database.Database {
  const { file } = options;
  let db: Database.Database | undefined;
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
    if (file !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma('foreign_keys = ON');
    migrate(db, options);
    return db;
  } catch (err) {
    db?.close();
    throw err;
  }
}

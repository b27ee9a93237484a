// What a store's tests on both its databases need, for one test file: a temporary folder for each test
// (SQLite's files), a throwaway PostgreSQL started on first use with a fresh database for each asking,
// and the stores opened in a test, closed after it (the last opened first).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { startPostgres, type TestPostgres } from './postgres.ts';

export interface StoreBackends {
  /** This test's temporary folder. */
  readonly dir: () => string;
  /** A fresh PostgreSQL database; its URL. */
  readonly database: () => Promise<string>;
  /** Closes `store` after the test. */
  readonly kept: <T extends { close(): Promise<void> | void }>(store: T) => T;
}

/** Registers the file's hooks; `name` names the folders and databases (letters, digits, `_`). */
export function storeBackends(name: string): StoreBackends {
  let dir = '';
  let pg: TestPostgres | undefined;
  let databases = 0;
  const closing: Array<() => Promise<void> | void> = [];
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), `${name}-`));
  });
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  afterAll(async () => pg?.stop());
  return {
    dir: () => dir,
    database: async () => {
      pg ??= await startPostgres();
      return pg.database(`${name}_${databases++}`);
    },
    kept: (store) => {
      closing.push(() => store.close());
      return store;
    },
  };
}

// The alert store's tests on both its databases (alerts/store*.it.test.ts): a SQLite file and a throwaway
// PostgreSQL, each with what the tests do past the store (SQL run by hand, triggers that refuse a write),
// and a trigger of the October flood season to start from.
import path from 'node:path';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { isAlertsError, type AlertsErrorCode } from '../../alerts/errors.ts';
import { openPostgresAlertStore } from '../../alerts/store-postgres.ts';
import { openAlertStore } from '../../alerts/store-sqlite.ts';
import type { AlertStore, TriggerInput } from '../../alerts/types.ts';
import { storeBackends, type StoreBackends } from './store-backends.ts';

let databases = 0;

/** One of the store's databases, as the tests need it. */
export interface AlertStoreBackend {
  readonly name: string;
  /** Starts an empty database: the stores opened next use it. */
  fresh(): Promise<void>;
  /** Empties the current database, ids starting again at 1 (cheaper than a fresh one). */
  empty(): Promise<void>;
  /** The store on the current database, opened again as after a restart. */
  open(): Promise<AlertStore>;
  /** SQL run past the store, on its database. */
  exec(text: string): Promise<void>;
  /** Columns this database's alerts have beyond the contract's, with a value for a row written by hand. */
  readonly columns: Readonly<Record<string, string>>;
  /** The database's code for a unique index violated. */
  readonly unique: string;
  /** SQL that makes the database refuse the event of the alert of `device` (after its row was written). */
  refuseEventsOf(device: string): string;
  /** SQL that makes the database end the whole transaction that writes an alert of `device`. */
  endTransactionsOf(device: string): string;
}

function sqliteBackend(kit: StoreBackends): AlertStoreBackend {
  let file = '';
  return {
    name: 'SQLite',
    fresh() {
      file = path.join(kit.dir(), `alerts-${databases++}.db`);
      return Promise.resolve();
    },
    empty() {
      return this.fresh();
    },
    open: () => Promise.resolve(kit.kept(openAlertStore({ file, clock: () => T0 }))),
    exec: (text) =>
      new Promise((resolve) => {
        const raw = new Database(file);
        try {
          raw.exec(text);
        } finally {
          raw.close();
        }
        resolve();
      }),
    columns: {},
    unique: 'SQLITE_CONSTRAINT_UNIQUE',
    refuseEventsOf: (device) => `CREATE TRIGGER refuse BEFORE INSERT ON alert_events
      WHEN (SELECT device FROM alerts WHERE id = NEW.alert_id) = '${device}'
      BEGIN SELECT RAISE(ABORT, 'refused'); END`,
    // RAISE(ROLLBACK) ends the transaction itself, as SQLITE_FULL or an I/O error would.
    endTransactionsOf: (
      device,
    ) => `CREATE TRIGGER refuse BEFORE INSERT ON alerts WHEN NEW.device = '${device}'
      BEGIN SELECT RAISE(ROLLBACK, 'disk full'); END`,
  };
}

/** PostgreSQL, and the address of the database its stores use now. */
function postgresBackend(kit: StoreBackends): AlertStoreBackend & { readonly url: () => string } {
  let url = '';
  return {
    url: () => url,
    name: 'PostgreSQL',
    async fresh() {
      url = await kit.database();
    },
    empty() {
      return this.exec(`DO $$ BEGIN IF to_regclass('alerts') IS NOT NULL THEN
        TRUNCATE alerts, alert_events, rule_states RESTART IDENTITY; END IF; END $$`);
    },
    open: async () => kit.kept(await openPostgresAlertStore({ url, clock: () => T0, origin: 'node-1' })),
    async exec(text) {
      const sql = postgres(url, { max: 1, onnotice: () => undefined });
      try {
        await sql.unsafe(text);
      } finally {
        await sql.end();
      }
    },
    columns: { origin: "'node-1'" },
    unique: '23505',
    refuseEventsOf: (device) => `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF (SELECT device FROM alerts WHERE id = NEW.alert_id) = '${device}' THEN RAISE EXCEPTION 'refused'; END IF;
        RETURN NEW; END $$;
      CREATE TRIGGER refuse BEFORE INSERT ON alert_events FOR EACH ROW EXECUTE FUNCTION refuse()`,
    // The connection dies mid-transaction, as when the database's machine is lost.
    endTransactionsOf: (device) => `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.device = '${device}' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
        RETURN NEW; END $$;
      CREATE TRIGGER refuse BEFORE INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION refuse()`,
  };
}

/**
 * Registers the file's hooks, and gives its two databases (each open store closed after its test) and the
 * test's temporary folder.
 */
export function alertStoreBackends() {
  const kit = storeBackends('alerts');
  return { sqlite: sqliteBackend(kit), postgres: postgresBackend(kit), dir: kit.dir, kept: kit.kept };
}

export const T0 = Date.UTC(2025, 9, 28, 6, 0, 0); // a morning of the October flood season in Huế
export const MIN = 60_000;
export const trigger = (overrides: Partial<TriggerInput> = {}): TriggerInput => ({
  type: 'raise',
  rule: 'river-alarm',
  device: 'rg-kim-long',
  kind: 'flood',
  district: 'Kim Long',
  owner: 'flood-control',
  title: 'Hương river above alarm level 1',
  severity: 'warning',
  message: 'water level 3.1 m ≥ 3 m',
  value: 3.1,
  threshold: 3,
  level: 0,
  at: T0,
  source: 'rule',
  ...overrides,
});

export async function codeOf(run: () => Promise<unknown>): Promise<AlertsErrorCode | undefined> {
  try {
    await run();
  } catch (err) {
    if (isAlertsError(err)) return err.code;
    throw err;
  }
  return undefined;
}

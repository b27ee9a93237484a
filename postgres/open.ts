// Opening a store's PostgreSQL database, the one way every store does it in a cluster (docs/cluster.md):
// one pool per store through the `postgres` client, its schema brought up to date in one transaction, and
// its changes told to the other nodes. As with SQLite (sqlite/open.ts), a store's schema is its list of
// migrations, in order, and its version how many have run; the versions are kept per store in one table,
// and the nodes starting together take turns through an advisory lock held for the transaction.
import postgres from 'postgres';

export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;

export interface PostgresOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** The store's name, the key of its schema version: `registry`. */
  readonly store: string;
  /** What the store is, for messages: `the registry`. */
  readonly what: string;
  /** SQL, run in order; each in the migration's transaction. */
  readonly migrations: readonly string[];
  /** Connections in the pool (10). */
  readonly max?: number;
  /**
   * Limits the database holds the pool's sessions to, ms: a statement running longer, a transaction left
   * idle longer (its client frozen or cut off, its locks held), a wait for a lock longer, is ended with an
   * error, so that a loop on the pool fails and tries again rather than waiting for ever. None by default.
   */
  readonly timeouts?: {
    readonly statementMs?: number;
    readonly idleInTransactionMs?: number;
    readonly lockMs?: number;
  };
}

/** The lock's key: one per store, the same on every node. */
function lockKey(store: string): number {
  let h = 0x811c9dc5;
  for (const c of `city:${store}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return h | 0;
}

async function migrate(sql: Sql, options: PostgresOptions): Promise<void> {
  const target = options.migrations.length;
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${lockKey(options.store)})`;
    await tx`CREATE TABLE IF NOT EXISTS schema_versions (store text PRIMARY KEY, version integer NOT NULL)`;
    const [row] = await tx<
      { version: number }[]
    >`SELECT version FROM schema_versions WHERE store = ${options.store}`;
    const version = row?.version ?? 0;
    if (version > target)
      throw new Error(
        `${options.what}'s schema ${version} is newer than this build's (${target}): use a newer build`,
      );
    if (version === target) return;
    for (const step of options.migrations.slice(version)) await tx.unsafe(step);
    await tx`INSERT INTO schema_versions (store, version) VALUES (${options.store}, ${target})
             ON CONFLICT (store) DO UPDATE SET version = excluded.version`;
  });
}

/** The store's pool, its schema up to date; on any failure it is closed again and the error thrown. */
export async function openPostgres(options: PostgresOptions): Promise<Sql> {
  const sql = postgres(options.url, {
    max: options.max ?? 10,
    onnotice: () => undefined,
    connect_timeout: 5,
    // A lost LISTEN connection is tried again at most a second apart (the client's default backs off to
    // 20 s): a node whose database came back hears of changes again, and reads what it missed, within
    // about a second, not after a long wait.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    connection: {
      ...(options.timeouts?.statementMs === undefined
        ? {}
        : { statement_timeout: options.timeouts.statementMs }),
      ...(options.timeouts?.idleInTransactionMs === undefined
        ? {}
        : { idle_in_transaction_session_timeout: options.timeouts.idleInTransactionMs }),
      ...(options.timeouts?.lockMs === undefined ? {} : { lock_timeout: options.timeouts.lockMs }),
    },
    // bigint columns hold milliseconds and sequence numbers, far below 2^53: read them as numbers.
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (n: number) => String(n),
        parse: (text: string) => Number(text),
      },
    },
  });
  try {
    await migrate(sql, options);
    return sql;
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw err;
  }
}

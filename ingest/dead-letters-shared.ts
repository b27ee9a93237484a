// Dead letters across a cluster (docs/cluster.md): each node keeps the messages it refused in its own file
// first (dead-letters.ts), as before its PUBACK, and copies them in the background into one table in
// PostgreSQL, marked with its name, so an engineer asking any node sees every node's. The copy follows
// the node's file by id, in batches, once each (the node, its id and time are unique), and a copy that
// fails is tried again with a backoff, never giving up: while PostgreSQL is away the letters wait in the
// file. The shared table is bounded like the files, the oldest going first.
import type { Logger } from 'pino';
import { openPostgres, type Sql } from '../postgres/index.ts';
import {
  toDeadLetter,
  type DeadLetter,
  type DeadLetterQuery,
  type DeadLetterRow,
  type DeadLetterStore,
} from './dead-letters.ts';

/** What the API reads of the dead letters: one node's file, or a cluster's shared table. */
export interface DeadLetterReader {
  list(query?: DeadLetterQuery): Promise<DeadLetter[]>;
  count(): Promise<number>;
}

/** One process's dead letters, as the API reads them. */
export function localDeadLetterReader(store: Pick<DeadLetterStore, 'list' | 'count'>): DeadLetterReader {
  const answer = <T>(run: () => T) => new Promise<T>((resolve) => resolve(run()));
  return { list: (query) => answer(() => store.list(query)), count: () => answer(() => store.count()) };
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE dead_letters (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     node text NOT NULL,
     local_id bigint NOT NULL,
     at bigint NOT NULL,
     source text NOT NULL,
     topic text NOT NULL,
     code text NOT NULL,
     detail text NOT NULL,
     payload bytea NOT NULL,
     payload_bytes integer NOT NULL,
     UNIQUE (node, local_id, at)
   );
   CREATE INDEX dead_letters_code ON dead_letters (code, id);
   CREATE INDEX dead_letters_source ON dead_letters (source, id);`,
];

export interface SharedDeadLetterOptions {
  readonly url: string;
  /** This node's name (CITY_NODE_ID). */
  readonly node: string;
  /** This node's own dead letters, copied. */
  readonly local: Pick<DeadLetterStore, 'after' | 'list'>;
  /** Rows the shared table keeps; the oldest beyond it go. Defaults to 100 000. */
  readonly maxRows?: number;
  /** Between two copies, ms (1,000); after a failure it doubles, up to 30 s. */
  readonly everyMs?: number;
  readonly log: Logger;
}

export interface SharedDeadLetters extends DeadLetterReader {
  /** Copies what the node's file has that the table has not yet; resolves with how many. For tests. */
  copyNow(): Promise<number>;
  close(): Promise<void>;
}

type Row = DeadLetterRow & { node: string };

const BATCH = 500;

export async function openSharedDeadLetters(options: SharedDeadLetterOptions): Promise<SharedDeadLetters> {
  const { node, local, log } = options;
  const maxRows = options.maxRows ?? 100_000;
  const everyMs = options.everyMs ?? 1_000;
  const sql: Sql = await openPostgres({
    url: options.url,
    store: 'dead-letters',
    what: 'the shared dead letters',
    migrations: MIGRATIONS,
    max: 2,
    timeouts: { statementMs: 10_000, idleInTransactionMs: 10_000 },
  });
  /** The last of the node's own ids copied; read from the table at the first copy. */
  let copied: number | undefined;

  async function copyNow(): Promise<number> {
    if (copied === undefined) {
      const [row] = await sql<Array<{ last: number | null }>>`
        SELECT max(local_id) AS last FROM dead_letters WHERE node = ${node}`;
      const last = row?.last ?? 0;
      // A node whose file was lost (a new disk) counts its ids from 1 again: its file is copied whole.
      const newest = local.list({ limit: 1 })[0]?.id ?? 0;
      copied = newest < last ? 0 : last;
    }
    let total = 0;
    for (;;) {
      const letters = local.after(copied, BATCH);
      if (letters.length === 0) return total;
      await sql.unsafe(
        `INSERT INTO dead_letters (node, local_id, at, source, topic, code, detail, payload, payload_bytes)
         SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
           $8::bytea[], $9::integer[])
         ON CONFLICT (node, local_id, at) DO NOTHING`,
        [
          node,
          letters.map((l) => l.id),
          letters.map((l) => l.at),
          letters.map((l) => l.source),
          letters.map((l) => l.topic),
          letters.map((l) => l.code),
          letters.map((l) => l.detail),
          letters.map((l) => l.payload),
          letters.map((l) => l.payloadBytes),
        ],
      );
      await sql`DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ${maxRows}`;
      copied = letters.at(-1)!.id;
      total += letters.length;
    }
  }

  let failures = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const schedule = () => {
    if (closed) return;
    timer = setTimeout(
      () => {
        running = copyNow()
          .then(() => (failures = 0))
          .catch((err: unknown) => {
            failures++;
            log.error({ err, failures }, 'dead letters not copied to PostgreSQL; they wait on this node');
          })
          .finally(schedule);
      },
      Math.min(30_000, everyMs * 2 ** Math.min(failures, 5)),
    );
    timer.unref();
  };
  schedule();

  return {
    async list(query: DeadLetterQuery = {}) {
      const where: string[] = [];
      const params: Array<string | number> = [];
      for (const [key, column] of [
        ['code', 'code ='],
        ['source', 'source ='],
        ['before', 'id <'],
      ] as const) {
        const value = query[key];
        if (value === undefined) continue;
        params.push(value);
        where.push(`${column} $${params.length}`);
      }
      params.push(Math.min(query.limit ?? 100, 1000));
      const rows = await sql.unsafe<Row[]>(
        `SELECT * FROM dead_letters ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY id DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map((r) => ({ ...toDeadLetter(r), node: r.node }));
    },
    async count() {
      const [row] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM dead_letters`;
      return row?.n ?? 0;
    },
    copyNow,
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
      await sql.end({ timeout: 5 });
    },
  };
}

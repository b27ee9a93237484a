// Where silences are kept: with the notifications in SQLite on one process, in PostgreSQL in a cluster,
// where an operator's silence must hold the notifications every node sends, whichever node it was made
// through (docs/cluster.md). One contract, asynchronous for the database across the network.
import { openPostgres, type Sql } from '../postgres/index.ts';
import type { Silence } from './silences.ts';
import { toSilence, type SqliteNotifyStore } from './store-sqlite.ts';

export interface SilenceStore {
  addSilence(s: Omit<Silence, 'id' | 'endedBy'>): Promise<Silence>;
  silence(id: number): Promise<Silence | undefined>;
  /** Newest first; `endingAfter`: only those that end after this time (the active and pending). */
  silences(filter?: { endingAfter?: number; limit?: number }): Promise<Silence[]>;
  /** Ends a silence at `at` (if it would end later; a pending one never starts), recording who. */
  endSilence(id: number, by: string, at: number): Promise<Silence | undefined>;
}

/** The notification store's own silences (SQLite), behind the contract. */
export function sqliteSilences(
  store: Pick<SqliteNotifyStore, 'addSilence' | 'silence' | 'silences' | 'endSilence'>,
): SilenceStore {
  const answer = <T>(run: () => T) => new Promise<T>((resolve) => resolve(run()));
  return {
    addSilence: (s) => answer(() => store.addSilence(s)),
    silence: (id) => answer(() => store.silence(id)),
    silences: (filter) => answer(() => store.silences(filter)),
    endSilence: (id, by, at) => answer(() => store.endSilence(id, by, at)),
  };
}

const MIGRATIONS = [
  `CREATE TABLE silences (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     match text NOT NULL CHECK (match::jsonb IS NOT NULL),
     starts_at bigint NOT NULL,
     ends_at bigint NOT NULL CHECK (ends_at >= starts_at),
     reason text NOT NULL,
     created_by text NOT NULL,
     created_at bigint NOT NULL,
     ended_by text
   );
   CREATE INDEX silences_by_end ON silences (ends_at);`,
];

const COLUMNS = `id, match, starts_at AS "startsAt", ends_at AS "endsAt", reason, created_by AS "createdBy",
  created_at AS "createdAt", ended_by AS "endedBy"`;
/** Silences in PostgreSQL, shared by a cluster's nodes; `close` ends its pool. */
export async function openPostgresSilences(url: string): Promise<SilenceStore & { close(): Promise<void> }> {
  const sql: Sql = await openPostgres({
    url,
    store: 'silences',
    what: 'the silences',
    migrations: MIGRATIONS,
    max: 2,
  });
  const one = async (text: string, params: Array<string | number>) => {
    const [row] = await sql.unsafe(text, params);
    return row === undefined ? undefined : toSilence(row);
  };
  return {
    async addSilence(s) {
      const made = await one(
        `INSERT INTO silences (match, starts_at, ends_at, reason, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [JSON.stringify(s.match), s.startsAt, s.endsAt, s.reason, s.createdBy, s.createdAt],
      );
      return made!;
    },
    silence: (id) => one(`SELECT ${COLUMNS} FROM silences WHERE id = $1`, [id]),
    async silences(filter = {}) {
      const rows = await sql.unsafe(
        `SELECT ${COLUMNS} FROM silences WHERE ends_at > $1 ORDER BY id DESC LIMIT $2`,
        [filter.endingAfter ?? -1, filter.limit ?? 1000],
      );
      return rows.map(toSilence);
    },
    async endSilence(id, by, at) {
      await sql.unsafe(
        `UPDATE silences SET starts_at = least(starts_at, $3), ends_at = $3, ended_by = $2
         WHERE id = $1 AND ends_at > $3`,
        [id, by, at],
      );
      return one(`SELECT ${COLUMNS} FROM silences WHERE id = $1`, [id]);
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

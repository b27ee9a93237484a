// The command store in PostgreSQL, shared by a cluster's nodes (store.ts is its contract): one id space
// for every node's commands, and a notice to the other nodes (LISTEN/NOTIFY) of each batch queued, so the
// node a device listens on sends it. Every transition is a conditional write (a command still waiting, a
// check still pending), so when two nodes try the same one, one makes it and tells of it, once.
import type { Logger } from 'pino';
import { openPostgres, watchChanges, type ChangeFeed, type Sql } from '../postgres/index.ts';
import { CommandError } from './errors.ts';
import { record, type CommandEvent, type CommandStore, type Row } from './store.ts';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE command_batches (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     type text NOT NULL,
     target text NOT NULL CHECK (target::jsonb IS NOT NULL),
     by text NOT NULL,
     created_at bigint NOT NULL
   );
   CREATE TABLE commands (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     batch_id bigint NOT NULL REFERENCES command_batches (id),
     device text NOT NULL,
     kind text NOT NULL,
     district text NOT NULL,
     type text NOT NULL,
     params text NOT NULL CHECK (params::jsonb IS NOT NULL),
     state text NOT NULL CHECK (state IN ('queued', 'sent', 'acknowledged', 'failed', 'expired')),
     by text NOT NULL,
     created_at bigint NOT NULL,
     expires_at bigint NOT NULL,
     updated_at bigint NOT NULL,
     attempts integer NOT NULL DEFAULT 0,
     detail text,
     check_state text CHECK (check_state IN ('pending', 'matched', 'mismatched', 'unverified')),
     check_due bigint,
     check_seen text CHECK (check_seen IS NULL OR check_seen::jsonb IS NOT NULL)
   );
   CREATE INDEX commands_waiting ON commands (device) WHERE state IN ('queued', 'sent');
   CREATE INDEX commands_queued ON commands (batch_id) WHERE state = 'queued';
   CREATE INDEX commands_expiring ON commands (expires_at) WHERE state IN ('queued', 'sent');
   CREATE INDEX commands_checking ON commands (device) WHERE check_state = 'pending';
   CREATE INDEX commands_of_device ON commands (device, id);
   CREATE INDEX commands_of_batch ON commands (batch_id);
   CREATE TABLE command_events (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     command_id bigint NOT NULL REFERENCES commands (id),
     at bigint NOT NULL,
     state text NOT NULL,
     detail text
   );
   CREATE INDEX command_events_of ON command_events (command_id);`,
];

/** The channel of the notices of batches queued. */
const CHANNEL = 'city_commands';

export interface PostgresCommandStoreOptions {
  readonly url: string;
  /** This node's name: the notices of its own batches are not told back to it. */
  readonly origin: string;
  readonly log: Logger;
}

export async function openPostgresCommandStore(options: PostgresCommandStoreOptions): Promise<CommandStore> {
  let sql: Sql;
  try {
    sql = await openPostgres({
      url: options.url,
      store: 'commands',
      what: 'the command store',
      migrations: MIGRATIONS,
      max: 4,
      // A device's answer waits for the store before its PUBACK: a hung statement or lock fails instead.
      timeouts: { statementMs: 10_000, idleInTransactionMs: 10_000, lockMs: 5_000 },
    });
  } catch (err) {
    throw new CommandError('COMMAND_ERR_STORE', 'cannot open the command store in PostgreSQL', {
      cause: err,
    });
  }
  let feed: ChangeFeed;
  try {
    feed = await watchChanges(sql, CHANNEL, options.origin);
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw new CommandError('COMMAND_ERR_STORE', 'cannot listen to the command store in PostgreSQL', {
      cause: err,
    });
  }
  const rows = async (text: string, params: Array<string | number | null | number[]>) =>
    (await sql.unsafe<Row[]>(text, params)).map(record);
  /** Records one event for each command a conditional write changed, in its transaction. */
  const eventsOf = async (
    tx: Pick<Sql, 'unsafe'>,
    changed: readonly Row[],
    at: number,
    state: string,
    detail: string | null,
  ) => {
    if (changed.length === 0) return;
    await tx.unsafe(
      `INSERT INTO command_events (command_id, at, state, detail)
       SELECT unnest($1::bigint[]), $2, $3, $4`,
      [changed.map((r) => r.id), at, state, detail],
    );
  };

  return {
    async create(batch, commands) {
      return sql.begin(async (tx) => {
        const [made] = await tx.unsafe<Array<{ id: number }>>(
          'INSERT INTO command_batches (type, target, by, created_at) VALUES ($1, $2, $3, $4) RETURNING id',
          [batch.type, JSON.stringify(batch.target), batch.by, batch.at],
        );
        const id = made!.id;
        const inserted = await tx.unsafe<Row[]>(
          `INSERT INTO commands (batch_id, device, kind, district, type, params, state, by, created_at, expires_at,
             updated_at, check_state)
           SELECT $1, device, kind, district, $2, params, 'queued', $3, $4, $5, $4,
             CASE WHEN checked THEN 'pending' END
           FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::boolean[])
             AS c (device, kind, district, params, checked)
           RETURNING *`,
          [
            id,
            batch.type,
            batch.by,
            batch.at,
            batch.expiresAt,
            commands.map((c) => c.device),
            commands.map((c) => c.kind),
            commands.map((c) => c.district),
            commands.map((c) => JSON.stringify(c.params)),
            commands.map((c) => c.checked),
          ],
        );
        await eventsOf(tx, inserted, batch.at, 'queued', null);
        await feed.notify(tx, String(id));
        return { batch: id, commands: inserted.map(record).sort((a, b) => a.id - b.id) };
      });
    },
    async get(id) {
      const [found] = await rows('SELECT * FROM commands WHERE id = $1', [id]);
      return found;
    },
    async events(id) {
      return sql.unsafe<CommandEvent[]>(
        'SELECT at, state, detail FROM command_events WHERE command_id = $1 ORDER BY id',
        [id],
      );
    },
    list(filter) {
      const where: string[] = [];
      const args: Array<string | number> = [];
      const add = (column: string, op: string, value: string | number | undefined) => {
        if (value === undefined) return;
        args.push(value);
        where.push(`${column} ${op} $${args.length}`);
      };
      add('device', '=', filter.device);
      add('batch_id', '=', filter.batch);
      add('state', '=', filter.state);
      add('id', '<', filter.before);
      args.push(filter.limit);
      return rows(
        `SELECT * FROM commands ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY id DESC LIMIT $${args.length}`,
        args,
      );
    },
    waiting: (device) =>
      rows("SELECT * FROM commands WHERE device = $1 AND state IN ('queued', 'sent') ORDER BY id", [device]),
    queued: (batch) =>
      batch === undefined
        ? rows("SELECT * FROM commands WHERE state = 'queued' ORDER BY id", [])
        : rows("SELECT * FROM commands WHERE state = 'queued' AND batch_id = $1 ORDER BY id", [batch]),
    async markSent(ids, at, queuedOnly = false) {
      if (ids.length === 0) return [];
      return sql.begin(async (tx) => {
        const sent = await tx.unsafe<Row[]>(
          `UPDATE commands SET state = 'sent', attempts = attempts + 1, updated_at = $2
           WHERE id = ANY($1::bigint[]) AND (state = 'queued' OR (state = 'sent' AND NOT $3::boolean))
           RETURNING *`,
          [ids as number[], at, queuedOnly],
        );
        await eventsOf(tx, sent, at, 'sent', null);
        return sent.map(record).sort((a, b) => a.id - b.id);
      });
    },
    async finish(id, device, result, at, detail, checkDue) {
      return sql.begin(async (tx) => {
        const done = await tx.unsafe<Row[]>(
          `UPDATE commands SET state = $3, updated_at = $4, detail = $5, check_due = $6::bigint,
             check_state = CASE WHEN check_state = 'pending' AND $6::bigint IS NOT NULL THEN 'pending' END
           WHERE id = $1 AND device = $2 AND state IN ('queued', 'sent') RETURNING *`,
          [id, device, result, at, detail, checkDue],
        );
        await eventsOf(tx, done, at, result, detail);
        return done.map(record)[0];
      });
    },
    async expire(now) {
      return sql.begin(async (tx) => {
        const expired = await tx.unsafe<Row[]>(
          `UPDATE commands SET state = 'expired', updated_at = $1, check_state = NULL
           WHERE state IN ('queued', 'sent') AND expires_at <= $1 RETURNING *`,
          [now],
        );
        await eventsOf(tx, expired, now, 'expired', null);
        return expired.map(record).sort((a, b) => a.id - b.id);
      });
    },
    async devicesChecking() {
      const found = await sql<Array<{ device: string }>>`
        SELECT DISTINCT device FROM commands WHERE check_state = 'pending' AND check_due IS NOT NULL`;
      return found.map((r) => r.device);
    },
    pendingChecks: (device) =>
      rows(
        `SELECT * FROM commands WHERE device = $1 AND check_state = 'pending' AND check_due IS NOT NULL
         ORDER BY id`,
        [device],
      ),
    endDueChecks: (now, judge) =>
      sql.begin(async (tx) => {
        // Another node ending checks at the same tick takes the rows this one has locked, and this one its.
        const due = (
          await tx.unsafe<Row[]>(
            `SELECT * FROM commands WHERE check_state = 'pending' AND check_due IS NOT NULL AND check_due <= $1
             ORDER BY id LIMIT 5000 FOR UPDATE SKIP LOCKED`,
            [now],
          )
        ).map((r) => ({ row: r, ...judge(record(r)) }));
        if (due.length === 0) return [];
        const ended = await tx.unsafe<Row[]>(
          `UPDATE commands SET check_state = c.ended, updated_at = $1
           FROM unnest($2::bigint[], $3::text[]) AS c (id, ended)
           WHERE commands.id = c.id AND commands.check_state = 'pending' RETURNING commands.*`,
          [now, due.map((d) => d.row.id), due.map((d) => d.check)],
        );
        const byId = new Map(due.map((d) => [d.row.id, d]));
        const done = ended.map((r) => ({ command: record(r), ...byId.get(r.id)! }));
        await tx.unsafe(
          `INSERT INTO command_events (command_id, at, state, detail)
           SELECT id, $1, state, detail FROM unnest($2::bigint[], $3::text[], $4::text[]) AS e (id, state, detail)`,
          [now, done.map((d) => d.command.id), done.map((d) => d.check), done.map((d) => d.detail)],
        );
        return done
          .map(({ command, check, detail }) => ({ command, check, detail }))
          .sort((a, b) => a.command.id - b.command.id);
      }),
    async seen(id, value) {
      await sql`UPDATE commands SET check_seen = ${JSON.stringify(value)}
                WHERE id = ${id} AND check_state = 'pending'`;
    },
    async setCheck(id, check, at, detail) {
      return sql.begin(async (tx) => {
        const ended = await tx.unsafe<Row[]>(
          `UPDATE commands SET check_state = $2, updated_at = $3 WHERE id = $1 AND check_state = 'pending'
           RETURNING *`,
          [id, check, at],
        );
        await eventsOf(tx, ended, at, check, detail);
        return ended.map(record)[0];
      });
    },
    onQueuedElsewhere(listener) {
      feed.on((topic) => {
        const batch = Number(topic);
        listener(Number.isSafeInteger(batch) ? batch : undefined);
      });
    },
    async close() {
      await feed.close();
      await sql.end({ timeout: 5 });
    },
  };
}

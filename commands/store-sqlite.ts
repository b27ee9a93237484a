// The command store on one process (store.ts is its contract): SQLite (better-sqlite3, WAL, synchronous
// FULL: a command the API answered for is on disk).
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/index.ts';
import type { CommandType } from '../devices/index.ts';
import type { CommandCheck } from '../measurements/index.ts';
import { CommandError } from './errors.ts';
import { record, type CommandEvent, type CommandStore, type NewCommand, type Row } from './store.ts';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE batches (
     id INTEGER PRIMARY KEY,
     type TEXT NOT NULL,
     target TEXT NOT NULL CHECK (json_valid(target)),
     by TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE commands (
     id INTEGER PRIMARY KEY,
     batch_id INTEGER NOT NULL REFERENCES batches (id),
     device TEXT NOT NULL,
     kind TEXT NOT NULL,
     district TEXT NOT NULL,
     type TEXT NOT NULL,
     params TEXT NOT NULL CHECK (json_valid(params)),
     state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'acknowledged', 'failed', 'expired')),
     by TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     detail TEXT,
     check_state TEXT CHECK (check_state IN ('pending', 'matched', 'mismatched', 'unverified')),
     check_due INTEGER
   ) STRICT;
   CREATE INDEX commands_waiting ON commands (device) WHERE state IN ('queued', 'sent');
   CREATE INDEX commands_expiring ON commands (expires_at) WHERE state IN ('queued', 'sent');
   CREATE INDEX commands_checking ON commands (device) WHERE check_state = 'pending';
   CREATE INDEX commands_of_device ON commands (device, id);
   CREATE INDEX commands_of_batch ON commands (batch_id);
   CREATE TABLE command_events (
     id INTEGER PRIMARY KEY,
     command_id INTEGER NOT NULL REFERENCES commands (id),
     at INTEGER NOT NULL,
     state TEXT NOT NULL,
     detail TEXT
   ) STRICT;
   CREATE INDEX command_events_of ON command_events (command_id);`,
  // 2: what a reading showed of a pending check's field, kept with the command (any node may end it).
  `ALTER TABLE commands ADD COLUMN check_seen TEXT CHECK (check_seen IS NULL OR json_valid(check_seen));`,
];

function openDb(file: string): Database.Database {
  try {
    return openSqlite({ file, what: 'the command store', migrations: MIGRATIONS });
  } catch (err) {
    throw new CommandError('COMMAND_ERR_STORE', `cannot open the command store at ${file}`, { cause: err });
  }
}

export function openCommandStore(file: string): CommandStore {
  const db = openDb(file);
  const s = {
    insertBatch: db.prepare<[string, string, string, number]>(
      'INSERT INTO batches (type, target, by, created_at) VALUES (?, ?, ?, ?)',
    ),
    insert: db.prepare<[number, string, string, string, string, string, string, number, number, number]>(
      `INSERT INTO commands (batch_id, device, kind, district, type, params, state, by, created_at, expires_at,
         updated_at, check_state)
       VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, NULL)`,
    ),
    setChecked: db.prepare<[number]>("UPDATE commands SET check_state = 'pending' WHERE id = ?"),
    event: db.prepare<[number, number, string, string | null]>(
      'INSERT INTO command_events (command_id, at, state, detail) VALUES (?, ?, ?, ?)',
    ),
    get: db.prepare<[number], Row>('SELECT * FROM commands WHERE id = ?'),
    events: db.prepare<[number], CommandEvent>(
      'SELECT at, state, detail FROM command_events WHERE command_id = ? ORDER BY id',
    ),
    waiting: db.prepare<[string], Row>(
      "SELECT * FROM commands WHERE device = ? AND state IN ('queued', 'sent') ORDER BY id",
    ),
    sent: db.prepare<[{ at: number; id: number; queuedOnly: number }]>(
      `UPDATE commands SET state = 'sent', attempts = attempts + 1, updated_at = @at
       WHERE id = @id AND (state = 'queued' OR (state = 'sent' AND NOT @queuedOnly))`,
    ),
    finish: db.prepare<[string, number, string | null, number | null, number | null, number, string]>(
      `UPDATE commands SET state = ?, updated_at = ?, detail = ?, check_due = ?,
         check_state = CASE WHEN check_state = 'pending' AND ? IS NOT NULL THEN 'pending' ELSE NULL END
       WHERE id = ? AND device = ? AND state IN ('queued', 'sent')`,
    ),
    expiring: db.prepare<[number], Row>(
      "SELECT * FROM commands WHERE state IN ('queued', 'sent') AND expires_at <= ? ORDER BY id",
    ),
    expire: db.prepare<[number, number]>(
      "UPDATE commands SET state = 'expired', updated_at = ?, check_state = NULL WHERE id = ? AND state IN ('queued', 'sent')",
    ),
    pendingChecks: db.prepare<[string], Row>(
      "SELECT * FROM commands WHERE device = ? AND check_state = 'pending' AND check_due IS NOT NULL ORDER BY id",
    ),
    devicesChecking: db.prepare<[], { device: string }>(
      "SELECT DISTINCT device FROM commands WHERE check_state = 'pending' AND check_due IS NOT NULL",
    ),
    dueChecks: db.prepare<[number], Row>(
      "SELECT * FROM commands WHERE check_state = 'pending' AND check_due IS NOT NULL AND check_due <= ? ORDER BY id",
    ),
    queued: db.prepare<[{ batch: number }], Row>(
      "SELECT * FROM commands WHERE state = 'queued' AND (@batch < 0 OR batch_id = @batch) ORDER BY id",
    ),
    seen: db.prepare<[string, number]>(
      "UPDATE commands SET check_seen = ? WHERE id = ? AND check_state = 'pending'",
    ),
    setCheck: db.prepare<[string, number, number]>(
      "UPDATE commands SET check_state = ?, updated_at = ? WHERE id = ? AND check_state = 'pending'",
    ),
  };
  const one = (id: number) => {
    const r = s.get.get(id);
    return r === undefined ? undefined : record(r);
  };

  const create = db.transaction(
    (
      batch: { type: CommandType; target: unknown; by: string; at: number; expiresAt: number },
      commands: readonly NewCommand[],
    ) => {
      const batchId = Number(
        s.insertBatch.run(batch.type, JSON.stringify(batch.target), batch.by, batch.at).lastInsertRowid,
      );
      const ids = commands.map((c) => {
        const id = Number(
          s.insert.run(
            batchId,
            c.device,
            c.kind,
            c.district,
            batch.type,
            JSON.stringify(c.params),
            batch.by,
            batch.at,
            batch.expiresAt,
            batch.at,
          ).lastInsertRowid,
        );
        if (c.checked) s.setChecked.run(id);
        s.event.run(id, batch.at, 'queued', null);
        return id;
      });
      return { batch: batchId, commands: ids.map((id) => one(id)!) };
    },
  );
  const markSent = db.transaction((ids: readonly number[], at: number, queuedOnly: boolean) =>
    ids.flatMap((id) => {
      if (s.sent.run({ at, id, queuedOnly: queuedOnly ? 1 : 0 }).changes === 0) return [];
      s.event.run(id, at, 'sent', null);
      return [one(id)!];
    }),
  );
  const finish = db.transaction(
    (
      id: number,
      device: string,
      result: 'acknowledged' | 'failed',
      at: number,
      detail: string | null,
      checkDue: number | null,
    ) => {
      if (s.finish.run(result, at, detail, checkDue, checkDue, id, device).changes === 0) return undefined;
      s.event.run(id, at, result, detail);
      return one(id);
    },
  );
  const expire = db.transaction((now: number) =>
    s.expiring.all(now).flatMap((r) => {
      if (s.expire.run(now, r.id).changes === 0) return [];
      s.event.run(r.id, now, 'expired', null);
      return [one(r.id)!];
    }),
  );
  const setCheck = db.transaction((id: number, check: CommandCheck, at: number, detail: string) => {
    if (s.setCheck.run(check, at, id).changes === 0) return undefined;
    s.event.run(id, at, check, detail);
    return one(id);
  });

  const answer = <T>(run: () => T) => new Promise<T>((resolve) => resolve(run()));
  return {
    create: (batch, commands) => answer(() => create.immediate(batch, commands)),
    get: (id) => answer(() => one(id)),
    events: (id) => answer(() => s.events.all(id)),
    list: (filter) =>
      answer(() => {
        const where: string[] = [];
        const args: Array<string | number> = [];
        const add = (clause: string, value: string | number | undefined) => {
          if (value === undefined) return;
          where.push(clause);
          args.push(value);
        };
        add('device = ?', filter.device);
        add('batch_id = ?', filter.batch);
        add('state = ?', filter.state);
        add('id < ?', filter.before);
        const sql = `SELECT * FROM commands ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
        return db
          .prepare<Array<string | number>, Row>(sql)
          .all(...args, filter.limit)
          .map(record);
      }),
    waiting: (device) => answer(() => s.waiting.all(device).map(record)),
    queued: (batch) => answer(() => s.queued.all({ batch: batch ?? -1 }).map(record)),
    markSent: (ids, at, queuedOnly = false) => answer(() => markSent.immediate(ids, at, queuedOnly)),
    finish: (id, device, result, at, detail, checkDue) =>
      answer(() => finish.immediate(id, device, result, at, detail, checkDue)),
    expire: (now) => answer(() => expire.immediate(now)),
    devicesChecking: () => answer(() => s.devicesChecking.all().map((r) => r.device)),
    pendingChecks: (device) => answer(() => s.pendingChecks.all(device).map(record)),
    endDueChecks: (now, judge) =>
      answer(() =>
        db
          .transaction(() =>
            s.dueChecks.all(now).flatMap((row) => {
              const { check, detail } = judge(record(row));
              const command = setCheck(row.id, check, now, detail);
              return command === undefined ? [] : [{ command, check, detail }];
            }),
          )
          .immediate(),
      ),
    seen: (id, value) => answer(() => void s.seen.run(JSON.stringify(value), id)),
    setCheck: (id, check, at, detail) => answer(() => setCheck.immediate(id, check, at, detail)),
    close: () => answer(() => void db.close()),
  };
}

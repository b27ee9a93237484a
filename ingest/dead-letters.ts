// Dead letters: every message the platform could not turn into readings (or, for a flow's alert request,
// into an alert), kept with its reason code and its raw payload (size-capped) for an engineer to inspect.
// Bad input is data, not an exception.
import Database from 'better-sqlite3';

export interface DeadLetterInput {
  readonly at: number;
  /** The MQTT username that sent it (device, gateway or service id). */
  readonly source: string;
  readonly topic: string;
  /** A stable code: one of INGEST_ERRORS (ingest/errors.ts), or RULES_ERR_FLOW_* for flows' alert requests. */
  readonly code: string;
  readonly detail: string;
  readonly payload: Buffer;
}

export interface DeadLetter extends Omit<DeadLetterInput, 'payload'> {
  readonly id: number;
  /** The payload as stored: at most `maxPayloadBytes` of it. */
  readonly payload: Buffer;
  readonly payloadBytes: number;
  readonly truncated: boolean;
}

export interface DeadLetterQuery {
  readonly limit?: number;
  readonly code?: string;
  readonly source?: string;
  /** Only dead letters with an id below this one (paging backwards). */
  readonly before?: number;
}

export interface DeadLetterStore {
  record(letter: DeadLetterInput): void;
  list(query?: DeadLetterQuery): DeadLetter[];
  count(): number;
  close(): void;
}

export interface DeadLetterOptions {
  readonly file: string;
  /** Bytes of each payload kept; the full size is recorded. Defaults to 16 KiB. */
  readonly maxPayloadBytes?: number;
  /** Rows kept; the oldest beyond it are pruned. Defaults to 100 000. */
  readonly maxRows?: number;
}

interface Row {
  id: number;
  at: number;
  source: string;
  topic: string;
  code: string;
  detail: string;
  payload: Buffer;
  payload_bytes: number;
}

export function openDeadLetters(options: DeadLetterOptions): DeadLetterStore {
  const maxPayloadBytes = options.maxPayloadBytes ?? 16 * 1024;
  const maxRows = options.maxRows ?? 100_000;
  const db = new Database(options.file);
  // WAL with synchronous=NORMAL: a power cut may lose the last dead letters, never corrupt the file;
  // they are diagnostics, and the device's readings never depend on them.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    source TEXT NOT NULL,
    topic TEXT NOT NULL,
    code TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload BLOB NOT NULL,
    payload_bytes INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS dead_letters_code ON dead_letters (code, id);
  CREATE INDEX IF NOT EXISTS dead_letters_source ON dead_letters (source, id);`);

  const insert = db.prepare(
    `INSERT INTO dead_letters (at, source, topic, code, detail, payload, payload_bytes)
     VALUES (@at, @source, @topic, @code, @detail, @payload, @payloadBytes)`,
  );
  const prune = db.prepare('DELETE FROM dead_letters WHERE id <= ?');
  const countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM dead_letters');

  function record(letter: DeadLetterInput): void {
    const result = insert.run({
      ...letter,
      detail: letter.detail.slice(0, 2000),
      payload: letter.payload.subarray(0, maxPayloadBytes),
      payloadBytes: letter.payload.length,
    });
    // Prune now and then, not on every insert: one DELETE per 1 000 letters keeps the table bounded. The
    // row id keeps counting across restarts (AUTOINCREMENT), so short runs are pruned too.
    const id = Number(result.lastInsertRowid);
    if (id % 1000 === 0) prune.run(id - maxRows);
  }

  function list(query: DeadLetterQuery = {}): DeadLetter[] {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: Math.min(query.limit ?? 100, 1000) };
    for (const [key, clause] of [
      ['code', 'code = @code'],
      ['source', 'source = @source'],
      ['before', 'id < @before'],
    ] as const) {
      const value = query[key];
      if (value === undefined) continue;
      where.push(clause);
      params[key] = value;
    }
    const sql = `SELECT * FROM dead_letters ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT @limit`;
    return db
      .prepare<Record<string, string | number>, Row>(sql)
      .all(params)
      .map((r) => ({
        id: r.id,
        at: r.at,
        source: r.source,
        topic: r.topic,
        code: r.code,
        detail: r.detail,
        payload: r.payload,
        payloadBytes: r.payload_bytes,
        truncated: r.payload_bytes > r.payload.length,
      }));
  }

  let closed = false;
  return {
    record,
    list,
    count: () => countAll.get()!.n,
    close: () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

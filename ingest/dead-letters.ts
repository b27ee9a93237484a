// Dead letters: every message the platform could not turn into readings (or, for a flow's alert request,
// into an alert), kept with its reason code and its raw payload (size-capped) for an engineer to inspect.
// Bad input is data, not an exception.
//
// The store is bounded, so it cannot fill the disk: each payload is cut at `maxPayloadBytes`, and the table
// keeps at most `maxRows` rows and `maxBytes` bytes of payload and text (the oldest go first). What devices
// send is budgeted per sender before it gets here (createSourceBudget, used by ingest), so one device
// sending nothing but junk cannot push everyone else's letters out.
import { openSqlite } from '../sqlite/index.ts';

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
  /** In a cluster, the node that refused the message (its own store has no such field). */
  readonly node?: string;
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
  /** Those with an id above `id`, oldest first, at most `limit`: for a copy that follows the store. */
  after(id: number, limit: number): DeadLetter[];
  count(): number;
  /** Bytes of payload and text kept, as counted against `maxBytes`. */
  bytes(): number;
  close(): void;
}

export interface DeadLetterOptions {
  readonly file: string;
  /** Bytes of each payload kept; the full size is recorded. Defaults to 16 KiB. */
  readonly maxPayloadBytes?: number;
  /** Rows kept; the oldest beyond it are pruned. Defaults to 100 000. */
  readonly maxRows?: number;
  /** Bytes of payload and text kept; the oldest beyond it are pruned. Defaults to 64 MiB. */
  readonly maxBytes?: number;
}

/** What a row costs beyond its payload and texts: its id, times, sizes and index entries, roughly. */
const ROW_OVERHEAD_BYTES = 64;
const ROW_BYTES = `length(payload) + length(CAST(detail AS BLOB)) + length(CAST(topic AS BLOB))
  + 2 * length(CAST(source AS BLOB)) + length(CAST(code AS BLOB)) * 2 + ${ROW_OVERHEAD_BYTES}`;
/** Senders whose budget is followed; beyond it the longest-idle is forgotten (and starts full again). */
const MAX_SOURCES = 100_000;

/** A dead letter's row, as both its databases keep it. */
export interface DeadLetterRow {
  id: number;
  at: number;
  source: string;
  topic: string;
  code: string;
  detail: string;
  payload: Buffer;
  payload_bytes: number;
}
type Row = DeadLetterRow;

/** A row as the API is given it. */
export function toDeadLetter(r: DeadLetterRow): DeadLetter {
  return {
    id: r.id,
    at: r.at,
    source: r.source,
    topic: r.topic,
    code: r.code,
    detail: r.detail,
    payload: r.payload,
    payloadBytes: r.payload_bytes,
    truncated: r.payload_bytes > r.payload.length,
  };
}

export function openDeadLetters(options: DeadLetterOptions): DeadLetterStore {
  const maxPayloadBytes = options.maxPayloadBytes ?? 16 * 1024;
  const maxRows = options.maxRows ?? 100_000;
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  // NORMAL: a power cut may lose the last dead letters, never corrupt the file; they are diagnostics, and
  // the device's readings never depend on them. IF NOT EXISTS: files made before the schema had a
  // version already hold the table.
  const db = openSqlite({
    file: options.file,
    what: 'the dead letters',
    synchronous: 'NORMAL',
    migrations: [
      `CREATE TABLE IF NOT EXISTS dead_letters (
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
       CREATE INDEX IF NOT EXISTS dead_letters_source ON dead_letters (source, id);`,
    ],
  });

  const insert = db.prepare(
    `INSERT INTO dead_letters (at, source, topic, code, detail, payload, payload_bytes)
     VALUES (@at, @source, @topic, @code, @detail, @payload, @payloadBytes)`,
  );
  const prune = db.prepare('DELETE FROM dead_letters WHERE id <= ?');
  const countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM dead_letters');
  const sumBytes = db.prepare<[], { n: number }>(
    `SELECT coalesce(sum(${ROW_BYTES}), 0) AS n FROM dead_letters`,
  );
  // The newest row that must go for `?` bytes to be freed, oldest first.
  const cutoff = db.prepare<[number], { id: number }>(
    `SELECT id FROM (SELECT id, sum(${ROW_BYTES}) OVER (ORDER BY id) AS freed FROM dead_letters)
     WHERE freed >= ? ORDER BY id LIMIT 1`,
  );
  let bytes = sumBytes.get()!.n;

  function record(letter: DeadLetterInput): void {
    const row = {
      ...letter,
      detail: letter.detail.slice(0, 2000),
      payload: letter.payload.subarray(0, maxPayloadBytes),
      payloadBytes: letter.payload.length,
    };
    const result = insert.run(row);
    bytes += rowBytes(row);
    // Prune now and then, not on every insert: one DELETE per 1 000 letters keeps the table bounded. The
    // row id keeps counting across restarts (AUTOINCREMENT), so short runs are pruned too.
    const id = Number(result.lastInsertRowid);
    if (bytes > maxBytes || id % 1000 === 0) {
      // The letter is kept: a prune that fails (a full disk) is tried again at the next one.
      try {
        pruneTo(id);
      } catch {
        bytes = Math.max(bytes, maxBytes);
      }
    }
  }

  function pruneTo(id: number): void {
    if (id % 1000 === 0) prune.run(id - maxRows);
    // Down to nine tenths of the cap, so that this scan runs once per tenth of it filled, not per letter.
    const over = bytes - 0.9 * maxBytes;
    const last = over > 0 ? cutoff.get(over) : undefined;
    if (last !== undefined) prune.run(last.id);
    bytes = sumBytes.get()!.n;
  }

  const afterId = db.prepare<[number, number], Row>(
    'SELECT * FROM dead_letters WHERE id > ? ORDER BY id LIMIT ?',
  );

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
    return db.prepare<Record<string, string | number>, Row>(sql).all(params).map(toDeadLetter);
  }

  let closed = false;
  return {
    record,
    bytes: () => bytes,
    list,
    after: (id, limit) => afterId.all(id, limit).map(toDeadLetter),
    count: () => countAll.get()!.n,
    close: () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

/** What a row counts against the byte cap: as ROW_BYTES computes it in SQL. */
function rowBytes(r: {
  payload: Buffer;
  detail: string;
  topic: string;
  source: string;
  code: string;
}): number {
  const text = (t: string) => Buffer.byteLength(t, 'utf8');
  return (
    r.payload.length +
    text(r.detail) +
    text(r.topic) +
    2 * text(r.source) +
    2 * text(r.code) +
    ROW_OVERHEAD_BYTES
  );
}

/** Dead letters a sender may add a minute, in bursts of as many: a bucket of them, refilled evenly. */
export interface SourceBudget {
  /** Takes one letter from the sender's bucket; false when it is empty. */
  take(source: string): boolean;
  /** Gives back a letter taken for nothing (its store failed to keep it). */
  refund(source: string): void;
}

export function createSourceBudget(perMinute: number, clock: () => number = Date.now): SourceBudget {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = perMinute / 60_000;
  return {
    take(source: string): boolean {
      const now = clock();
      const b = buckets.get(source) ?? { tokens: perMinute, at: now };
      b.tokens = Math.min(perMinute, b.tokens + (now - b.at) * perMs);
      b.at = now;
      buckets.delete(source); // re-inserted last: the map's order is the order of use
      if (buckets.size >= MAX_SOURCES) buckets.delete(buckets.keys().next().value!);
      buckets.set(source, b);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    refund(source) {
      const b = buckets.get(source);
      if (b !== undefined) b.tokens = Math.min(perMinute, b.tokens + 1);
    },
  };
}

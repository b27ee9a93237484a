// The alert store: the alert lifecycle's source of truth in SQLite (better-sqlite3 12, docs/architecture.md
// decision 5). One row per alert, one per transition (the alert's history), and the rules' (rule, device)
// evaluator states, each saved in the same transaction as the change it caused, so that a restart never
// finds an alert without the state that raised it, or the reverse. "One open alert per (rule, device)" is
// the database's own rule (a partial UNIQUE index), not only this file's. Times are kept as ms integers
// and shown as RFC 3339; `updatedAt` is the time of the alert's latest event and never moves backwards.
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { openSqlite } from '../sqlite/index.ts';
import { AlertsError } from './errors.ts';
import { ALERT_STORE_MIGRATIONS } from './store-sqlite-schema.ts';
import { partitionOf } from './partitions.ts';
import {
  Action,
  after,
  ALERT_COLUMNS,
  EVENT_COLUMNS,
  FILTER_KEYS,
  MAX_MS,
  operatorAllowed,
  parseInput,
  RangeFilter,
  Referral,
  ResponseRow,
  State,
  stateText,
  storeError,
  toAlert,
  toEvent,
  Trigger,
  triggerStep,
} from './store-rows.ts';
import {
  AlertFilter,
  type AlertChange,
  type AlertEventType,
  type AlertStore,
  type SavedState,
  type TriggerItem,
  type TriggerOutcome,
  type Severity,
} from './types.ts';

export interface AlertStoreOptions {
  /** SQLite file, or `:memory:` for tests. Its folder is created if missing. */
  readonly file: string;
  readonly log?: Logger;
  /** ms since the epoch, for the saved states' `updated_at`; `Date.now` unless a test sets it. */
  readonly clock?: () => number;
}

function openDatabase(file: string, log: Logger | undefined): Database.Database {
  try {
    // FULL: a committed change is told to InfluxDB, MQTT and the API at once; a power cut must not take
    // it back (and with it the id, which the next alert would then reuse).
    return openSqlite({
      file,
      what: 'the alert store',
      migrations: ALERT_STORE_MIGRATIONS,
      onMigrated: (from, to) => log?.info({ from, to }, 'alert store migrated'),
    });
  } catch (err) {
    throw new AlertsError('ALERTS_ERR_STORE', `cannot open the alert store at ${file}`, { cause: err });
  }
}

type Params = Record<string, string | number | null>;

function prepare(db: Database.Database) {
  return {
    openFor: db.prepare<[string, string]>(
      `SELECT ${ALERT_COLUMNS} FROM alerts WHERE rule = ? AND device = ? AND state != 'resolved'`,
    ),
    byId: db.prepare<[number]>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = ?`),
    stateOf: db.prepare<[number], { state: string; updatedAt: number }>(
      'SELECT state, updated_at AS updatedAt FROM alerts WHERE id = ?',
    ),
    openRow: db.prepare<
      [string, string],
      { id: number; severity: Severity; level: number; updatedAt: number }
    >(
      `SELECT id, severity, level, updated_at AS updatedAt FROM alerts
       WHERE rule = ? AND device = ? AND state != 'resolved'`,
    ),
    // The partial index holds only the unresolved alerts; without the hint the planner walks every alert
    // ever raised through alerts_by_raised to get them in order.
    listOpen: db.prepare<[]>(
      `SELECT ${ALERT_COLUMNS} FROM alerts INDEXED BY alerts_one_open WHERE state != 'resolved'
       ORDER BY raised_at DESC, id DESC`,
    ),
    events: db.prepare<[number]>(`SELECT ${EVENT_COLUMNS} FROM alert_events WHERE alert_id = ? ORDER BY id`),
    eventById: db.prepare<[number]>(`SELECT ${EVENT_COLUMNS} FROM alert_events WHERE id = ?`),
    eventsAfter: db.prepare<[number, number]>(
      `SELECT ${EVENT_COLUMNS} FROM alert_events WHERE id > ? ORDER BY id LIMIT ?`,
    ),
    insert: db.prepare<[Params]>(
      `INSERT INTO alerts (rule, device, kind, district, owner, title, severity, state, source, message, value,
         threshold, level, raised_at, updated_at)
       VALUES (@rule, @device, @kind, @district, @owner, @title, @severity, 'open', @source, @message, @value,
         @threshold, @level, @at, @at)`,
    ),
    refresh: db.prepare<[Params]>(
      `UPDATE alerts SET message = @message, value = @value, threshold = @threshold, severity = @severity,
         level = @level, updated_at = max(updated_at, @at) WHERE id = @id`,
    ),
    referrals: db.prepare<[number], { n: number }>(
      "SELECT count(*) AS n FROM alert_events WHERE alert_id = ? AND type = 'referred'",
    ),
    touch: db.prepare<[Params]>('UPDATE alerts SET updated_at = max(updated_at, @at) WHERE id = @id'),
    acknowledge: db.prepare<[Params]>(
      `UPDATE alerts SET state = 'acknowledged', acknowledged_at = @at, acknowledged_by = @by,
         acknowledge_note = @note, updated_at = max(updated_at, @at) WHERE id = @id`,
    ),
    resolve: db.prepare<[Params]>(
      `UPDATE alerts SET state = 'resolved', resolved_at = @at, resolved_by = @by, resolve_note = @note,
         resolution = @resolution, updated_at = max(updated_at, @at) WHERE id = @id`,
    ),
    // The event is a snapshot of the alert row just changed, taken by the database itself.
    insertEvent: db.prepare<[Params]>(
      `INSERT INTO alert_events (alert_id, type, at, severity, state, message, value, threshold, level, actor, note)
       SELECT id, @type, @at, severity, state, message, value, threshold, level, @by, @note FROM alerts
       WHERE id = @id`,
    ),
    putState: db.prepare<[string, string, string, number]>(
      `INSERT INTO rule_states (rule, device, state, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (rule, device) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
    ),
    deleteState: db.prepare<[string, string]>('DELETE FROM rule_states WHERE rule = ? AND device = ?'),
    loadStates: db.prepare<[], { rule: string; device: string; state: string; savedAt: number }>(
      'SELECT rule, device, state, updated_at AS savedAt FROM rule_states ORDER BY rule, device',
    ),
    // Means over the alerts raised in the range; count() and avg() skip the NULLs of those not yet
    // acknowledged or resolved, and avg() of none is NULL.
    responseTimes: db.prepare<[{ from: number; to: number }], unknown>(
      `SELECT owner, count(acknowledged_at) AS acknowledged, avg(acknowledged_at - raised_at) AS meanAckMs,
         count(resolved_at) AS resolved, avg(resolved_at - raised_at) AS meanResolveMs
       FROM alerts WHERE raised_at >= @from AND raised_at < @to GROUP BY owner ORDER BY owner`,
    ),
  };
}

// Each filter's clause, bound by name; arrays are bound as one JSON text and expanded by json_each, so the
// SQL depends only on which filters are present (at most 2^9 shapes, each prepared once). An empty list
// matches nothing, as `IN ()` would.
const FILTER_CLAUSES: Record<(typeof FILTER_KEYS)[number], string> = {
  state: 'state IN (SELECT value FROM json_each(@state))',
  severity: 'severity IN (SELECT value FROM json_each(@severity))',
  owner: 'owner = @owner',
  kind: 'kind = @kind',
  district: 'district = @district',
  device: 'device = @device',
  rule: 'rule = @rule',
  from: 'raised_at >= @from',
  to: 'raised_at < @to',
};

export function openAlertStore(options: AlertStoreOptions): AlertStore {
  const clock = options.clock ?? Date.now;
  const db = openDatabase(options.file, options.log);
  const s = prepare(db);
  const listStatements = new Map<string, Database.Statement<[Params]>>();
  let closed = false;

  /**
   * Runs a read or a write; anything but an AlertsError becomes ALERTS_ERR_STORE, cause kept. SQLite answers
   * at once: the promise only gives both databases one contract.
   */
  function guard<T>(what: string, run: () => T): Promise<T> {
    if (closed) return Promise.reject(new AlertsError('ALERTS_ERR_CLOSED', what));
    try {
      return Promise.resolve(run());
    } catch (err) {
      return Promise.reject(storeError(err, what));
    }
  }

  function record(id: number, type: AlertEventType, at: number, by: string | null, note: string | null) {
    const { lastInsertRowid } = s.insertEvent.run({ id, type, at, by, note });
    const change: AlertChange = {
      alert: toAlert(s.byId.get(id)),
      event: toEvent(s.eventById.get(Number(lastInsertRowid))),
    };
    return change;
  }

  function putState(state: SavedState, now: number): void {
    const text = stateText(state);
    if (text === null) s.deleteState.run(state.rule, state.device);
    else s.putState.run(state.rule, state.device, text, now);
  }

  function applyTrigger(t: Trigger): AlertChange | undefined {
    const step = triggerStep(s.openRow.get(t.rule, t.device), t);
    if (step === undefined) return undefined;
    if (step.type === 'raised') {
      const { lastInsertRowid } = s.insert.run(t);
      return record(Number(lastInsertRowid), 'raised', t.at, null, null);
    }
    const { id, at, severity, level } = step;
    s.refresh.run({ message: t.message, value: t.value, threshold: t.threshold, at, id, severity, level });
    if (step.type !== 'resolved') return record(id, step.type, at, null, null);
    const note = t.note ?? null;
    s.resolve.run({ id, at, by: null, note, resolution: 'auto' });
    return record(id, 'resolved', at, null, note);
  }

  // IMMEDIATE: the write lock is taken before the open alert is read, so two processes on one file cannot
  // both find none and both insert (the unique index would refuse the second anyway).
  const triggerTx = db.transaction((t: Trigger, state: SavedState | undefined, now: number) => {
    const change = applyTrigger(t);
    if (state !== undefined) putState(state, now);
    return change;
  });

  // Inside batchTx each item runs as a nested transaction, which better-sqlite3 makes a savepoint.
  const batchTx = db.transaction((items: readonly TriggerItem[], now: number) =>
    items.map((item): TriggerOutcome => {
      try {
        const t = parseInput(Trigger, item.input, 'trigger');
        const saved = item.state === undefined ? undefined : parseInput(State, item.state, 'saved state');
        return { ok: true, change: triggerTx(t, saved, now) };
      } catch (err) {
        // Some errors (a full disk, an I/O error) roll back the whole transaction, not the savepoint: the
        // batch is then over, and nothing of it may be committed by the items after this one.
        if (!db.inTransaction) throw err;
        return { ok: false, error: storeError(err, `trigger ${item.input.rule}/${item.input.device}`) };
      }
    }),
  );

  const operatorTx = db.transaction((a: Action, type: 'acknowledged' | 'resolved') => {
    const row = s.stateOf.get(a.id);
    if (row === undefined) throw new AlertsError('ALERTS_ERR_NOT_FOUND', `alert ${a.id}`);
    if (!operatorAllowed(type, row.state))
      throw new AlertsError('ALERTS_ERR_STATE', `alert ${a.id} is ${row.state}`);
    const params = { id: a.id, at: after(row.updatedAt, a.at), by: a.by, note: a.note ?? null };
    if (type === 'acknowledged') s.acknowledge.run(params);
    else s.resolve.run({ ...params, resolution: 'operator' });
    return record(a.id, type, params.at, a.by, a.note ?? null);
  });

  // A referral happens once per step: `step` is how many the alert has had, checked under the write lock,
  // so a second notifier (or a replay after a crash) finds the step taken and writes nothing.
  const referTx = db.transaction((r: Referral) => {
    const row = s.stateOf.get(r.id);
    if (row === undefined) throw new AlertsError('ALERTS_ERR_NOT_FOUND', `alert ${r.id}`);
    if (row.state !== 'open' || s.referrals.get(r.id)?.n !== r.step) return undefined;
    const at = after(row.updatedAt, r.at);
    s.touch.run({ id: r.id, at });
    return record(r.id, 'referred', at, null, r.note);
  });

  const statesTx = db.transaction((states: readonly SavedState[], now: number) => {
    for (const state of states) putState(state, now);
  });

  function operator(type: 'acknowledged' | 'resolved', input: Action): Promise<AlertChange> {
    const a = parseInput(Action, input, type === 'acknowledged' ? 'acknowledge' : 'resolve');
    return guard(`${type} alert ${a.id}`, () => operatorTx.immediate(a, type));
  }

  function listStatement(sql: string): Database.Statement<[Params]> {
    let stmt = listStatements.get(sql);
    if (stmt === undefined) listStatements.set(sql, (stmt = db.prepare<[Params]>(sql)));
    return stmt;
  }

  const getMany: AlertStore['getMany'] = (ids) =>
    guard(`get ${ids.length} alerts`, () =>
      [...new Set(ids)]
        .sort((a, b) => a - b)
        .flatMap((id) => {
          const row = s.byId.get(id);
          return row === undefined ? [] : [{ alert: toAlert(row), events: s.events.all(id).map(toEvent) }];
        }),
    );

  return {
    async trigger(input, state) {
      const t = parseInput(Trigger, input, 'trigger');
      const saved = state === undefined ? undefined : parseInput(State, state, 'saved state');
      return guard(`trigger ${t.rule}/${t.device}`, () => triggerTx.immediate(t, saved, clock()));
    },
    async triggerAll(items) {
      if (items.length === 0) return [];
      return guard(`trigger ${items.length} transitions`, () => batchTx.immediate(items, clock()));
    },
    acknowledge: async (id, by, note, at) => operator('acknowledged', { id, by, note, at }),
    resolve: async (id, by, note, at) => operator('resolved', { id, by, note, at }),
    async refer(id, step, note, at) {
      const r = parseInput(Referral, { id, step, note, at }, 'referral');
      return guard(`refer alert ${id}`, () => referTx.immediate(r));
    },

    get: async (id) => (await getMany([id]))[0],
    getMany,

    async list(filter = {}) {
      const f = parseInput(AlertFilter, filter, 'alert filter');
      const where: string[] = [];
      const params: Params = { limit: f.limit };
      for (const key of FILTER_KEYS) {
        const value = f[key];
        if (value === undefined) continue;
        where.push(FILTER_CLAUSES[key]);
        params[key] = Array.isArray(value) ? JSON.stringify(value) : value;
      }
      const sql = `SELECT ${ALERT_COLUMNS} FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY raised_at DESC, id DESC LIMIT @limit`;
      return guard('list alerts', () => listStatement(sql).all(params).map(toAlert));
    },

    openFor: (rule, device) =>
      guard(`open alert of ${rule}/${device}`, () => {
        const row = s.openFor.get(rule, device);
        return row === undefined ? undefined : toAlert(row);
      }),
    listOpen: () => guard('list open alerts', () => s.listOpen.all().map(toAlert)),
    eventsAfter: (afterId, limit) =>
      guard(`events after ${afterId}`, () =>
        s.eventsAfter.all(afterId, limit).map((row) => {
          const event = toEvent(row);
          return { alert: toAlert(s.byId.get(event.alertId)), event };
        }),
      ),

    async saveStates(states) {
      const parsed = states.map((st) => parseInput(State, st, 'saved state'));
      await guard('save rule states', () => statesTx.immediate(parsed, clock()));
    },
    loadStates: (filter = {}) =>
      guard('load rule states', () => {
        const parts = filter.partitions && new Set(filter.partitions);
        return s.loadStates
          .all()
          .filter((r) => parts === undefined || parts.has(partitionOf(r.device)))
          .map((r) => ({
            rule: r.rule,
            device: r.device,
            state: JSON.parse(r.state) as unknown,
            savedAt: r.savedAt,
          }));
      }),

    async responseTimes(filter) {
      const f = parseInput(RangeFilter, filter, 'response time range');
      const range = { from: f.from ?? 0, to: f.to ?? MAX_MS + 1 };
      return guard('response times', () => s.responseTimes.all(range).map((r) => ResponseRow.parse(r)));
    },

    close() {
      if (!closed) db.close();
      closed = true;
      return Promise.resolve();
    },
  };
}

// The alert store in PostgreSQL, shared by the nodes of a cluster (docs/cluster.md): the same tables as in
// SQLite (store-sqlite.ts), the same contract and the same decisions (store-rows.ts). "One open alert per
// (rule, device)" is a partial unique index here too. Every change of an alert takes one advisory lock
// first and holds it to its commit, so the cluster's alert changes happen one after the other, as they do
// in SQLite's one writer: two nodes raising the same (rule, device) together make one alert and an
// update, not a refused insert; no two changes can wait for each other; and event ids, the notifier's
// cursor, become visible in id order, so a reader never passes an event that commits later. Alert
// changes are rare next to readings (a storm is a few thousand), so one at a time is affordable. Each
// change is also told to the other nodes (LISTEN/NOTIFY); they read the events after the last they saw.
import pino, { type Logger } from 'pino';
import { openPostgres, watchChanges, type Sql, type TransactionSql } from '../postgres/index.ts';
import { AlertsError } from './errors.ts';
import { postgresReads } from './reads-postgres.ts';
import { postgresStates } from './states-postgres.ts';
import { ALERT_STORE_PG_MIGRATIONS as MIGRATIONS } from './store-postgres-schema.ts';
import { startRuleLeases, type Fence, type RuleLeases } from './partitions.ts';
import {
  Action,
  ALERT_COLUMNS,
  EVENT_COLUMNS,
  operatorAllowed,
  parseInput,
  Referral,
  State,
  stateText,
  storeError,
  toAlert,
  toEvent,
  Trigger,
  triggerStep,
  after,
  type OpenRow,
} from './store-rows.ts';
import {
  type AlertChange,
  type AlertEventType,
  type AlertStore,
  type SavedState,
  type TriggerOutcome,
} from './types.ts';

/** The advisory lock every change of an alert is made under. */
const CHANGES_LOCK = 0x616c7274; // 'alrt'
const CHANNEL = 'city_alerts';
/** The most events read at once when another node's change is told. */
const FEED_BATCH = 500;

export interface PostgresAlertStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  readonly log?: Logger;
  /** ms since the epoch, for the saved states' `updated_at`; `Date.now` unless a test sets it. */
  readonly clock?: () => number;
  /**
   * This node's name (CITY_NODE_ID), stable across restarts: the mark on the alerts it raises and the events
   * it writes, so that it is not told back its own changes.
   */
  readonly origin: string;
  /**
   * Lease partitions of the device space to this node for its rules engine (partitions.ts), through the
   * store's pool: a cluster's nodes. Leave out to hold none (a single process on PostgreSQL, or a test).
   */
  readonly leases?: { readonly ttlMs?: number; readonly renewMs?: number };
}

/** The store, and the partitions it leases to this node when asked to. */
export type PostgresAlertStore = AlertStore & { readonly leases: RuleLeases | undefined };

type Tx = TransactionSql;

/** Opens the store, its schema up to date; ALERTS_ERR_STORE when the database cannot be reached. */
export async function openPostgresAlertStore(
  options: PostgresAlertStoreOptions,
): Promise<PostgresAlertStore> {
  const clock = options.clock ?? Date.now;
  const { origin } = options;
  const schema = { url: options.url, store: 'alerts', what: 'the alert store', migrations: MIGRATIONS };
  let sql: Sql;
  try {
    sql = await openPostgres(schema);
  } catch (err) {
    throw new AlertsError('ALERTS_ERR_STORE', 'cannot open the alert store in PostgreSQL', { cause: err });
  }
  let closed = false;
  const others: Array<(changes: AlertChange[]) => void> = [];
  let feed: Awaited<ReturnType<typeof watchChanges>> | undefined;
  let cursor = 0;

  async function guard<T>(what: string, run: () => Promise<T>): Promise<T> {
    if (closed) throw new AlertsError('ALERTS_ERR_CLOSED', what);
    try {
      return await run();
    } catch (err) {
      throw storeError(err, what);
    }
  }

  /** A transaction that changes alerts, under the changes' lock. */
  function changing<T>(run: (tx: Tx) => Promise<T>): Promise<T> {
    return sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${CHANGES_LOCK})`;
      return run(tx);
    });
  }

  /** The event, and the alert as it is now. */
  async function record(
    tx: Tx,
    id: number,
    type: AlertEventType,
    at: number,
    by: string | null,
    note: string | null,
  ): Promise<AlertChange> {
    const [event] = await tx.unsafe(
      `INSERT INTO alert_events (alert_id, type, at, severity, state, message, value, threshold, level, actor,
         note, origin)
       SELECT id, $2, $3, severity, state, message, value, threshold, level, $4, $5, $6 FROM alerts
       WHERE id = $1
       RETURNING ${EVENT_COLUMNS}`,
      [id, type, at, by, note, origin],
    );
    const [alert] = await tx.unsafe(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = $1`, [id]);
    await feed?.notify(tx, 'alerts');
    return { alert: toAlert(alert), event: toEvent(event) };
  }

  const ruleStates = postgresStates({ origin, leased: () => leases !== undefined });
  const { holds } = ruleStates;
  const putState = (tx: Tx, state: SavedState, now: number) =>
    ruleStates.put(tx, [{ state, text: stateText(state) }], now);

  /** A rule's transition under its lease; flows' and commands' alerts are not any partition's. */
  async function fenced(tx: Tx, t: Trigger, fence: Fence | undefined, what: string): Promise<void> {
    if (fence === undefined && t.source !== 'rule') return;
    if (!(await holds(tx, fence)))
      throw new AlertsError(
        'ALERTS_ERR_FENCED',
        fence === undefined
          ? `${what}: a rule's transition with no lease`
          : `${what}: partition ${fence.partition} has another owner`,
      );
  }

  async function applyTrigger(tx: Tx, t: Trigger): Promise<AlertChange | undefined> {
    const [open] = await tx<OpenRow[]>`SELECT id, severity, level, updated_at AS "updatedAt" FROM alerts
      WHERE rule = ${t.rule} AND device = ${t.device} AND state <> 'resolved'`;
    const step = triggerStep(open, t);
    if (step === undefined) return undefined;
    if (step.type === 'raised') {
      const [row] = await tx<{ id: number }[]>`INSERT INTO alerts (rule, device, kind, district, owner, title,
          severity, state, source, message, value, threshold, level, raised_at, updated_at, origin)
        VALUES (${t.rule}, ${t.device}, ${t.kind}, ${t.district}, ${t.owner}, ${t.title}, ${t.severity}, 'open',
          ${t.source}, ${t.message}, ${t.value}, ${t.threshold}, ${t.level}, ${t.at}, ${t.at}, ${origin})
        RETURNING id`;
      return record(tx, row!.id, 'raised', t.at, null, null);
    }
    const { id, at, severity, level } = step;
    await tx`UPDATE alerts SET message = ${t.message}, value = ${t.value}, threshold = ${t.threshold},
      severity = ${severity}, level = ${level}, updated_at = greatest(updated_at, ${at}) WHERE id = ${id}`;
    if (step.type !== 'resolved') return record(tx, id, step.type, at, null, null);
    const note = t.note ?? null;
    await tx`UPDATE alerts SET state = 'resolved', resolved_at = ${at}, resolved_by = NULL,
      resolve_note = ${note}, resolution = 'auto' WHERE id = ${id}`;
    return record(tx, id, 'resolved', at, null, note);
  }

  async function triggerIn(tx: Tx, t: Trigger, state: SavedState | undefined, now: number) {
    const change = await applyTrigger(tx, t);
    if (state !== undefined) await putState(tx, state, now);
    return change;
  }

  /** The alert's state and latest time, locked for the transaction; ALERTS_ERR_NOT_FOUND when none. */
  async function locked(tx: Tx, id: number): Promise<{ state: string; updatedAt: number }> {
    const [row] = await tx<{ state: string; updatedAt: number }[]>`
      SELECT state, updated_at AS "updatedAt" FROM alerts WHERE id = ${id} FOR UPDATE`;
    if (row === undefined) throw new AlertsError('ALERTS_ERR_NOT_FOUND', `alert ${id}`);
    return row;
  }

  async function operator(type: 'acknowledged' | 'resolved', input: Action): Promise<AlertChange> {
    const a = parseInput(Action, input, type === 'acknowledged' ? 'acknowledge' : 'resolve');
    return guard(`${type} alert ${a.id}`, () =>
      changing(async (tx) => {
        const row = await locked(tx, a.id);
        if (!operatorAllowed(type, row.state))
          throw new AlertsError('ALERTS_ERR_STATE', `alert ${a.id} is ${row.state}`);
        const at = after(row.updatedAt, a.at);
        const note = a.note ?? null;
        if (type === 'acknowledged')
          await tx`UPDATE alerts SET state = 'acknowledged', acknowledged_at = ${at}, acknowledged_by = ${a.by},
            acknowledge_note = ${note}, updated_at = greatest(updated_at, ${at}) WHERE id = ${a.id}`;
        else
          await tx`UPDATE alerts SET state = 'resolved', resolved_at = ${at}, resolved_by = ${a.by},
            resolve_note = ${note}, resolution = 'operator', updated_at = greatest(updated_at, ${at})
            WHERE id = ${a.id}`;
        return record(tx, a.id, type, at, a.by, note);
      }),
    );
  }

  /** Reads the events other nodes wrote since the last read and tells them; runs one at a time. */
  let reading: Promise<void> | undefined;
  let again = false;
  function readOthers(): void {
    if (reading !== undefined) {
      again = true;
      return;
    }
    reading = (async () => {
      do {
        again = false;
        let changes: AlertChange[];
        do {
          changes = await eventsAfter(cursor, FEED_BATCH, true);
          if (changes.length > 0) cursor = changes.at(-1)!.event.id;
          if (changes.length > 0) for (const listener of others) listener(changes);
        } while (changes.length === FEED_BATCH);
      } while (again && !closed);
    })()
      .catch((err: unknown) =>
        options.log?.error({ err }, "other nodes' alert changes not read; at the next"),
      )
      .finally(() => (reading = undefined));
  }

  /** The events after `afterId`, each with its alert as it is now: all, or those other nodes made. */
  async function eventsAfter(afterId: number, limit: number, madeElsewhere: boolean): Promise<AlertChange[]> {
    const where = ['id > $1', ...(madeElsewhere ? ['origin <> $3'] : [])];
    const rows = await sql.unsafe(
      `SELECT e.*, row_to_json(a) AS alert
       FROM (SELECT ${EVENT_COLUMNS} FROM alert_events WHERE ${where.join(' AND ')} ORDER BY id LIMIT $2) e
       JOIN (SELECT ${ALERT_COLUMNS} FROM alerts) a ON a.id = e."alertId"
       ORDER BY e.id`,
      where.length > 1 ? [afterId, limit, origin] : [afterId, limit],
    );
    return rows.map(({ alert, ...event }) => ({ alert: toAlert(alert), event: toEvent(event) }));
  }

  let leases: RuleLeases | undefined;
  let leasePool: Sql | undefined;
  const store: PostgresAlertStore = {
    get leases() {
      return leases;
    },
    async trigger(input, state) {
      const t = parseInput(Trigger, input, 'trigger');
      const saved = state === undefined ? undefined : parseInput(State, state, 'saved state');
      const what = `trigger ${t.rule}/${t.device}`;
      return guard(what, () =>
        changing(async (tx) => {
          await fenced(tx, t, state?.fence, what);
          return triggerIn(tx, t, saved, clock());
        }),
      );
    },
    async triggerAll(items) {
      if (items.length === 0) return [];
      const now = clock();
      return guard(`trigger ${items.length} transitions`, () =>
        changing(async (tx) => {
          const outcomes: TriggerOutcome[] = [];
          // Each item in its own savepoint: one the database refuses is rolled back alone.
          for (const item of items) {
            try {
              const t = parseInput(Trigger, item.input, 'trigger');
              const saved =
                item.state === undefined ? undefined : parseInput(State, item.state, 'saved state');
              const what = `trigger ${t.rule}/${t.device}`;
              const change = await tx.savepoint(async (sp) => {
                await fenced(sp, t, item.fence, what);
                return triggerIn(sp, t, saved, now);
              });
              outcomes.push({ ok: true, change });
            } catch (err) {
              outcomes.push({
                ok: false,
                error: storeError(err, `trigger ${item.input.rule}/${item.input.device}`),
              });
            }
          }
          return outcomes;
        }),
      );
    },
    acknowledge: (id, by, note, at) => operator('acknowledged', { id, by, note, at }),
    resolve: (id, by, note, at) => operator('resolved', { id, by, note, at }),
    async refer(id, step, note, at) {
      const r = parseInput(Referral, { id, step, note, at }, 'referral');
      return guard(`refer alert ${id}`, () =>
        changing(async (tx) => {
          const row = await locked(tx, r.id);
          const [{ n } = { n: 0 }] = await tx<{ n: number }[]>`
            SELECT count(*) AS n FROM alert_events WHERE alert_id = ${r.id} AND type = 'referred'`;
          if (row.state !== 'open' || n !== r.step) return undefined;
          const stamp = after(row.updatedAt, r.at);
          await tx`UPDATE alerts SET updated_at = greatest(updated_at, ${stamp}) WHERE id = ${r.id}`;
          return record(tx, r.id, 'referred', stamp, null, r.note);
        }),
      );
    },

    ...postgresReads(sql, guard),
    eventsAfter: (afterId, limit) =>
      guard(`events after ${afterId}`, () => eventsAfter(afterId, limit, false)),

    async saveStates(states) {
      // Parsed (and refused as a whole) before anything is written; the last of one (rule, device) wins.
      const texts = new Map<string, { state: SavedState; text: string | null }>();
      for (const st of states) {
        const state = { ...parseInput(State, st, 'saved state'), fence: st.fence };
        texts.set(`${state.rule}\u0000${state.device}`, { state, text: stateText(state) });
      }
      const now = clock();
      await guard('save rule states', () =>
        sql.begin((tx) => ruleStates.saveHeld(tx, [...texts.values()], now)),
      );
    },
    loadStates: (filter = {}) => guard('load rule states', () => ruleStates.load(sql, filter.partitions)),

    onOthers(listener) {
      others.push(listener);
    },

    async close() {
      if (closed) return;
      // The partitions go back first, their states saved while the store is still open.
      await leases?.close();
      await leasePool?.end({ timeout: 5 });
      closed = true;
      await feed?.close();
      await reading;
      await sql.end({ timeout: 5 });
    },
  };

  try {
    const [last] = await sql<{ id: number | null }[]>`SELECT max(id) AS id FROM alert_events`;
    cursor = last?.id ?? 0;
    feed = await watchChanges(sql, CHANNEL, origin);
    feed.on(readOthers);
    if (options.leases !== undefined) {
      // Leases on a pool of their own: their renewals must not queue behind a storm of alert changes.
      leasePool = await openPostgres({ ...schema, what: 'the rule leases', max: 2 });
      leases = startRuleLeases({
        sql: leasePool,
        node: origin,
        log: options.log ?? pino({ level: 'silent' }),
        ...options.leases,
      });
    }
  } catch (err) {
    await sql.end({ timeout: 1 });
    await leasePool?.end({ timeout: 1 });
    throw new AlertsError('ALERTS_ERR_STORE', 'cannot listen for the alert store’s changes', { cause: err });
  }
  return store;
}

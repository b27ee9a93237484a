// Reading the alerts in PostgreSQL (store-postgres.ts): one alert or several with their events, filtered
// lists, the open ones, and each owner's response times. Reads take no lock: they see what has committed.
import type { Sql } from '../postgres/index.ts';
import {
  ALERT_COLUMNS,
  EVENT_COLUMNS,
  FILTER_KEYS,
  MAX_MS,
  parseInput,
  RangeFilter,
  ResponseRow,
  toAlert,
  toEvent,
} from './store-rows.ts';
import { AlertFilter, type AlertEvent, type AlertStore } from './types.ts';

type Reads = Pick<AlertStore, 'get' | 'getMany' | 'list' | 'openFor' | 'listOpen' | 'responseTimes'>;

/** The reads, each run through `guard` (the store's: refused once closed, errors as ALERTS_ERR_STORE). */
export function postgresReads(
  sql: Sql,
  guard: <T>(what: string, run: () => Promise<T>) => Promise<T>,
): Reads {
  const getMany: AlertStore['getMany'] = (ids) =>
    guard(`get ${ids.length} alerts`, async () => {
      if (ids.length === 0) return [];
      const alerts = await sql.unsafe(
        `SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = ANY($1::bigint[]) ORDER BY id`,
        [ids as number[]],
      );
      const events = (
        await sql.unsafe(
          `SELECT ${EVENT_COLUMNS} FROM alert_events WHERE alert_id = ANY($1::bigint[]) ORDER BY id`,
          [ids as number[]],
        )
      ).map(toEvent);
      const byAlert = new Map<number, AlertEvent[]>();
      for (const e of events) {
        const list = byAlert.get(e.alertId);
        if (list === undefined) byAlert.set(e.alertId, [e]);
        else list.push(e);
      }
      return alerts.map((row) => {
        const alert = toAlert(row);
        return { alert, events: byAlert.get(alert.id) ?? [] };
      });
    });

  return {
    get: async (id) => (await getMany([id]))[0],
    getMany,

    async list(filter = {}) {
      const f = parseInput(AlertFilter, filter, 'alert filter');
      const where: string[] = [];
      const params: Array<string | number | string[]> = [];
      for (const key of FILTER_KEYS) {
        const value = f[key];
        if (value === undefined) continue;
        params.push(value);
        where.push(FILTER_CLAUSES[key](`$${params.length}`));
      }
      params.push(f.limit);
      const text = `SELECT ${ALERT_COLUMNS} FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY raised_at DESC, id DESC LIMIT $${params.length}`;
      return guard('list alerts', async () => (await sql.unsafe(text, params)).map(toAlert));
    },

    openFor: (rule, device) =>
      guard(`open alert of ${rule}/${device}`, async () => {
        const [row] = await sql.unsafe(
          `SELECT ${ALERT_COLUMNS} FROM alerts WHERE rule = $1 AND device = $2 AND state <> 'resolved'`,
          [rule, device],
        );
        return row === undefined ? undefined : toAlert(row);
      }),
    listOpen: () =>
      guard('list open alerts', async () =>
        (
          await sql.unsafe(
            `SELECT ${ALERT_COLUMNS} FROM alerts WHERE state <> 'resolved' ORDER BY raised_at DESC, id DESC`,
          )
        ).map(toAlert),
      ),
    async responseTimes(filter) {
      const f = parseInput(RangeFilter, filter, 'response time range');
      const from = f.from ?? 0;
      const to = f.to ?? MAX_MS + 1;
      return guard('response times', async () => {
        const rows = await sql`SELECT owner, count(acknowledged_at) AS acknowledged,
            avg(acknowledged_at - raised_at)::float8 AS "meanAckMs", count(resolved_at) AS resolved,
            avg(resolved_at - raised_at)::float8 AS "meanResolveMs"
          FROM alerts WHERE raised_at >= ${from} AND raised_at < ${to} GROUP BY owner ORDER BY owner`;
        return rows.map((r) => ResponseRow.parse(r));
      });
    },
  };
}

// Each filter's clause, with its parameter's placeholder; lists are bound as one text array.
const FILTER_CLAUSES: Record<(typeof FILTER_KEYS)[number], (p: string) => string> = {
  state: (p) => `state = ANY(${p}::text[])`,
  severity: (p) => `severity = ANY(${p}::text[])`,
  owner: (p) => `owner = ${p}`,
  kind: (p) => `kind = ${p}`,
  district: (p) => `district = ${p}`,
  device: (p) => `device = ${p}`,
  rule: (p) => `rule = ${p}`,
  from: (p) => `raised_at >= ${p}`,
  to: (p) => `raised_at < ${p}`,
};

// Time ranges of the readings routes, parsed from query strings. Pure: the current time is an argument.
import { z } from 'zod';
import { durationMs, isDuration } from '../influx/index.ts';
import { ApiError } from './errors.ts';

/** Without `from`, the history routes look back one day: what an operator's "recent" chart shows. */
export const DEFAULT_LOOKBACK_MS = 24 * 60 * 60 * 1000;
/** At most this many buckets per answer with `every`: a year of hourly means fits, a year of 1 s does not. */
export const MAX_BUCKETS = 10_000;

const EPOCH_MS = /^(0|[1-9][0-9]{0,15})$/;

/** The last instant InfluxDB can hold: it keeps time as int64 nanoseconds since the epoch, which end at
 * 2262-04-11T23:47:16.854Z. A later time is refused here rather than overflowing in the query. */
export const MAX_TIME_MS = 9_223_372_036_854;
/** The widest bucket `every` may name: ten years. GROUP BY time() overflows a few centuries out, and a
 * wider bucket than the longest range means nothing. */
export const MAX_EVERY_MS = 520 * 7 * 86_400_000;

/** `now`, or now plus or minus a duration: `now-1h`, `now-7d`, `now+30m` (as Grafana and InfluxDB users type). */
const RELATIVE = /^now(?:([+-])(\d{1,12})(ms|s|m|h|d|w))?$/;
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3_600e3,
  d: 86_400e3,
  w: 604_800e3,
};

/** What an instant parameter takes, with examples: every message about one says it. */
export const INSTANT_FORMS =
  'RFC 3339 with an offset (2025-10-27T08:00:00+07:00), epoch milliseconds (1761552000000), or a time ' +
  'relative to now (now, now-1h, now-7d; units ms s m h d w)';

/** Epoch ms of a query-string instant, or undefined when it is none of INSTANT_FORMS. */
export function parseInstant(text: string, now: number): number | undefined {
  if (EPOCH_MS.test(text)) return Number(text);
  const relative = RELATIVE.exec(text);
  if (relative) {
    const [, sign, amount, unit] = relative;
    if (sign === undefined) return now;
    return now + (sign === '-' ? -1 : 1) * Number(amount) * UNIT_MS[unit!]!;
  }
  if (!z.iso.datetime({ offset: true }).safeParse(text).success) return undefined;
  return Date.parse(text);
}

/**
 * A query-string instant: RFC 3339 with an offset, integer epoch milliseconds (the two forms a device may
 * send as `ts`, docs/architecture.md, "Payloads"), or a time relative to `clock()` at the request.
 */
export function instant(clock: () => number) {
  return z
    .string()
    .transform((text, ctx) => {
      const ms = parseInstant(text.trim(), clock());
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `not a time: expected ${INSTANT_FORMS}` });
        return z.NEVER;
      }
      if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_TIME_MS) {
        ctx.addIssue({
          code: 'custom',
          message:
            'not a time InfluxDB can hold: between 1970-01-01 and 2262-04-11 (e.g. 2025-10-27T08:00:00Z, now-1h)',
        });
        return z.NEVER;
      }
      return ms;
    })
    .describe(INSTANT_FORMS);
}

/** Optional `from` and `to` instants, read with `clock`; each described by what it bounds, then the forms. */
export function rangeQuery(clock: () => number, what: { readonly from: string; readonly to: string }) {
  return {
    from: instant(clock).optional().describe(`${what.from}: ${INSTANT_FORMS}`),
    to: instant(clock).optional().describe(`${what.to}: ${INSTANT_FORMS}`),
  };
}

/** A bucket width for GROUP BY time(), checked by the InfluxQL builder's own test. */
export const Every = z
  .string()
  .refine(isDuration, 'a duration like 30s, 5m, 1h, 1d or 2w')
  .refine((v) => !isDuration(v) || durationMs(v) <= MAX_EVERY_MS, 'a bucket of at most ten years (520w)')
  .describe('bucket width: a positive integer and one of s m h d w, at most 520w');

export interface TimeRange {
  /** Inclusive, epoch ms. */
  readonly from: number;
  /** Exclusive, epoch ms. */
  readonly to: number;
}

/** Defaults the range to the last day before `now`; refuses an empty or inverted one. */
export function resolveRange(
  query: { from?: number | undefined; to?: number | undefined },
  now: number,
): TimeRange {
  const to = query.to ?? now;
  const from = query.from ?? to - DEFAULT_LOOKBACK_MS;
  if (from >= to) {
    throw new ApiError('API_ERR_VALIDATION', '`from` must be before `to`', {
      details: { in: 'querystring', issues: [{ path: '/from', message: 'from >= to', code: 'custom' }] },
    });
  }
  return { from: Math.max(0, from), to };
}

/** Refuses a range that `every` would cut into more than MAX_BUCKETS buckets. */
export function checkBuckets(range: TimeRange, every: string): void {
  const buckets = Math.ceil((range.to - range.from) / durationMs(every));
  if (buckets > MAX_BUCKETS) {
    throw new ApiError(
      'API_ERR_TOO_MANY_POINTS',
      `${buckets} buckets of ${every} in the range; at most ${MAX_BUCKETS}: widen \`every\` or narrow the range`,
    );
  }
}

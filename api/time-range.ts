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

/**
 * A query-string instant: RFC 3339 with an offset (`2025-10-27T08:00:00Z`, `...+07:00`) or integer epoch
 * milliseconds, the same two forms a device may send as `ts` (docs/architecture.md, "Payloads").
 */
export const Instant = z
  .union([z.iso.datetime({ offset: true }), z.string().regex(EPOCH_MS, 'epoch milliseconds')])
  .transform((text, ctx) => {
    const ms = EPOCH_MS.test(text) ? Number(text) : Date.parse(text);
    if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_TIME_MS) {
      ctx.addIssue({
        code: 'custom',
        message:
          'not a time InfluxDB can hold: between 1970-01-01 and 2262-04-11 (e.g. 2025-10-27T08:00:00Z)',
      });
      return z.NEVER;
    }
    return ms;
  })
  .describe('RFC 3339 with an offset, or epoch milliseconds');

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

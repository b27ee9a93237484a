// Compares the retention an operator configured with the one an existing database has. The platform
// never changes it by itself: shortening a retention policy deletes data, so it reports the difference.
import type { Series } from './series.ts';
import { durationMs, showRetentionPolicies } from './influxql.ts';

type Query = (q: string) => Promise<Series[][]>;

/** Milliseconds of a Go duration as InfluxDB prints it (`2160h0m0s`, `0s` = infinite); NaN if unreadable. */
export function goDurationMs(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (m === null || text === '') return Number.NaN;
  return (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
}

/** A warning when the database's default retention policy differs from `wanted`; undefined otherwise. */
export async function checkRetention(query: Query, db: string, wanted: string): Promise<string | undefined> {
  let series: Series[] | undefined;
  try {
    [series] = await query(showRetentionPolicies(db));
  } catch {
    return undefined; // 2.x/3.x may not list policies; nothing to compare, nothing to warn about
  }
  const table = series?.[0];
  if (table === undefined) return undefined;
  const durationCol = table.columns.indexOf('duration');
  const defaultCol = table.columns.indexOf('default');
  const row = table.values.find((r) => r[defaultCol] === true);
  const current = row?.[durationCol];
  if (typeof current !== 'string') return undefined;
  const wantedMs = wanted === 'INF' ? 0 : durationMs(wanted);
  if (goDurationMs(current) === wantedMs) return undefined;
  return (
    `database ${JSON.stringify(db)} keeps data for ${current === '0s' ? 'ever' : current}, not ${wanted} as ` +
    'configured; it was left unchanged (shortening it deletes data): change it with ALTER RETENTION POLICY'
  );
}

// The one module that builds InfluxQL (docs/architecture.md, decision 4): every name goes through ident(), every
// value through str(), a regex through regexLiteral(), a time through timeLiteral(), a duration through
// duration(). Nothing else in the platform concatenates query text, so API parameters never reach a query
// unescaped.
//
// Quoting follows the InfluxQL scanner (influxql/scanner.go ScanString): inside '...' and "...", the only
// escapes are \\ \' \" and \n, and a raw newline ends the string with an error. NUL and CR cannot be written
// at all (1.6.7 reads NUL as the end of the query and CR as a newline, with no escape for either), so they
// are refused; line-protocol.ts refuses them in names and tags too, so nothing stored needs them.
import { InfluxError } from './errors.ts';

/** A fragment of InfluxQL built by this module; a plain string cannot be passed where one is expected. */
export type InfluxQL = string & { readonly __influxql: true };
/** A boolean expression for a WHERE clause. */
export type Condition = InfluxQL & { readonly __condition: true };

const trusted = <T extends InfluxQL>(text: string): T => text as T;

function refuse(message: string): never {
  throw new InfluxError('INFLUX_ERR_QUERY_INPUT', message);
}

function quote(text: string, q: "'" | '"'): string {
  if (text.includes('\0') || text.includes('\r')) {
    refuse(`${JSON.stringify(text)} contains NUL or CR, which InfluxQL cannot express`);
  }
  let out = q;
  for (const ch of text) {
    if (ch === '\\' || ch === q) out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else out += ch;
  }
  return out + q;
}

/** A quoted identifier (measurement, field, tag, database, retention policy): `"name"`. */
export function ident(name: string): InfluxQL {
  if (name === '') refuse('an identifier cannot be empty');
  return trusted(quote(name, '"'));
}

/** A string literal: `'value'`. */
export function str(value: string): InfluxQL {
  return trusted(quote(value, "'"));
}

/**
 * A regex literal `/source/` for `=~` and `!~`, from RE2 source. The InfluxQL scanner ends the literal at
 * the first `/` not preceded by a backslash and turns `\/` into `/`, so every unescaped `/` is escaped
 * here; a raw newline (refused by the scanner) and a trailing lone backslash are refused.
 */
export function regexLiteral(source: string): InfluxQL {
  let out = '/';
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\n' || ch === '\r' || ch === '\0')
      refuse('a regex cannot contain a raw newline, CR or NUL; write \\n, \\r or \\x00');
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === undefined) refuse('a regex cannot end with a lone backslash');
      if (next === '\n' || next === '\r' || next === '\0')
        refuse('a regex cannot contain a raw newline, CR or NUL');
      out += '\\' + next;
      i++;
    } else if (ch === '/') out += '\\/';
    else out += ch;
  }
  return trusted(out + '/');
}

/** RE2 source matching `text` literally: ASCII punctuation and controls as \xHH, never a `\` before `/`. */
export function escapeRegex(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    const plain =
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c > 0x7f;
    out += plain ? ch : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** A regex literal matching exactly one of `values`: `/^(?:a|b)$/`. */
export function regexAnyOf(values: readonly string[]): InfluxQL {
  if (values.length === 0) refuse('regexAnyOf needs at least one value');
  return regexLiteral(`^(?:${values.map(escapeRegex).join('|')})$`);
}

/** An absolute time for comparison with `time`: integer epoch milliseconds as `1700000000000ms`. */
export function timeLiteral(time: number | Date): InfluxQL {
  const ms = typeof time === 'number' ? time : time.getTime();
  if (!Number.isSafeInteger(ms)) refuse(`time ${String(ms)} is not an integer of epoch milliseconds`);
  return trusted(`${ms}ms`);
}

const DURATION = /^([1-9][0-9]{0,5})([smhdw])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** True for a duration this module accepts: a positive integer (up to 6 digits) and one of s m h d w. */
export function isDuration(text: string): boolean {
  return DURATION.test(text);
}

/** Validates a duration (`30s`, `5m`, `1h`, `1d`, `2w`) for GROUP BY time() or a retention policy. */
export function duration(text: string): InfluxQL {
  if (!DURATION.test(text)) refuse(`${JSON.stringify(text)} is not a duration like 30s, 5m, 1h, 1d or 2w`);
  return trusted(text);
}

/** The length of a valid duration in milliseconds (for limits such as the number of buckets). */
export function durationMs(text: string): number {
  const m = DURATION.exec(text);
  if (m === null) refuse(`${JSON.stringify(text)} is not a duration like 30s, 5m, 1h, 1d or 2w`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Tag filters: a string is equality, an array is "any of" (OR), undefined is ignored. */
export type TagFilter = Readonly<Record<string, string | readonly string[] | undefined>>;

/** `"k1" = 'v1' AND ("k2" = 'a' OR "k2" = 'b')`, keys in sorted order; undefined when there is no filter. */
export function whereTags(filter: TagFilter): Condition | undefined {
  const parts: string[] = [];
  for (const key of Object.keys(filter).sort()) {
    const value = filter[key];
    if (value === undefined) continue;
    if (typeof value === 'string') parts.push(`${ident(key)} = ${str(value)}`);
    else if (value.length === 0) refuse(`the filter on ${JSON.stringify(key)} lists no values`);
    else if (value.length === 1) parts.push(`${ident(key)} = ${str(value[0] ?? '')}`);
    else parts.push(`(${value.map((v) => `${ident(key)} = ${str(v)}`).join(' OR ')})`);
  }
  return parts.length === 0 ? undefined : trusted(parts.join(' AND '));
}

/** `time >= <from> AND time < <to>`: the half-open interval [from, to). */
export function timeRange(from: number | Date, to: number | Date): Condition {
  return trusted(`time >= ${timeLiteral(from)} AND time < ${timeLiteral(to)}`);
}

/** Conditions joined with AND (each parenthesized); undefined entries are skipped. */
export function and(...conditions: readonly (Condition | undefined)[]): Condition | undefined {
  const present = conditions.filter((c): c is Condition => c !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return trusted(present.map((c) => `(${c})`).join(' AND '));
}

/** Aggregates usable in selectHistory (InfluxQL functions that return one value per bucket). */
export const AGGREGATES = [
  'mean',
  'median',
  'min',
  'max',
  'first',
  'last',
  'sum',
  'count',
  'spread',
  'stddev',
] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** `"m"`, or `"rp"."m"` when a retention policy other than the database's default is read. */
function source(measurement: string, retentionPolicy?: string): string {
  return retentionPolicy === undefined
    ? ident(measurement)
    : `${ident(retentionPolicy)}.${ident(measurement)}`;
}

function fieldList(fields: readonly string[] | undefined): string {
  if (fields === undefined) return '*';
  if (fields.length === 0) refuse('the field list is empty');
  return fields.map(ident).join(', ');
}

export interface SelectLastOptions {
  readonly measurement: string;
  /** Fields to return; all fields (and the tags not grouped by) when omitted. */
  readonly fields?: readonly string[];
  readonly where?: Condition | undefined;
  /** Tags to group by, one latest row per group, e.g. ['device']. */
  readonly groupBy?: readonly string[];
  readonly retentionPolicy?: string;
}

/**
 * The latest point (per group): `SELECT "f" FROM "m" WHERE ... GROUP BY "device" ORDER BY time DESC LIMIT 1`.
 * A row, not `last()` per field: with several selectors InfluxQL reports time 0, and the API wants the
 * time of the reading. Rows in which all selected fields are null are skipped by InfluxDB.
 */
export function selectLast(options: SelectLastOptions): InfluxQL {
  let q = `SELECT ${fieldList(options.fields)} FROM ${source(options.measurement, options.retentionPolicy)}`;
  if (options.where !== undefined) q += ` WHERE ${options.where}`;
  if (options.groupBy !== undefined && options.groupBy.length > 0)
    q += ` GROUP BY ${options.groupBy.map(ident).join(', ')}`;
  return trusted(`${q} ORDER BY time DESC LIMIT 1`);
}

export interface SelectHistoryOptions {
  readonly measurement: string;
  readonly fields: readonly string[];
  readonly device: string;
  /** Inclusive start, epoch ms or Date. */
  readonly from: number | Date;
  /** Exclusive end, epoch ms or Date. */
  readonly to: number | Date;
  /** Bucket width (`5m`); without it one value over the whole range. */
  readonly every?: string | undefined;
  readonly fn: Aggregate;
  /** Further conditions ANDed with the device and time range. */
  readonly where?: Condition | undefined;
  readonly retentionPolicy?: string;
}

/**
 * `SELECT mean("f") AS "f" FROM "m" WHERE "device" = '...' AND time >= ...ms AND time < ...ms
 * GROUP BY time(5m) fill(none)`. Buckets without data are left out (fill(none)), not reported as null.
 */
export function selectHistory(options: SelectHistoryOptions): InfluxQL {
  if (!(AGGREGATES as readonly string[]).includes(options.fn))
    refuse(`${JSON.stringify(options.fn)} is not an aggregate`);
  if (options.fields.length === 0) refuse('the field list is empty');
  const columns = options.fields.map((f) => `${options.fn}(${ident(f)}) AS ${ident(f)}`).join(', ');
  const where = [`${ident('device')} = ${str(options.device)}`, timeRange(options.from, options.to)];
  if (options.where !== undefined) where.push(`(${options.where})`);
  let q = `SELECT ${columns} FROM ${source(options.measurement, options.retentionPolicy)} WHERE ${where.join(' AND ')}`;
  if (options.every !== undefined) q += ` GROUP BY time(${duration(options.every)}) fill(none)`;
  return trusted(q);
}

export interface SelectRawOptions {
  readonly measurement: string;
  readonly fields: readonly string[];
  readonly device: string;
  readonly from: number | Date;
  readonly to: number | Date;
  /** At most this many points, oldest first. */
  readonly limit: number;
  readonly retentionPolicy?: string;
}

/** `SELECT "f1", "f2" FROM "m" WHERE "device" = '...' AND time ... ORDER BY time ASC LIMIT n`. */
export function selectRaw(options: SelectRawOptions): InfluxQL {
  if (options.fields.length === 0) refuse('the field list is empty');
  if (!Number.isSafeInteger(options.limit) || options.limit < 1)
    refuse('the limit must be a positive integer');
  const columns = options.fields.map((f) => ident(f)).join(', ');
  const where = `${ident('device')} = ${str(options.device)} AND ${timeRange(options.from, options.to)}`;
  return trusted(
    `SELECT ${columns} FROM ${source(options.measurement, options.retentionPolicy)} WHERE ${where} ORDER BY time ASC LIMIT ${options.limit}`,
  );
}

/** A retention period: a duration (InfluxDB 1.x needs at least 1h) or `INF` to keep data for ever. */
export function retention(text: string): InfluxQL {
  return text === 'INF' ? trusted('INF') : duration(text);
}

export function createDatabase(name: string, retentionPeriod?: string): InfluxQL {
  const withDuration = retentionPeriod === undefined ? '' : ` WITH DURATION ${retention(retentionPeriod)}`;
  return trusted(`CREATE DATABASE ${ident(name)}${withDuration}`);
}

export function dropDatabase(name: string): InfluxQL {
  return trusted(`DROP DATABASE ${ident(name)}`);
}

export function showDatabases(): InfluxQL {
  return trusted('SHOW DATABASES');
}

export function showRetentionPolicies(database: string): InfluxQL {
  return trusted(`SHOW RETENTION POLICIES ON ${ident(database)}`);
}

// InfluxQL for panels: Grafana runs these raw, after expanding its macros (`$timeFilter`, `$__interval`,
// `$district`...). Identifiers are quoted by the platform's own escaping (influx/index.ts), and every
// selected column gets an alias, so a panel's legend and the dashboards' tests both know its columns.
import { ident, str } from '../../influx/index.ts';

export type Aggregate = 'mean' | 'max' | 'min' | 'sum' | 'last' | 'count' | 'spread' | 'median';

/** One column of a SELECT list, already aliased: `mean("pm25") AS "PM2.5"`. */
export type Column = string & { readonly __column: true };

/** `fn("field") AS "alias"`; `fn` may wrap another function, as in `non_negative_difference(last(...))`. */
export function col(fn: Aggregate | 'raw', field: string, alias: string = field): Column {
  const value = fn === 'raw' ? ident(field) : `${fn}(${ident(field)})`;
  return `${value} AS ${ident(alias)}` as Column;
}

/** A tag's value as a column (`"rule"::tag AS "rule"`), for tables and annotations of raw points. */
export function tagCol(tag: string, alias: string = tag): Column {
  return `${ident(tag)}::tag AS ${ident(alias)}` as Column;
}

export type Transformation = 'moving_average' | 'non_negative_difference' | 'cumulative_sum';

/** A transformation of an aggregate over `GROUP BY time()`: `moving_average(mean("pm25"), 24)`. */
export function transform(
  fn: Transformation,
  aggregate: Aggregate,
  field: string,
  alias: string,
  argument?: number,
): Column {
  const args = argument === undefined ? '' : `, ${argument}`;
  return `${fn}(${aggregate}(${ident(field)})${args}) AS ${ident(alias)}` as Column;
}

/** `"tag" =~ /^$variable$/`: a multi-value template variable, "All" expanding to its `allValue` `.*`. */
export function tagMatches(tag: string, variable: string): string {
  return `${ident(tag)} =~ /^$${variable}$/`;
}

/** `"key" = 'value'` for a tag or a string field. */
export function equals(key: string, value: string | number): string {
  return `${ident(key)} = ${typeof value === 'number' ? String(value) : str(value)}`;
}

/** `"key" != 'value'` for a tag or a string field. */
export function notEquals(key: string, value: string): string {
  return `${ident(key)} != ${str(value)}`;
}

export interface SelectOptions {
  readonly select: readonly Column[];
  /** A measurement name, or a subquery made by `select`. */
  readonly from: string | { readonly subquery: string };
  /** Conditions joined with AND; `$timeFilter` is added unless `time` gives another time condition. */
  readonly where?: readonly string[];
  /** `'$timeFilter'` (the default), or a fixed window such as `time > now() - 30d`. */
  readonly time?: string;
  /** `GROUP BY time(...)`: `$__interval` by default for aggregates; `false` for none. */
  readonly interval?: string | false;
  /** Tags to group by: one series (or table row) per tag set. */
  readonly by?: readonly string[];
  readonly fill?: 'null' | 'none' | 'previous' | '0';
  /** The newest points only: `ORDER BY time DESC LIMIT n`, for tables of raw events. */
  readonly newest?: number;
}

/** A SELECT statement. */
export function select(o: SelectOptions): string {
  const from = typeof o.from === 'string' ? ident(o.from) : `(${o.from.subquery})`;
  const where = [o.time ?? '$timeFilter', ...(o.where ?? [])].join(' AND ');
  const interval = o.interval === undefined ? '$__interval' : o.interval;
  const groups = [...(interval === false ? [] : [`time(${interval})`]), ...(o.by ?? []).map(ident)];
  const groupBy = groups.length > 0 ? ` GROUP BY ${groups.join(', ')}` : '';
  const fill = o.fill !== undefined ? ` fill(${o.fill})` : interval !== false ? ' fill(null)' : '';
  const newest = o.newest !== undefined ? ` ORDER BY time DESC LIMIT ${o.newest}` : '';
  return `SELECT ${o.select.join(', ')} FROM ${from} WHERE ${where}${groupBy}${fill}${newest}`;
}

/** `SHOW TAG VALUES` for a query variable, from some measurements (names, or a regex such as
 * `/^$kind$/`; all when empty) and narrowed by conditions. */
export function showTagValues(
  key: string,
  from: readonly string[] | { readonly regex: string } = [],
  where: readonly string[] = [],
): string {
  const source =
    'regex' in from ? ` FROM ${from.regex}` : from.length > 0 ? ` FROM ${from.map(ident).join(', ')}` : '';
  const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return `SHOW TAG VALUES${source} WITH KEY = ${ident(key)}${filter}`;
}

/** `"field" = true`: a boolean field (or a subquery's column) that is true. */
export function isTrue(key: string): string {
  return `${ident(key)} = true`;
}

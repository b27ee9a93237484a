// Grafana's interpolation of an InfluxQL raw query, as its InfluxDB data source does it before the query
// reaches InfluxDB, so the dashboards' queries can be run here without Grafana:
// - template variables `$var`, `${var}`, `${var:format}`, `[[var]]`, `[[var:format]]` (Grafana's
//   templateSrv variable syntax), each value formatted the way the InfluxDB data source's
//   `interpolateQueryExpr` does: a number as it is; a multi-value variable regex-escaped, several values
//   as the group `(a|b)`; any other variable regex-escaped only where the query uses `$var` inside a regex
//   literal after `=~` or `!~`, and raw elsewhere. "All" stands for every option, unless the variable
//   has a custom `allValue`, which Grafana inserts as it is (itself interpolated, never escaped);
// - `$timeFilter`: `time >= <from>ms and time <= <to>ms` (the data source's getTimeFilter for an
//   absolute range);
// - `$__interval`, `$interval` (its old name) and `$__interval_ms`: @grafana/data rangeutil's
//   calculateInterval — (to − from) / maxDataPoints rounded by roundInterval's ladder, never under the
//   minimum interval (the panel's `interval`, else the data source's `timeInterval`), written by
//   secondsToHms. Grafana takes maxDataPoints from the panel, or else the panel's width in pixels; with
//   no browser here the rule is the panel's `maxDataPoints`, else DEFAULT_MAX_DATA_POINTS;
// - `$__range` (`<s>s`), `$__range_s`, `$__range_ms`, `$__from`, `$__to` (epoch ms).
// A reference to a variable that is neither built in nor given throws MACRO_ERR_UNKNOWN_VARIABLE: Grafana
// would leave the text alone and InfluxDB answer with an error or nothing, so a typo fails loudly here.

/** Grafana's value of "All" in a variable's selection. */
export const ALL = '$__all';

/** What stands for a panel's width in pixels when it sets no maxDataPoints: a half-width panel on a
 * 1920-pixel screen is about 900 pixels wide. */
export const DEFAULT_MAX_DATA_POINTS = 1000;

export const MACRO_ERRORS = {
  MACRO_ERR_UNKNOWN_VARIABLE: 'the query names a variable that is neither built in nor defined',
  MACRO_ERR_FORMAT: 'unknown variable format in ${var:format}',
  MACRO_ERR_ALL: '"All" is selected but the variable has no options and no allValue',
  MACRO_ERR_INTERVAL: 'an interval that is not a Grafana interval (e.g. 10s, 1m, 500ms)',
} as const;
export type MacroErrorCode = keyof typeof MACRO_ERRORS;

export class MacroError extends Error {
  readonly code: MacroErrorCode;
  constructor(code: MacroErrorCode, message: string) {
    super(message);
    this.name = 'MacroError';
    this.code = code;
  }
}

export interface TemplateVariable {
  readonly name: string;
  /** One value, several (a multi-value selection), or ALL. */
  readonly current: string | readonly string[];
  readonly multi?: boolean;
  readonly includeAll?: boolean;
  /** Used in place of every option when "All" is selected; null or '' means unset, as in Grafana. */
  readonly allValue?: string | null;
  /** The variable's options without "All": what "All" stands for when no allValue is set. */
  readonly options?: readonly string[];
}

export interface TimeRange {
  /** Epoch ms. */
  readonly from: number;
  readonly to: number;
}

export interface MacroContext {
  readonly range: TimeRange;
  readonly variables?: readonly TemplateVariable[];
  /** The panel's maxDataPoints; DEFAULT_MAX_DATA_POINTS when unset. */
  readonly maxDataPoints?: number;
  /** The panel's `interval`, else the data source's `timeInterval` (e.g. `10s`); 1 ms when unset. */
  readonly minInterval?: string;
}

// A regex literal after =~ or !~ (with an optional character class), as the data source finds them.
const REGEX_LITERAL = /[=!]~\s*\/((?:\\.|\[(?:\\.|[^\]\\\r\n])*\]|[^/\\\r\n[])+)\//g;
// Grafana's templateSrv syntax: $name | [[name]] [[name:format]] | ${name} ${name:format}.
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g;
// The characters @grafana/data's escapeRegex escapes; `/` too, as it ends an InfluxQL regex literal.
const REGEX_SPECIAL = /[\\^$*+?.()|[\]{}/]/g;

export function escapeRegex(value: string): string {
  return value.replace(REGEX_SPECIAL, '\\$&');
}

/** Interpolates `query` as Grafana's InfluxDB data source would send it. */
export function expandQuery(query: string, ctx: MacroContext): string {
  const builtins = builtinValues(ctx);
  const variables = new Map((ctx.variables ?? []).map((v) => [v.name, v]));
  const replace = (text: string): string =>
    text.replace(VARIABLE, (match, p1?: string, p2?: string, f2?: string, p3?: string, f3?: string) => {
      const name = (p1 ?? p2 ?? p3)!;
      const format = f2 ?? f3;
      const builtin = builtins.get(name);
      if (builtin !== undefined) return format === undefined ? builtin : applyFormat(builtin, format);
      const variable = variables.get(name);
      if (variable === undefined) {
        throw new MacroError('MACRO_ERR_UNKNOWN_VARIABLE', `unknown variable ${match} in: ${query}`);
      }
      return formatVariable(variable, format, query, replace);
    });
  return replace(query);
}

function builtinValues(ctx: MacroContext): Map<string, string> {
  const { from, to } = ctx.range;
  const { interval, intervalMs } = calculateInterval(
    ctx.range,
    ctx.maxDataPoints ?? DEFAULT_MAX_DATA_POINTS,
    ctx.minInterval,
  );
  const rangeMs = to - from;
  const rangeS = Math.round(rangeMs / 1000);
  return new Map([
    ['timeFilter', `time >= ${from}ms and time <= ${to}ms`],
    ['__interval', interval],
    ['interval', interval],
    ['__interval_ms', String(intervalMs)],
    ['__range', `${rangeS}s`],
    ['__range_s', String(rangeS)],
    ['__range_ms', String(rangeMs)],
    ['__from', String(from)],
    ['__to', String(to)],
  ]);
}

function formatVariable(
  variable: TemplateVariable,
  format: string | undefined,
  query: string,
  replace: (text: string) => string,
): string {
  const { current } = variable;
  const isAll = current === ALL || (Array.isArray(current) && current.includes(ALL));
  if (isAll && variable.allValue) return replace(variable.allValue);
  let value: string | readonly string[] = current;
  if (isAll) {
    if (!variable.options?.length) {
      throw new MacroError('MACRO_ERR_ALL', `variable ${variable.name}: "All" selected, but no options`);
    }
    value = variable.options;
  }
  if (format !== undefined) return applyFormat(value, format);
  return influxFormat(value, variable, query);
}

/** The InfluxDB data source's default formatting (interpolateQueryExpr). */
function influxFormat(value: string | readonly string[], variable: TemplateVariable, query: string): string {
  if (typeof value === 'string' && !Number.isNaN(parseFloat(value))) return value;
  const group = (values: readonly string[]) => `(${values.map(escapeRegex).join('|')})`;
  if (variable.multi) return typeof value === 'string' ? escapeRegex(value) : group(value);
  if (!isUsedInRegex(query, variable.name)) return typeof value === 'string' ? value : value.join(',');
  return typeof value === 'string' ? escapeRegex(value) : group(value);
}

/** Names of the variables a query refers to, built-ins included, in any of the three spellings. */
export function referencedVariables(query: string): Set<string> {
  return new Set([...query.matchAll(VARIABLE)].map((m) => (m[1] ?? m[2] ?? m[4])!));
}

/** Whether `$name` appears inside a regex literal after =~ or !~ (the data source's test). */
export function isUsedInRegex(query: string, name: string): boolean {
  for (const m of query.matchAll(REGEX_LITERAL)) {
    if (m[1]!.includes(`$${name}`)) return true;
  }
  return false;
}

/** Grafana's named formats (`${var:regex}`) that make sense in InfluxQL. */
function applyFormat(value: string | readonly string[], format: string): string {
  const values = typeof value === 'string' ? [value] : value;
  switch (format) {
    case 'raw':
    case 'text':
    case 'csv':
      return values.join(',');
    case 'regex':
      return values.length === 1 ? escapeRegex(values[0]!) : `(${values.map(escapeRegex).join('|')})`;
    case 'pipe':
      return values.join('|');
    case 'glob':
      return values.length === 1 ? values[0]! : `{${values.join(',')}}`;
    case 'singlequote':
      return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    case 'doublequote':
      return values.map((v) => `"${v.replace(/"/g, '\\"')}"`).join(',');
    case 'sqlstring':
      return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');
    case 'json':
      return JSON.stringify(typeof value === 'string' ? value : values);
    default:
      throw new MacroError('MACRO_ERR_FORMAT', `unknown variable format "${format}"`);
  }
}

// roundInterval's ladder (@grafana/data, rangeutil): below the first number, the second.
const INTERVAL_LADDER: ReadonlyArray<readonly [number, number]> = [
  [10, 1],
  [15, 10],
  [35, 20],
  [75, 50],
  [150, 100],
  [350, 200],
  [750, 500],
  [1_500, 1_000],
  [3_500, 2_000],
  [7_500, 5_000],
  [12_500, 10_000],
  [17_500, 15_000],
  [25_000, 20_000],
  [45_000, 30_000],
  [90_000, 60_000],
  [210_000, 120_000],
  [450_000, 300_000],
  [750_000, 600_000],
  [1_050_000, 900_000],
  [1_500_000, 1_200_000],
  [2_700_000, 1_800_000],
  [5_400_000, 3_600_000],
  [9_000_000, 7_200_000],
  [16_200_000, 10_800_000],
  [32_400_000, 21_600_000],
  [86_400_000, 43_200_000],
  [604_800_000, 86_400_000],
  [1_814_400_000, 604_800_000],
  [3_628_800_000, 2_592_000_000],
];
const YEAR_MS = 31_536_000_000;

/** A "nice" interval near `ms`. */
export function roundInterval(ms: number): number {
  return INTERVAL_LADDER.find(([below]) => ms < below)?.[1] ?? YEAR_MS;
}

/** The largest whole unit only, as Grafana writes intervals: 90 s is `1m`, 500 ms is `500ms`. */
export function secondsToHms(seconds: number): string {
  const units: ReadonlyArray<readonly [string, number]> = [
    ['y', 31_536_000],
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  let rest = seconds;
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n) return `${n}${unit}`;
    rest %= size;
  }
  const ms = Math.floor(seconds * 1000);
  return ms ? `${ms}ms` : 'less than a millisecond';
}

const INTERVAL_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_592_000_000,
  y: YEAR_MS,
};

/** `10s`, `1m`, `500ms`; a bare number is seconds (rangeutil's describeInterval). */
export function intervalToMs(text: string): number {
  const m = /^(\d+)(ms|[smhdwMy])?$/.exec(text.trim().replace(/^>/, ''));
  if (!m) throw new MacroError('MACRO_ERR_INTERVAL', `not an interval: "${text}"`);
  return Number(m[1]) * INTERVAL_UNITS_MS[m[2] ?? 's']!;
}

/** rangeutil's calculateInterval. */
export function calculateInterval(
  range: TimeRange,
  maxDataPoints: number,
  minInterval?: string,
): { interval: string; intervalMs: number } {
  const lowLimitMs = minInterval ? intervalToMs(minInterval) : 1;
  const intervalMs = Math.max(lowLimitMs, roundInterval((range.to - range.from) / maxDataPoints));
  return { interval: secondsToHms(intervalMs / 1000), intervalMs };
}

// The dashboards' query runner: for a Grafana dashboard's JSON, every query — template variables in
// order, panel targets, annotations — expanded with Grafana's macros (grafana-macros.ts) and run against an
// InfluxDB. Each must answer without error, with at least one series holding a non-null value, and with
// the columns `time` plus the aliases of its SELECT list (influxql-parts.ts); an annotation's text, tags and
// title columns must be among them.
//
// Each query runs with every variable at "All", and, when it uses variables with a choice (multi or
// "All"), once more with one value of each: for each such variable in turn, the first value for which the
// panel shows data (a rain panel has none for a river gauge), so the last query run has one district and
// one device. Every value tried must still run without error and with the right columns. A panel that
// sets `noValue` declares "no data" a valid display (a count of silent devices, when none is silent): for
// it, an empty answer passes.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { errorText } from '../../errors/index.ts';
import type { Series } from '../../influx/index.ts';
import { MEASUREMENTS } from '../../measurements/index.ts';
import {
  ALL,
  expandQuery,
  intervalToMs,
  referencedVariables,
  type TemplateVariable,
  type TimeRange,
} from './grafana-macros.ts';
import { DASHBOARD_DIR, DATASOURCE } from '../../dashboards/index.ts';
import { queryParts } from './influxql-parts.ts';

/** The dashboards' folder: their provisioning files are read from it. */
export const DASHBOARDS_DIR = path.resolve(import.meta.dirname, '..', '..', 'dashboards');
const DATASOURCE_UID = DATASOURCE.uid;
export const HOUR_MS = 3_600_000;
/** Measurements the platform writes in its own time: about itself on timers (platform/health-points.ts), and
 * the notifications of the history's alerts once their groups have waited (notify/notifier.ts). */
export const TIMED_MEASUREMENTS = [
  MEASUREMENTS.platform,
  MEASUREMENTS.rejections,
  MEASUREMENTS.device_status,
  MEASUREMENTS.notifications,
];

// ---- The dashboard model, as far as queries go (Grafana's JSON model, schemaVersion 39+) ----

const Ref = z.looseObject({ type: z.string().optional(), uid: z.string().optional() });
const Target = z.looseObject({
  refId: z.string(),
  datasource: Ref.nullish(),
  rawQuery: z.boolean().optional(),
  query: z.string().optional(),
  resultFormat: z.string().optional(),
  hide: z.boolean().optional(),
});
interface Panel {
  readonly type: string;
  readonly title?: string | undefined;
  readonly datasource?: z.infer<typeof Ref> | null | undefined;
  readonly targets?: z.infer<typeof Target>[] | undefined;
  readonly panels?: Panel[] | undefined;
  readonly maxDataPoints?: number | undefined;
  readonly interval?: string | undefined;
  readonly timeFrom?: string | undefined;
  readonly timeShift?: string | undefined;
  readonly fieldConfig?: { readonly defaults?: { readonly noValue?: string | undefined } } | undefined;
}
const Panel: z.ZodType<Panel> = z.looseObject({
  type: z.string(),
  title: z.string().optional(),
  datasource: Ref.nullish(),
  targets: z.array(Target).optional(),
  panels: z.lazy(() => z.array(Panel)).optional(),
  maxDataPoints: z.number().optional(),
  interval: z.string().optional(),
  timeFrom: z.string().optional(),
  timeShift: z.string().optional(),
  fieldConfig: z
    .looseObject({ defaults: z.looseObject({ noValue: z.string().optional() }).optional() })
    .optional(),
});
const Variable = z.looseObject({
  type: z.string(),
  name: z.string(),
  query: z.union([z.string(), z.looseObject({ query: z.string() })]).optional(),
  multi: z.boolean().optional(),
  includeAll: z.boolean().optional(),
  allValue: z.string().nullish(),
  regex: z.string().optional(),
  current: z.looseObject({ value: z.union([z.string(), z.array(z.string())]).optional() }).optional(),
});
type Variable = z.infer<typeof Variable>;
const Columns = {
  textColumn: z.string().optional(),
  tagsColumn: z.string().optional(),
  titleColumn: z.string().optional(),
};
const Annotation = z.looseObject({
  name: z.string().default(''),
  builtIn: z.number().optional(),
  datasource: Ref.nullish(),
  query: z.string().optional(),
  ...Columns,
  target: z.looseObject({ query: z.string().optional(), ...Columns }).optional(),
});
const Dashboard = z.looseObject({
  title: z.string(),
  panels: z.array(Panel).default([]),
  templating: z.looseObject({ list: z.array(Variable).default([]) }).default({ list: [] }),
  annotations: z.looseObject({ list: z.array(Annotation).default([]) }).default({ list: [] }),
});
type Dashboard = z.infer<typeof Dashboard>;

// ---- What a dashboard asks of InfluxDB ----

interface QueryCase {
  /** `panel title / refId`, or `annotation name`. */
  readonly name: string;
  readonly query: string;
  /** Problems found without running it: another data source, a builder query. */
  readonly invalid: readonly string[];
  readonly maxDataPoints?: number | undefined;
  readonly interval?: string | undefined;
  /** The panel's own relative time (`24h`) and shift back (`1d`), as Grafana applies them. */
  readonly timeFrom?: string | undefined;
  readonly timeShift?: string | undefined;
  readonly mayBeEmpty: boolean;
  /** Columns Grafana reads by name (an annotation's text, tags and title columns). */
  readonly requiredColumns: readonly string[];
}

export function panelCases(panels: readonly Panel[], out: QueryCase[] = []): QueryCase[] {
  for (const panel of panels) {
    panelCases(panel.panels ?? [], out);
    for (const target of panel.targets ?? []) {
      if (target.hide) continue;
      const uid = (target.datasource ?? panel.datasource)?.uid;
      const invalid = [
        ...(uid === DATASOURCE_UID ? [] : [`data source ${uid}, not ${DATASOURCE_UID}`]),
        ...(target.rawQuery === true && target.query ? [] : ['not a raw InfluxQL query']),
      ];
      out.push({
        name: `${panel.title ?? panel.type} / ${target.refId}`,
        query: target.query ?? '',
        invalid,
        maxDataPoints: panel.maxDataPoints,
        interval: panel.interval,
        timeFrom: panel.timeFrom,
        timeShift: panel.timeShift,
        mayBeEmpty: panel.fieldConfig?.defaults?.noValue !== undefined,
        requiredColumns: [],
      });
    }
  }
  return out;
}

export function annotationCases(list: Dashboard['annotations']['list']): QueryCase[] {
  const influx = list.filter((a) => a.builtIn !== 1 && a.datasource?.uid === DATASOURCE_UID);
  return influx.flatMap((a) => {
    const column = (key: keyof typeof Columns) => a[key] ?? a.target?.[key];
    const tags = (column('tagsColumn') ?? '').replace(/\s/g, '').split(',').filter(Boolean);
    const required = [column('textColumn'), column('titleColumn'), ...tags].filter((c) => c !== undefined);
    const queries = [...new Set([a.target?.query, a.query].filter((q) => q !== undefined))];
    return queries.map((query) => ({
      name: `annotation ${a.name}`,
      query,
      invalid: required.length === 0 ? ['no textColumn'] : [],
      mayBeEmpty: false,
      requiredColumns: required,
    }));
  });
}

// ---- Running queries in a variable context ----

export interface Env {
  readonly run: (q: string) => Promise<Series[][]>;
  readonly range: TimeRange;
  /** The data source's `timeInterval` (dashboards/provisioning). */
  readonly minInterval: string;
}

/** One selection of every variable, in the dashboard's order. */
type Selection = readonly TemplateVariable[];

export interface Contexts {
  readonly variables: readonly Variable[];
  /** Every variable at "All" (or its first values, when it offers no "All"). */
  readonly all: Selection;
  readonly variableProblems: ReadonlyMap<string, readonly string[]>;
  /** A variable's options given the variables before it (cached by the query that finds them). */
  readonly options: (v: Variable, before: Selection) => Promise<string[]>;
}

const message = errorText;

const queryText = (v: Variable) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? ''));

/** A variable's options, as Grafana's InfluxDB data source and variable types find them. */
async function variableOptions(v: Variable, selection: Selection, env: Env): Promise<string[]> {
  const text = queryText(v);
  if (v.type === 'constant' || v.type === 'textbox') return [text];
  // Custom and interval values are comma-separated; a custom `text : value` pair gives its value.
  if (v.type === 'custom' || v.type === 'interval') {
    return text
      .split(',')
      .map((s) => s.split(' : ').at(-1)!.trim())
      .filter((s) => s !== '' && s !== 'auto');
  }
  if (v.type !== 'query') throw new Error(`variable type ${v.type} is not supported here`);
  const [series = []] = await env.run(expandQuery(text, { range: env.range, variables: selection }));
  // The response parser takes the second column (SHOW TAG VALUES: key, value), else the first.
  const valueFirst = /show field keys|show retention policies/i.test(text);
  let values = series.flatMap((s) => s.values.map((row) => String(valueFirst ? row[0] : (row[1] ?? row[0]))));
  if (v.regex) {
    const m = /^\/(.*)\/([gimsuy]*)$/.exec(v.regex);
    const re = new RegExp(m?.[1] ?? v.regex, m?.[2]?.replace('g', ''));
    values = values.flatMap((s) => {
      const hit = re.exec(s);
      return hit ? [hit[1] ?? s] : [];
    });
  }
  return [...new Set(values)];
}

const isChoosable = (v: Variable) => (v.type === 'query' || v.type === 'custom') && (v.multi || v.includeAll);

function selected(v: Variable, options: string[], current: TemplateVariable['current']): TemplateVariable {
  return { name: v.name, current, multi: v.multi, includeAll: v.includeAll, allValue: v.allValue, options };
}

/** "All" where offered; else the first few values of a multi-value variable; else its current value. */
function allSelection(v: Variable, options: string[]): TemplateVariable {
  if (v.includeAll) return selected(v, options, ALL);
  if (v.multi) return selected(v, options, options.slice(0, 3));
  const current = v.current?.value;
  return selected(v, options, typeof current === 'string' && current !== '' ? current : (options[0] ?? ''));
}

export async function resolveContexts(variables: readonly Variable[], env: Env): Promise<Contexts> {
  const cache = new Map<string, Promise<string[]>>();
  const options = async (v: Variable, before: Selection): Promise<string[]> => {
    const key = `${v.name}\u0000${v.type === 'query' ? expandQuery(queryText(v), { range: env.range, variables: before }) : ''}`;
    let found = cache.get(key);
    if (found === undefined) cache.set(key, (found = variableOptions(v, before, env)));
    return found;
  };
  const problems = new Map<string, string[]>();
  const all: TemplateVariable[] = [];
  for (const v of variables) {
    let found: string[] = [];
    try {
      found = await options(v, all);
      if (found.length === 0 && !(v.includeAll && v.allValue)) problems.set(v.name, ['no values']);
    } catch (err) {
      problems.set(v.name, [message(err)]);
    }
    all.push(allSelection(v, found));
  }
  return { variables, all, variableProblems: problems, options };
}

/** Every variable in order: one value where `fixed` gives it, the "All" selection elsewhere. */
async function selectionWith(contexts: Contexts, fixed: ReadonlyMap<string, string>): Promise<Selection> {
  const selection: TemplateVariable[] = [];
  for (const v of contexts.variables) {
    const options = await contexts.options(v, selection);
    const value = fixed.get(v.name);
    selection.push(
      value === undefined ? allSelection(v, options) : selected(v, options, v.multi ? [value] : value),
    );
  }
  return selection;
}

interface Outcome {
  readonly problems: string[];
  readonly hasData: boolean;
}

function rangeOf(c: QueryCase, env: Env): TimeRange {
  const ms = (text: string) => intervalToMs(text.replace(/^now-/, ''));
  const shift = c.timeShift === undefined ? 0 : ms(c.timeShift);
  const to = env.range.to - shift;
  return { from: c.timeFrom === undefined ? env.range.from - shift : to - ms(c.timeFrom), to };
}

function expandIn(c: QueryCase, selection: Selection, env: Env): string {
  return expandQuery(c.query, {
    range: rangeOf(c, env),
    variables: selection,
    maxDataPoints: c.maxDataPoints,
    minInterval: c.interval ?? env.minInterval,
  });
}

/** Runs the expanded query; checks the answer's shape. */
async function runExpanded(c: QueryCase, expanded: string, env: Env, expected: string[]): Promise<Outcome> {
  let results: Series[][];
  try {
    results = await env.run(expanded);
  } catch (err) {
    return { problems: [`${message(err)} — in: ${expanded}`], hasData: false };
  }
  if (results.length !== 1) return { problems: [`${results.length} statements`], hasData: false };
  const series = results[0]!;
  const problems: string[] = [];
  for (const s of series) {
    if (expected.length > 0 && JSON.stringify(s.columns) !== JSON.stringify(expected))
      problems.push(`columns ${JSON.stringify(s.columns)}, expected ${JSON.stringify(expected)}`);
    const missing = c.requiredColumns.filter((col) => !s.columns.includes(col));
    if (missing.length > 0) problems.push(`no column ${missing.join(', ')} for Grafana to read`);
  }
  const hasData = series.some((s) =>
    s.values.some((row) => row.some((value, i) => s.columns[i] !== 'time' && value !== null)),
  );
  return { problems: [...new Set(problems)], hasData };
}

/** Expands and runs the query in a selection; `expanded` is undefined when expansion failed. */
async function runIn(c: QueryCase, selection: Selection, env: Env, expected: string[]) {
  let expanded: string;
  try {
    expanded = expandIn(c, selection, env);
  } catch (err) {
    return { expanded: undefined, problems: [message(err)], hasData: false };
  }
  return { expanded, ...(await runExpanded(c, expanded, env, expected)) };
}

const describeFixed = (fixed: ReadonlyMap<string, string>) =>
  [...fixed].map(([name, value]) => `${name}=${value}`).join(', ');

/** Every problem of one query: none means the panel works. */
export async function checkCase(c: QueryCase, contexts: Contexts, env: Env): Promise<string[]> {
  if (c.invalid.length > 0) return [...c.invalid];
  let expected: string[];
  try {
    const parts = queryParts(c.query);
    if (parts.unaliased.length > 0) return [`columns without an alias: ${parts.unaliased.join('; ')}`];
    expected = ['time', ...parts.aliases];
  } catch (err) {
    return [message(err)];
  }
  const all = await runIn(c, contexts.all, env, expected);
  const problems = all.problems.map((p) => `All: ${p}`);
  if (!all.hasData && !c.mayBeEmpty && all.problems.length === 0)
    problems.push(`All: no series with a non-null value — in: ${all.expanded}`);
  if (all.expanded === undefined) return problems;
  return [...problems, ...(await checkConcrete(c, contexts, env, expected))];
}

/**
 * One value for each variable with a choice that the query uses, in the variables' order: the first
 * value for which the panel shows data, the later variables still at "All" (their options follow the
 * values already chosen). Filters on variables narrow the answer, so if some combination shows data,
 * this finds one; every value tried must run without error and with the right columns.
 */
async function checkConcrete(c: QueryCase, contexts: Contexts, env: Env, expected: string[]) {
  const uses = referencedVariables(c.query);
  const problems: string[] = [];
  const fixed = new Map<string, string>();
  const tried = new Set<string>();
  for (const v of contexts.variables.filter((x) => isChoosable(x) && uses.has(x.name))) {
    let found = false;
    try {
      const options = (await selectionWith(contexts, fixed)).find((x) => x.name === v.name)?.options ?? [];
      for (const value of options) {
        const candidate = new Map([...fixed, [v.name, value]]);
        const expanded = expandIn(c, await selectionWith(contexts, candidate), env);
        if (tried.has(expanded)) continue;
        tried.add(expanded);
        const outcome = await runExpanded(c, expanded, env, expected);
        problems.push(...outcome.problems.map((p) => `${describeFixed(candidate)}: ${p}`));
        if (!outcome.hasData) continue;
        fixed.set(v.name, value);
        found = true;
        break;
      }
    } catch (err) {
      problems.push(`${describeFixed(fixed)}: ${message(err)}`);
    }
    if (!found) {
      const context = fixed.size > 0 ? ` with ${describeFixed(fixed)}` : '';
      if (!c.mayBeEmpty) problems.push(`no single value of ${v.name} shows data${context}`);
      break;
    }
  }
  return problems;
}

// ---- The files ----

export function readDashboard(file: string): Dashboard {
  return Dashboard.parse(JSON.parse(readFileSync(file, 'utf8')));
}

export function dashboardFiles(): string[] {
  try {
    return readdirSync(DASHBOARD_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => path.join(DASHBOARD_DIR, f));
  } catch {
    return [];
  }
}

/** The provisioned data source's `timeInterval`: Grafana's floor under `$__interval`. */
export function dataSourceMinInterval(): string {
  const file = parse(
    readFileSync(path.join(DASHBOARDS_DIR, 'provisioning/datasources/influxdb.yaml'), 'utf8'),
  ) as unknown;
  const ds = z
    .object({
      datasources: z.array(
        z.looseObject({ uid: z.string(), jsonData: z.looseObject({ timeInterval: z.string() }) }),
      ),
    })
    .parse(file)
    .datasources.find((d) => d.uid === DATASOURCE_UID);
  if (!ds) throw new Error(`no data source ${DATASOURCE_UID} provisioned`);
  return ds.jsonData.timeInterval;
}

export interface DashboardRun {
  readonly variables: ReadonlyMap<string, readonly string[]>;
  readonly cases: ReadonlyMap<string, readonly string[]>;
}

/** Runs every query of a dashboard; the problems by variable and by case name. */
export async function runDashboard(d: Dashboard, env: Env): Promise<DashboardRun> {
  const contexts = await resolveContexts(d.templating.list, env);
  const cases = new Map<string, readonly string[]>();
  for (const c of [...panelCases(d.panels), ...annotationCases(d.annotations.list)]) {
    cases.set(c.name, [...(cases.get(c.name) ?? []), ...(await checkCase(c, contexts, env))]);
  }
  return { variables: contexts.variableProblems, cases };
}

/**
 * What one panel's queries answer, by refId, with the variables in `fixed` set to one value each and the
 * others at "All": what a repeated panel shows for one street or station.
 */
export async function panelAnswers(
  d: Dashboard,
  title: string,
  fixed: Readonly<Record<string, string>>,
  env: Env,
): Promise<Map<string, Series[]>> {
  const contexts = await resolveContexts(d.templating.list, env);
  const selection = await selectionWith(contexts, new Map(Object.entries(fixed)));
  const answers = new Map<string, Series[]>();
  for (const c of panelCases(d.panels).filter((x) => x.name.startsWith(`${title} / `))) {
    const [series = []] = await env.run(expandIn(c, selection, env));
    answers.set(c.name.slice(title.length + 3), series);
  }
  if (answers.size === 0) throw new Error(`no panel ${title} in ${d.title}`);
  return answers;
}

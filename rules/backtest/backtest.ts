// A rule file run over stored history: the transitions it would have produced between `from` and `to`.
// A fresh rule core (engine/core.ts, the one the live engine runs; never the live one) is fed the stored
// readings of the devices the rules select, in time order, with time passing every minute between them.
// Reading starts a warm-up before `from` (the longest window, `within` or `for` of the rules) so a 24-hour
// mean or a sustain is right from `from` on; only transitions inside [from, to) are reported. Readings
// are read per device in pages (InfluxQL LIMIT) and merged, so a month of a large fleet never sits in
// memory whole. Nothing is written anywhere: the backtest has no store and no sink.
import { fieldNames, type Kind, type Reading } from '../../devices/index.ts';
import { selectRaw, type InfluxClient } from '../../influx/index.ts';
import { createRuleCore, type Firing } from '../engine/core.ts';
import type { RuleDevice } from '../engine/rule-device.ts';
import { RulesError } from '../errors.ts';
import { selects, whyNotApplicable } from '../evaluators/select.ts';
import { parseRuleFile } from '../loader.ts';
import type { Rule } from '../schema.ts';
import type { BacktestInput, BacktestReport, BacktestTransition } from './types.ts';

export interface BacktestDeps {
  /** Bound to the database to read (InfluxClientOptions.db). */
  readonly influx: Pick<InfluxClient, 'query'>;
  /** Read from this retention policy; the database's default when omitted. */
  readonly retentionPolicy?: string | undefined;
  /** The registry's active devices: the ones whose history is read. */
  readonly devices: () => readonly RuleDevice[];
  /** Now, ms: the range ends here at the latest, so the future does not look like silence. */
  readonly clock?: () => number;
  /** Rows per query and device; at most this many rows per device are held at once. */
  readonly pageSize?: number;
  /** Transitions listed at most; the summary counts all of them. */
  readonly maxTransitions?: number;
}

/** Time passes in steps of a minute, the resolution of every duration in the Huế rules. */
export const BACKTEST_TICK_MS = 60_000;
export const BACKTEST_MAX_TRANSITIONS = 10_000;
export const BACKTEST_PAGE_SIZE = 1_000;
/** An AQI needs the NowCast's 12 completed hours and the hour in progress (aqi/station.ts). */
const AQI_WARM_UP_MS = 13 * 3_600_000;

/**
 * Runs the rule file over [input.from, input.to) (clamped to now). A file that does not validate is
 * refused with a RulesError carrying the first problem's code (RULES_ERR_YAML, _SCHEMA or _DUPLICATE_ID),
 * every problem in its message and the problems as its `cause`: callers validate first (the API route
 * and the command line do) to show the problems as data.
 */
export async function backtestRules(input: BacktestInput, deps: BacktestDeps): Promise<BacktestReport> {
  const rules = parseOrThrow(input);
  const to = Math.min(input.to, deps.clock?.() ?? Date.now());
  const devices = deps.devices().filter((d) => rules.some((r) => appliesTo(r, d)));
  const readFrom = input.from - warmUpMs(rules);
  const core = createRuleCore(rules);
  for (const d of devices) core.watch(d, readFrom);
  const tally = createTally(rules, devices, input.from, to, deps.maxTransitions ?? BACKTEST_MAX_TRANSITIONS);
  const byId = new Map(devices.map((d) => [d.id, d]));
  let tick = Math.ceil(readFrom / BACKTEST_TICK_MS) * BACKTEST_TICK_MS;
  let readings = 0;
  for await (const r of readingsInOrder(deps, devices, readFrom, to)) {
    for (; tick < r.time; tick += BACKTEST_TICK_MS) tally.add(core.tick(tick));
    const device = byId.get(r.device);
    if (device !== undefined) tally.add(core.reading(r, device));
    if (r.time >= input.from) readings++;
  }
  for (; tick < to; tick += BACKTEST_TICK_MS) tally.add(core.tick(tick));
  return tally.report(readings);
}

function parseOrThrow(input: BacktestInput): Rule[] {
  const parsed = parseRuleFile(input.source, input.name);
  if (parsed.ok) return parsed.rules;
  const first = parsed.problems[0];
  const lines = parsed.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`);
  throw new RulesError(first?.code ?? 'RULES_ERR_SCHEMA', lines.join('; '), { cause: parsed.problems });
}

const appliesTo = (rule: Rule, d: RuleDevice): boolean =>
  selects(rule.select, d) && whyNotApplicable(rule, { meta: d.meta }) === undefined;

/** The longest span any rule looks back over: its window, `within`, `for` or clear `for`. */
export function warmUpMs(rules: readonly Rule[]): number {
  let longest = 0;
  for (const { condition: c } of rules) {
    const spans = [
      c.type === 'window' ? c.over : 0,
      c.type === 'rate' ? c.within : 0,
      c.type === 'aqi' ? AQI_WARM_UP_MS : 0,
      'for' in c ? (c.for ?? 0) : 0,
      c.type === 'threshold' ? (c.clear?.for ?? 0) : 0,
    ];
    longest = Math.max(longest, ...spans);
  }
  return longest;
}

// ---- the report ----

const COUNTED = { raise: 'raised', escalate: 'escalated', clear: 'cleared' } as const;

interface Tally {
  add(firings: readonly Firing[]): void;
  report(readings: number): BacktestReport;
}

function createTally(
  rules: readonly Rule[],
  devices: readonly RuleDevice[],
  from: number,
  to: number,
  cap: number,
): Tally {
  const counts = new Map(rules.map((r) => [r.id, { raised: 0, escalated: 0, cleared: 0 }]));
  /** Per rule, the devices whose alert is open now, warm-up included. */
  const open = new Map(rules.map((r) => [r.id, new Set<string>()]));
  const transitions: BacktestTransition[] = [];
  let truncated = false;
  return {
    add(firings) {
      for (const f of firings) {
        if (f.transition.type === 'clear') open.get(f.rule.id)?.delete(f.device.id);
        else open.get(f.rule.id)?.add(f.device.id);
        const at = f.transition.at;
        if (at < from || at >= to) continue;
        const c = counts.get(f.rule.id);
        if (c !== undefined) c[COUNTED[f.transition.type]]++;
        if (transitions.length < cap) transitions.push(transitionOf(f));
        else truncated = true;
      }
    },
    report: (readings) => ({
      from: new Date(from).toISOString(),
      to: new Date(Math.max(from, to)).toISOString(),
      readings,
      devices: devices.length,
      rules: rules.map((r) => ({
        rule: r.id,
        title: r.title,
        devices: devices.filter((d) => appliesTo(r, d)).length,
        ...(counts.get(r.id) ?? { raised: 0, escalated: 0, cleared: 0 }),
        openAtEnd: open.get(r.id)?.size ?? 0,
      })),
      transitions,
      truncated,
    }),
  };
}

/** As the live engine records it (engine.ts): an expression has no measured value or threshold. */
function transitionOf(f: Firing): BacktestTransition {
  const t = f.transition;
  const measured = f.rule.condition.type !== 'expr';
  return {
    rule: f.rule.id,
    device: f.device.id,
    type: t.type,
    at: new Date(t.at).toISOString(),
    severity: t.severity,
    value: measured ? t.value : null,
    threshold: measured ? t.threshold : null,
    level: t.level,
    message: f.message,
  };
}

// ---- history, in time order ----

/** One device's stored readings, a page at a time. */
interface Cursor {
  readonly device: RuleDevice;
  page: Reading[];
  pos: number;
  /** Where the next page starts, and how many rows at exactly that time were already taken. */
  from: number;
  skip: number;
  done: boolean;
}

/** Every device's readings in [from, to), merged by time (ties in device order). */
async function* readingsInOrder(
  deps: BacktestDeps,
  devices: readonly RuleDevice[],
  from: number,
  to: number,
): AsyncGenerator<Reading> {
  if (from >= to) return;
  const pageSize = deps.pageSize ?? BACKTEST_PAGE_SIZE;
  const cursors: Cursor[] = devices.map((device) => ({
    device,
    page: [],
    pos: 0,
    from,
    skip: 0,
    done: false,
  }));
  const fill = async (c: Cursor) => {
    while (c.pos >= c.page.length && !c.done) await nextPage(deps, c, to, pageSize);
    return c.pos < c.page.length;
  };
  const ready: Cursor[] = [];
  for (const c of cursors) if (await fill(c)) ready.push(c);
  const heap = createHeap(ready);
  for (let c = heap.pop(); c !== undefined; c = heap.pop()) {
    yield c.page[c.pos++]!;
    if (await fill(c)) heap.push(c);
  }
}

/**
 * The next page of a device: `time >= from ORDER BY time LIMIT n`, from the last row's time again so
 * rows sharing that time (two series of one device) are not lost, skipping those already taken.
 */
async function nextPage(deps: BacktestDeps, c: Cursor, to: number, pageSize: number): Promise<void> {
  const q = selectRaw({
    measurement: c.device.kind,
    fields: fieldNames(c.device.kind),
    device: c.device.id,
    from: c.from,
    to,
    limit: pageSize,
    ...(deps.retentionPolicy === undefined ? {} : { retentionPolicy: deps.retentionPolicy }),
  });
  const [series = []] = await deps.influx.query(q, { epoch: 'ms' });
  const rows = series.flatMap((s) => s.values.map((row) => ({ columns: s.columns, row })));
  const times = rows.map(({ row }) => (typeof row[0] === 'number' ? row[0] : to));
  const last = times[times.length - 1] ?? to;
  c.page = rows
    .slice(Math.min(c.skip, rows.length))
    .map(({ columns, row }) => readingOf(c.device, columns, row))
    .filter((r) => r !== undefined);
  c.pos = 0;
  c.done = rows.length < pageSize;
  // A page of one instant only (more series than a page) cannot move on from it: step past that instant.
  c.skip = last === c.from ? 0 : times.filter((t) => t === last).length;
  c.from = last === c.from ? last + 1 : last;
}

function readingOf(
  { kind, id: device }: { kind: Kind; id: string },
  columns: readonly string[],
  row: readonly (string | number | boolean | null)[],
): Reading | undefined {
  const time = row[0];
  if (typeof time !== 'number') return undefined;
  const fields: Record<string, number | boolean> = {};
  columns.forEach((name, i) => {
    const v = row[i];
    if (i > 0 && (typeof v === 'number' || typeof v === 'boolean')) fields[name] = v;
  });
  return Object.keys(fields).length === 0 ? undefined : { kind, device, time, fields };
}

/** A binary min-heap of cursors by the time of their current reading, then by device order. */
function createHeap(items: Cursor[]) {
  const order = new Map(items.map((c, i) => [c, i]));
  const key = (c: Cursor) => c.page[c.pos]?.time ?? Infinity;
  const less = (a: Cursor, b: Cursor) =>
    key(a) < key(b) || (key(a) === key(b) && (order.get(a) ?? 0) < (order.get(b) ?? 0));
  const h: Cursor[] = [];
  const swap = (i: number, j: number) => ([h[i], h[j]] = [h[j]!, h[i]!]);
  const up = (i: number) => {
    for (let p = (i - 1) >> 1; i > 0 && less(h[i]!, h[p]!); i = p, p = (i - 1) >> 1) swap(i, p);
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const m = l + 1 < h.length && less(h[l + 1]!, h[l]!) ? l + 1 : l;
      if (m >= h.length || !less(h[m]!, h[i]!)) return;
      swap(i, m);
      i = m;
    }
  };
  const push = (c: Cursor) => {
    h.push(c);
    up(h.length - 1);
  };
  items.forEach(push);
  return {
    push,
    pop(): Cursor | undefined {
      const top = h[0];
      const last = h.pop();
      if (h.length > 0 && last !== undefined) {
        h[0] = last;
        down(0);
      }
      return top;
    },
  };
}

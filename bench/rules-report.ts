// The rules engine's account: the platform with its rule set against the same platform with an empty rule
// folder, in the same run — stored/s and CPU per reading with and without rules, the time the engine and
// the garbage collector take per reading, what that would cost at the platform's ceiling, and the alert
// probe's publish-to-alert latency — against the goals.
import type { Row } from './report.ts';

/** The goals the rules engine is held to: alert p99 under 25 ms, under 15 % throughput cost. */
export const RULES_GOALS = { alertP99Ms: 25, costPct: 15 } as const;

/**
 * The platform's CPU per reading at its ceiling: one core busy at 30,000 readings/s (BENCHMARKS.md,
 * "Current results"). Time the rules add to each reading lowers that ceiling by added / (this + added),
 * since the platform's one JavaScript thread is what limits it.
 */
export const CEILING_US_PER_READING = 1e6 / 30_000;

export interface Compared {
  readonly without: number;
  readonly with: number;
}

export interface RulesSummary {
  /** At the run's rate: the cost is what the platform with rules stored less, in %. */
  readonly storedPerSecond: Compared & { readonly costPct: number };
  /** The platform process's CPU per reading stored, µs (fixed costs included, so rate-dependent). */
  readonly cpuUsPerReading: (Compared & { readonly costPct: number }) | undefined;
  /** In the engine's listener, and in garbage collection, µs per reading (bench/rules-timing.ts). */
  readonly engineUs: Compared | undefined;
  readonly gcUs: Compared | undefined;
  /** What the rules add per reading (engine + GC) as a share of the time a reading takes at the
   * ceiling once they are added, %: the estimated fall of the platform's maximum rate. */
  readonly ceilingCostPct: number | undefined;
  readonly alerts:
    | {
        readonly expected: number;
        readonly received: number;
        readonly p50: number | null;
        readonly p99: number | null;
        readonly max: number | null;
      }
    | undefined;
  /** Each goal met or not; undefined when the run could not say (no probe, no alert arrived). */
  readonly met: { readonly alertP99: boolean | undefined; readonly cost: boolean };
}

/** How much more `withRules` costs than `without`, in % of `without` (a larger number is worse). */
export const costPct = (without: number, withRules: number, higherIsBetter: boolean): number =>
  (100 * (higherIsBetter ? without - withRules : withRules - without)) / without;

function compared(without: number | undefined, withRules: number | undefined): Compared | undefined {
  return without === undefined || withRules === undefined ? undefined : { without, with: withRules };
}

export function rulesSummary(withRules: Row, without: Row): RulesSummary {
  const stored = {
    without: without.perSecond,
    with: withRules.perSecond,
    costPct: costPct(without.perSecond, withRules.perSecond, true),
  };
  const cpuPair = compared(without.cpuUsPerReading, withRules.cpuUsPerReading);
  const cpu = cpuPair && { ...cpuPair, costPct: costPct(cpuPair.without, cpuPair.with, false) };
  const engineUs = compared(without.timing?.engineUsPerReading, withRules.timing?.engineUsPerReading);
  const gcUs = compared(without.timing?.gcUsPerReading, withRules.timing?.gcUsPerReading);
  const added = engineUs && gcUs ? engineUs.with - engineUs.without + gcUs.with - gcUs.without : undefined;
  const ceilingCostPct = added === undefined ? undefined : (100 * added) / (CEILING_US_PER_READING + added);
  const probe = withRules.alerts;
  const alerts = probe && {
    expected: probe.expected,
    received: probe.received,
    p50: probe.latency.p50,
    p99: probe.latency.p99,
    max: probe.latency.max,
  };
  const p99 = alerts?.p99;
  return {
    storedPerSecond: stored,
    cpuUsPerReading: cpu,
    engineUs,
    gcUs,
    ceilingCostPct,
    alerts,
    met: {
      // Every expected transition must arrive: a missing alert is worse than a slow one.
      alertP99:
        alerts === undefined || p99 === null || p99 === undefined
          ? undefined
          : p99 < RULES_GOALS.alertP99Ms && alerts.received === alerts.expected,
      cost: Math.max(stored.costPct, ceilingCostPct ?? -Infinity) < RULES_GOALS.costPct,
    },
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${n.toFixed(1)} %`;
const us = (v: number) => `${v.toFixed(1)} µs`;
const added = (c: Compared) => `${c.with >= c.without ? '+' : '−'}${us(Math.abs(c.with - c.without))}`;
const msText = (v: number | null | undefined) =>
  v === null || v === undefined ? '–' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
const verdict = (goal: string, met: boolean | undefined) =>
  `${goal}: ${met === undefined ? 'not measured' : met ? 'met' : 'NOT MET'}`;

function costLines(s: RulesSummary): string[][] {
  const goal = `under ${RULES_GOALS.costPct} %`;
  const { storedPerSecond: stored, cpuUsPerReading: cpu, engineUs, gcUs } = s;
  const out = [
    [
      'stored/s at this rate',
      int(stored.without),
      int(stored.with),
      pct(stored.costPct),
      verdict(goal, stored.costPct < RULES_GOALS.costPct),
    ],
  ];
  if (cpu) out.push(['platform CPU per reading', us(cpu.without), us(cpu.with), pct(cpu.costPct), '']);
  if (engineUs)
    out.push([
      'in the rules engine, per reading (transitions apart)',
      us(engineUs.without),
      us(engineUs.with),
      added(engineUs),
      '',
    ]);
  if (gcUs) out.push(['garbage collection, per reading', us(gcUs.without), us(gcUs.with), added(gcUs), '']);
  if (s.ceilingCostPct !== undefined)
    out.push([
      `throughput cost at the ceiling (${us(CEILING_US_PER_READING)} a reading), estimated`,
      '',
      '',
      pct(s.ceilingCostPct),
      verdict(goal, s.ceilingCostPct < RULES_GOALS.costPct),
    ]);
  return out;
}

/** measure, without rules, with rules, cost, goal. */
function lines(s: RulesSummary): string[][] {
  const a = s.alerts;
  const goal = verdict(`under ${RULES_GOALS.alertP99Ms} ms, none missing`, s.met.alertP99);
  return [
    ...costLines(s),
    ['alert latency p50', '–', msText(a?.p50), '', ''],
    ['alert latency p99', '–', msText(a?.p99), '', goal],
    ['alert latency max', '–', msText(a?.max), '', ''],
    ['alerts arrived', '–', a === undefined ? '–' : `${int(a.received)} of ${int(a.expected)}`, '', ''],
  ];
}

const HEADERS = ['rules engine', 'without rules', 'with rules', 'cost', 'goal'];

export function rulesMarkdown(s: RulesSummary): string {
  const rows = lines(s).map((r) => `| ${r.join(' | ')} |`);
  return [`| ${HEADERS.join(' | ')} |`, '| --- | ---: | ---: | ---: | --- |', ...rows].join('\n');
}

export function rulesPlain(s: RulesSummary): string {
  const table = [HEADERS, ...lines(s)];
  const widths = HEADERS.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const render = (r: readonly string[]) =>
    r
      .map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...lines(s).map(render)].join('\n');
}

// Runs one prepared rule test on a fresh rule core (engine/core.ts, the one the live engine and the
// backtest run): the devices are watched from `start`, the readings and the ticks are merged in time order
// (readings at a time before the tick at that time, as a reading that arrives just before the timer
// fires), and every transition is compared with `expect`, exactly: same count, same order, each field
// the expectation gives. Pure: no I/O, no clock.
import type { Reading } from '../../devices/index.ts';
import { createRuleCore, type Firing } from '../engine/core.ts';
import { differences, formatDiff, type Observed } from './compare.ts';
import type { PreparedTest } from './prepare.ts';

export type RuleTestStatus = 'passed' | 'failed';

export interface RuleTestResult {
  readonly file: string;
  readonly name: string;
  readonly line: number;
  readonly status: RuleTestStatus;
  /** What the rules did, in order. */
  readonly got: readonly Observed[];
  /** Empty when passed; the diff when failed. */
  readonly report: string;
}

export function runRuleTest(test: PreparedTest): RuleTestResult {
  const base = { file: test.file, name: test.name, line: test.line };
  const got = simulate(test).map(observed);
  const passed =
    got.length === test.expect.length && test.expect.every((e, i) => differences(e, got[i]!).length === 0);
  return {
    ...base,
    status: passed ? 'passed' : 'failed',
    got,
    report: passed ? '' : formatDiff(test.expect, got, test.start),
  };
}

/** The firings of the test's readings and ticks, in the order the core produced them. */
export function simulate(test: PreparedTest): Firing[] {
  const core = createRuleCore(test.rules);
  const devices = new Map(test.devices.map((d) => [d.id, d]));
  for (const d of test.devices) core.watch(d, test.start);
  const out: Firing[] = [];
  let next = test.start + test.tickMs;
  const tickUntil = (end: number, inclusive: boolean) => {
    for (; inclusive ? next <= end : next < end; next += test.tickMs) out.push(...core.tick(next));
  };
  for (const r of test.readings) {
    tickUntil(r.time, false);
    out.push(...feed(core, r, devices));
  }
  tickUntil(test.until, true);
  return out;
}

function feed(
  core: ReturnType<typeof createRuleCore>,
  r: Reading,
  devices: ReadonlyMap<string, Firing['device']>,
) {
  const device = devices.get(r.device);
  return device === undefined ? [] : core.reading(r, device);
}

function observed(f: Firing): Observed {
  const t = f.transition;
  return {
    at: t.at,
    rule: f.rule.id,
    device: f.device.id,
    type: t.type,
    severity: t.severity,
    level: t.level,
    value: t.value,
    threshold: t.threshold,
    message: f.message,
  };
}

/** One line per test and the failures' reports, for a terminal. */
export function formatResults(results: readonly RuleTestResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.status === 'passed' ? 'ok  ' : 'FAIL'} ${r.file}:${r.line} ${r.name}`);
    if (r.status === 'failed') lines.push(...r.report.split('\n').map((l) => `       ${l}`));
  }
  return lines.join('\n');
}

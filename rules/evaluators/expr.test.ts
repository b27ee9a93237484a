import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../devices/index.ts';
import { parseRuleFile } from '../loader.ts';
import type { ExprCondition, ThresholdCondition } from '../schema.ts';
import { Rule } from '../rule-file.ts';
import { compileExpr, exprKindIssues } from '../cel.ts';
import { exprInit, exprReading, ExprState } from './expr.ts';
import { thresholdInit, thresholdReading } from './threshold.ts';
import type { EvalContext, EvalRule, Transition } from './types.ts';

const MIN = 60_000;
// A lamp on Lê Lợi by the Perfume River; Vietnam keeps UTC+7 all year.
const HUE = { lat: 16.4637, lon: 107.5909 };
const LAMP: EvalContext = { meta: { street: 'Lê Lợi', rated_w: 150, tolerance_pct: 10 }, location: HUE };
const at = (local: string): number => Date.parse(`${local}+07:00`);

function rule(condition: Record<string, unknown>, kind = 'streetlight'): EvalRule<ExprCondition> {
  const r = Rule.parse({
    id: 'r',
    title: 't',
    severity: 'warning',
    owner: 'HEPCO',
    message: '{{device.name}}',
    select: { kind },
    condition: { type: 'expr', ...condition },
  });
  if (r.condition.type !== 'expr') throw new Error('not an expr rule');
  return { severity: r.severity, condition: r.condition };
}

const reading = (time: number, fields: Reading['fields']): Reading => ({
  kind: 'streetlight',
  device: 'sl-le-loi-01',
  time,
  fields,
});

/** Feeds the readings in order; every transition, and the state after each reading. */
function run(
  r: EvalRule<ExprCondition>,
  readings: readonly Reading[],
  ctx: EvalContext = LAMP,
): { transitions: Transition[]; states: ExprState[] } {
  let state = exprInit();
  const transitions: Transition[] = [];
  const states: ExprState[] = [];
  for (const rd of readings) {
    const step = exprReading(r, state, rd, ctx);
    state = step.state;
    states.push(state);
    if (step.transition) transitions.push(step.transition);
  }
  return { transitions, states };
}

/** One reading a minute from 0, with the power values given. */
const powers = (values: readonly number[]): Reading[] =>
  values.map((w, i) => reading(i * MIN, { lamp_on: true, power_w: w }));

/** Readings over time in runs: each run repeats one value (or a reading without the field) up to five
 * times, `dt` apart, so that sustains complete; a negative `dt` sends readings back in time. */
function timeline<T>(values: fc.Arbitrary<T>): fc.Arbitrary<{ time: number; value: T | undefined }[]> {
  const dt = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 3 * MIN }), weight: 4 },
    { arbitrary: fc.integer({ min: -2 * MIN, max: -1 }), weight: 1 },
  );
  const run = fc.record({
    dt,
    value: fc.option(values, { nil: undefined, freq: 6 }),
    n: fc.integer({ min: 1, max: 5 }),
  });
  return fc.array(run, { minLength: 5, maxLength: 30 }).map((runs) => {
    let time = 0;
    return runs.flatMap(({ dt: step, value, n }) =>
      Array.from({ length: n }, () => ({ time: (time += step), value })),
    );
  });
}

describe('expr', () => {
  it('raises once the expression has held on every reading for `for`, and clears at once by default', () => {
    const r = rule({ expr: 'fields.power_w > 160.0', for: '3m' });
    const { transitions } = run(r, powers([170, 170, 100, 170, 170, 170, 170, 170, 100]));
    expect(transitions).toEqual([
      { type: 'raise', severity: 'warning', value: 1, threshold: 1, level: 1, at: 6 * MIN },
      { type: 'clear', severity: 'warning', value: 0, threshold: 1, level: 1, at: 8 * MIN },
    ]);
  });

  it('hysteresis: once raised, only the clear expression ends the alert', () => {
    const r = rule({ expr: 'fields.power_w > 165.0', clear: 'fields.power_w <= 150.0' });
    const { transitions } = run(r, powers([170, 160, 155, 170, 151, 149, 160, 170]));
    expect(transitions.map((t) => [t.type, t.at / MIN])).toEqual([
      ['raise', 0],
      ['clear', 5],
      ['raise', 7],
    ]);
  });

  it('takes no evidence from a reading that lacks a field the expression reads', () => {
    const r = rule({ expr: 'fields.power_w > 160.0', for: '3m' });
    const readings = [
      reading(0, { power_w: 170 }),
      reading(1 * MIN, { lamp_on: true }),
      reading(2 * MIN, { lamp_on: true }),
      reading(3 * MIN, { power_w: 170 }),
    ];
    const { transitions, states } = run(r, readings);
    // The sustain was not broken by the readings without power, and they left the state as it was.
    expect(transitions.map((t) => [t.type, t.at])).toEqual([['raise', 3 * MIN]]);
    expect(states[1]).toEqual(states[0]);
    expect(states[2]).toEqual(states[0]);
  });

  it('takes no evidence from an expression whose result is not a boolean', () => {
    const r = rule({ expr: 'fields.power_w' });
    expect(run(r, powers([170, 0])).states).toEqual([exprInit(), exprInit()]);
  });

  it('ignores a reading older than the latest one used', () => {
    const r = rule({ expr: 'fields.power_w > 160.0', for: '2m' });
    const readings = [
      reading(10 * MIN, { power_w: 170 }),
      reading(5 * MIN, { power_w: 100 }),
      reading(12 * MIN, { power_w: 170 }),
    ];
    const { transitions, states } = run(r, readings);
    expect(states[1]).toEqual(states[0]);
    expect(transitions.map((t) => [t.type, t.at])).toEqual([['raise', 12 * MIN]]);
  });

  it("reads the device's metadata, and compares doubles with int or double literals alike", () => {
    const failed = rule({ expr: 'fields.lamp_on && fields.power_w < meta.rated_w * 0.05' });
    expect(run(failed, powers([100, 8, 7])).transitions.map((t) => t.at)).toEqual([2 * MIN]);
    // 150 W × 0.05 = 7.5 W: the same lamp rated 200 W fails at 8 W already.
    const bigger = { ...LAMP, meta: { ...LAMP.meta, rated_w: 200 } };
    expect(run(failed, powers([100, 8]), bigger).transitions.map((t) => t.at)).toEqual([1 * MIN]);
    const int = rule({ expr: 'fields.power_w > 10' });
    expect(run(int, powers([10, 11])).transitions.map((t) => t.at)).toEqual([1 * MIN]);
    const flood = rule({ expr: 'fields.water_level_m >= meta.alarm_levels_m[1]' }, 'flood');
    const gauge = { meta: { type: 'river', alarm_levels_m: [1.0, 2.0, 3.5] } };
    const levels = [1.5, 2.0].map((v, i) => ({
      ...reading(i * MIN, { water_level_m: v }),
      kind: 'flood' as const,
    }));
    expect(run(flood, levels, gauge).transitions.map((t) => t.at)).toEqual([1 * MIN]);
  });

  describe('the sun: Huế day-burning rule (rules/hue/lighting.yaml)', () => {
    const parsed = parseRuleFile(readFileSync(new URL('../hue/lighting.yaml', import.meta.url), 'utf8'), 'x');
    const found = parsed.ok ? parsed.rules.find((r) => r.id === 'day-burning') : undefined;
    if (found?.condition.type !== 'expr') throw new Error('day-burning is not an expr rule');
    const dayBurning: EvalRule<ExprCondition> = { severity: found.severity, condition: found.condition };
    /** The lamp's state every 10 minutes from `from` (local time), for `n` readings. */
    const lit = (from: string, n: number, on = true): Reading[] =>
      Array.from({ length: n }, (_, i) => reading(at(from) + i * 10 * MIN, { lamp_on: on, power_w: 150 }));

    it('raises for a lamp lit 30 minutes around noon, and clears when it is switched off', () => {
      const { transitions } = run(dayBurning, [
        ...lit('2024-06-21T11:00:00', 5),
        ...lit('2024-06-21T11:50:00', 1, false),
      ]);
      expect(transitions.map((t) => [t.type, t.severity, t.at])).toEqual([
        ['raise', 'info', at('2024-06-21T11:30:00')],
        ['clear', 'info', at('2024-06-21T11:50:00')],
      ]);
    });

    it('does not raise for a lamp lit at night', () => {
      expect(run(dayBurning, lit('2024-06-21T22:00:00', 12)).transitions).toEqual([]);
    });

    it('takes no evidence from a lit lamp with no known location', () => {
      const { states } = run(dayBurning, lit('2024-06-21T11:00:00', 6), { meta: LAMP.meta });
      expect(states.every((s) => s.last === null)).toBe(true);
    });
  });

  it('property: with its negation as clear, it alternates raise and clear, and its state stays JSON', () => {
    const r = rule({ expr: 'fields.power_w > 160.0', clear: '!(fields.power_w > 160.0)', for: '3m' });
    fc.assert(
      fc.property(timeline(fc.integer({ min: 140, max: 180 })), (points) => {
        let state = exprInit();
        let open = false;
        for (const { time, value } of points) {
          const fields: Reading['fields'] = value === undefined ? { lamp_on: true } : { power_w: value };
          const step = exprReading(r, state, reading(time, fields), LAMP);
          if (step.transition) {
            expect(step.transition.type).toBe(open ? 'clear' : 'raise');
            open = !open;
          }
          expect(step.state.levels.level > 0).toBe(open);
          state = ExprState.parse(JSON.parse(JSON.stringify(step.state)));
          expect(state).toEqual(step.state);
        }
      }),
    );
  });

  it('property: `fields.water_level_m >= 2.0` behaves as the threshold `water_level_m >= 2`', () => {
    const ctx = { meta: { type: 'river' } };
    const asExpr = rule({ expr: 'fields.water_level_m >= 2.0', for: '3m' }, 'flood');
    const t = Rule.parse({
      ...{ id: 't', title: 't', severity: 'warning', owner: 'o', message: 'm', select: { kind: 'flood' } },
      condition: { type: 'threshold', field: 'water_level_m', op: '>=', value: 2, for: '3m' },
    });
    if (t.condition.type !== 'threshold') throw new Error('not a threshold rule');
    const asThreshold: EvalRule<ThresholdCondition> = { severity: t.severity, condition: t.condition };
    fc.assert(
      fc.property(timeline(fc.constantFrom(1.5, 1.99, 2, 2.5, 3)), (points) => {
        let e = exprInit();
        let th = thresholdInit();
        const seen: [string | undefined, string | undefined][] = [];
        for (const { time, value } of points) {
          const fields: Reading['fields'] = value === undefined ? { rain_mm: 0 } : { water_level_m: value };
          const rd: Reading = { kind: 'flood', device: 'rg-kim-long', time, fields };
          const a = exprReading(asExpr, e, rd, ctx);
          const b = thresholdReading(asThreshold, th, rd, ctx);
          seen.push([a.transition?.type, b.transition?.type]);
          e = a.state;
          th = b.state;
        }
        expect(seen.map(([x]) => x)).toEqual(seen.map(([, y]) => y));
      }),
    );
  });
});

describe('compiling', () => {
  it('compiles each expression once and knows which variables and names it reads', () => {
    const source = 'fields.lamp_on == true && sun.altitude_deg > 0.0 && meta["rated_w"] > 0.0';
    const c = compileExpr(source);
    expect(compileExpr(source)).toBe(c);
    expect(c.problems).toEqual([]);
    expect(c.usesSun).toBe(true);
    expect([...c.names.fields, ...c.names.sun, ...c.names.meta]).toEqual([
      'lamp_on',
      'altitude_deg',
      'rated_w',
    ]);
    expect(compileExpr('[1.0, 2.0].all(fields, fields > 0.0)').names.fields.size).toBe(0);
  });

  it('refuses unknown names, functions and int/double arithmetic, with the reason', () => {
    expect(compileExpr('lamp_on == true').problems).toEqual([
      expect.stringMatching(/^unknown variable lamp_on/),
    ]);
    expect(compileExpr('fields.all(k, k == x)').problems).toEqual([
      expect.stringMatching(/^unknown variable x/),
    ]);
    expect(compileExpr('max(fields.power_w, 1.0) > 2.0').problems).toEqual(['unknown function max']);
    expect(compileExpr('sun.elevation > 0.0').problems).toEqual([
      'sun has altitude_deg and azimuth_deg, not elevation',
    ]);
    expect(compileExpr('fields.power_w + 1 > 2.0').problems).toEqual([expect.stringContaining('write 5.0')]);
    expect(compileExpr('int(fields.dim_pct) % 10 == 0').problems).toEqual([]);
    expect(compileExpr('fields.dim_pct % 10.0 == 0.0').problems).toEqual([
      expect.stringContaining('integers only'),
    ]);
    expect(
      compileExpr('size(meta.alarm_levels_m) - 1 > 0 && type(fields.dim_pct) == double').problems,
    ).toEqual([]);
  });

  it('reports an expression that is not CEL at its line in the rule file', () => {
    const text = [
      'rules:',
      '  - id: day-burning',
      '    title: Lamp burning by day',
      '    severity: info',
      '    owner: HEPCO',
      "    message: '{{device.name}}: lit in daylight'",
      '    select: { kind: streetlight }',
      '    condition:',
      '      type: expr',
      '      expr: fields.lamp_on &&& sun.altitude_deg > 0.0',
    ].join('\n');
    const result = parseRuleFile(text, 'lighting.yaml');
    expect(result.ok ? [] : result.problems).toEqual([
      {
        file: 'lighting.yaml',
        line: 10,
        column: 13,
        code: 'RULES_ERR_SCHEMA',
        message: 'rules[0].condition.expr: CEL syntax error at column 16: found & but expecting end of input',
      },
    ]);
  });

  it("refuses fields and metadata the rule's kind does not have", () => {
    const c = {
      type: 'expr' as const,
      expr: 'fields.pm25 > 50.0 && meta.rated_w > 0.0',
      clear: 'fields.lamp_on',
    };
    // The rule file schema runs this check: such a rule does not load.
    expect(() => rule(c)).toThrow('fields.pm25 is not a field of streetlight');
    expect(exprKindIssues(c, ['streetlight'])).toEqual([
      { path: ['condition', 'expr'], message: 'fields.pm25 is not a field of streetlight' },
    ]);
    expect(exprKindIssues(c, ['flood'])).toEqual([
      { path: ['condition', 'expr'], message: 'fields.pm25 is not a field of flood' },
      { path: ['condition', 'expr'], message: 'meta.rated_w is not registry metadata of flood' },
      { path: ['condition', 'clear'], message: 'fields.lamp_on is not a field of flood' },
    ]);
    expect(exprKindIssues(c, ['streetlight', 'air_quality'])).toEqual([]);
  });
});

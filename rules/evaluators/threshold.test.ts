import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../devices/index.ts';
import type { ThresholdCondition } from '../schema.ts';
import { Rule } from '../rule-file.ts';
import { thresholdInit, thresholdReading, ThresholdState } from './threshold.ts';
import type { EvalContext, EvalRule, Transition } from './types.ts';

const KIM_LONG: EvalContext = { meta: { type: 'river', alarm_levels_m: [1.0, 2.0, 3.5] } };
const MIN = 60_000;

function rule(condition: Record<string, unknown>, kind = 'flood'): EvalRule<ThresholdCondition> {
  const r = Rule.parse({
    id: 'r',
    title: 't',
    severity: 'warning',
    owner: 'flood control',
    message: '{{value}}',
    select: { kind },
    condition: { type: 'threshold', ...condition },
  });
  if (r.condition.type !== 'threshold') throw new Error('not a threshold');
  return { severity: r.severity, condition: r.condition };
}

const reading = (time: number, fields: Reading['fields']): Reading => ({
  kind: 'flood',
  device: 'd',
  time,
  fields,
});

/** Feeds levels at one-minute steps; returns every transition and the final state. */
function run(
  r: EvalRule<ThresholdCondition>,
  values: readonly number[],
  ctx: EvalContext = KIM_LONG,
  field = 'water_level_m',
): { transitions: Transition[]; state: ThresholdState } {
  let state = thresholdInit();
  const transitions: Transition[] = [];
  values.forEach((v, i) => {
    const step = thresholdReading(r, state, reading(i * MIN, { [field]: v }), ctx);
    state = step.state;
    if (step.transition) transitions.push(step.transition);
  });
  return { transitions, state };
}

describe('threshold', () => {
  it('raises once, and clears by the negation of the raise by default', () => {
    const r = rule({ field: 'water_level_m', op: '>=', value: 2 });
    const { transitions } = run(r, [1, 2, 2.5, 3, 1.9, 2.2]);
    expect(transitions.map((t) => [t.type, t.value, t.threshold])).toEqual([
      ['raise', 2, 2],
      ['clear', 1.9, 2],
      ['raise', 2.2, 2],
    ]);
  });

  it('Kim Long: one alert opens at alarm 1, escalates to 2 and 3, never down, and clears under alarm 1', () => {
    const r = rule({
      field: 'water_level_m',
      op: '>=',
      value: '$meta.alarm_levels_m[0]',
      escalate: [
        { value: '$meta.alarm_levels_m[1]', severity: 'warning' },
        { value: '$meta.alarm_levels_m[2]', severity: 'critical' },
      ],
      clear: { op: '<', value: { of: '$meta.alarm_levels_m[0]', minus_pct: 5 } },
    });
    const { transitions } = run(r, [0.5, 1.2, 2.1, 3.6, 3.0, 1.5, 0.97, 0.9]);
    expect(transitions.map((t) => [t.type, t.severity, t.level, t.value])).toEqual([
      ['raise', 'warning', 1, 1.2],
      ['escalate', 'warning', 2, 2.1],
      ['escalate', 'critical', 3, 3.6],
      ['clear', 'critical', 3, 0.9],
    ]);
    expect(transitions[3]?.threshold).toBeCloseTo(0.95);
  });

  it('a river that jumps past alarm 3 opens the alert at its highest level', () => {
    const r = rule({
      field: 'water_level_m',
      op: '>=',
      value: '$meta.alarm_levels_m[0]',
      escalate: [{ value: '$meta.alarm_levels_m[2]', severity: 'critical' }],
    });
    const { transitions } = run(r, [0.5, 3.7]);
    expect(transitions).toEqual([
      { type: 'raise', severity: 'critical', value: 3.7, threshold: 3.5, level: 2, at: MIN },
    ]);
  });

  it('waits for the sustain before raising, and a broken run starts it again', () => {
    const r = rule({ field: 'water_level_m', op: '>', value: 1, for: '3m' });
    // minute:        0    1  2  3  4    5  6  7  8
    const values = [0, 2, 2, 0.5, 2, 2, 2, 2, 2];
    const { transitions } = run(r, values);
    expect(transitions.map((t) => [t.type, t.at / MIN])).toEqual([['raise', 7]]);
  });

  it('a clear with its own sustain waits for it, and a relapse restarts it', () => {
    const r = rule({ field: 'water_level_m', op: '>', value: 2, clear: { op: '<', value: 1.5, for: '3m' } });
    // minute:                 0  1    2    3  4    5    6    7
    const { transitions } = run(r, [3, 1.0, 1.0, 2, 1.0, 1.0, 1.0, 1.0]);
    expect(transitions.map((t) => [t.type, t.at / MIN])).toEqual([
      ['raise', 0],
      ['clear', 7],
    ]);
  });

  it('a guard keeps a switched-off lamp from failing, and clears the alert when the lamp goes off', () => {
    const r = rule(
      {
        field: 'power_w',
        op: '<',
        value: { of: '$meta.rated_w', minus_pct: 95 },
        when: [{ field: 'lamp_on', op: '==', value: true }],
      },
      'streetlight',
    );
    const ctx: EvalContext = { meta: { street: 'Lê Lợi', rated_w: 150, tolerance_pct: 10 } };
    const feed: Reading['fields'][] = [
      { lamp_on: false, power_w: 0 },
      { lamp_on: true, power_w: 0.4 },
      { lamp_on: true, power_w: 0.5 },
      { power_w: 140 }, // no lamp_on: no evidence either way
      { lamp_on: false, power_w: 0 },
    ];
    let state = thresholdInit();
    const types: string[] = [];
    feed.forEach((fields, i) => {
      const step = thresholdReading(r, state, { ...reading(i * MIN, fields), kind: 'streetlight' }, ctx);
      state = step.state;
      if (step.transition) types.push(`${step.transition.type}@${i}:${step.transition.threshold}`);
    });
    expect(types).toEqual(['raise@1:7.5', 'clear@4:7.5']);
  });

  it('does nothing for a device whose metadata lacks the value, or for a reading without the field', () => {
    const r = rule({ field: 'water_level_m', op: '>=', value: '$meta.alarm_levels_m[0]' });
    expect(run(r, [5, 6], { meta: { type: 'street' } }).transitions).toEqual([]);
    expect(
      thresholdReading(r, thresholdInit(), reading(0, { rain_mm: 3 }), KIM_LONG).transition,
    ).toBeUndefined();
  });

  it('ignores a reading older than the last one', () => {
    const r = rule({ field: 'water_level_m', op: '>', value: 1, for: '2m' });
    let state = thresholdInit();
    state = thresholdReading(r, state, reading(10 * MIN, { water_level_m: 2 }), KIM_LONG).state;
    const late = thresholdReading(r, state, reading(5 * MIN, { water_level_m: 0 }), KIM_LONG);
    expect(late.state).toBe(state);
    expect(
      thresholdReading(r, state, reading(12 * MIN, { water_level_m: 2 }), KIM_LONG).transition?.type,
    ).toBe('raise');
  });

  it('keeps its state as plain JSON that parses back to the same state', () => {
    const r = rule({ field: 'water_level_m', op: '>', value: 1, for: '5m' });
    const { state } = run(r, [2, 2, 2]);
    const restored = ThresholdState.parse(JSON.parse(JSON.stringify(state)));
    expect(restored).toEqual(state);
    // The sustain timer survives: two more minutes complete the five.
    let s = restored;
    const out: (Transition | undefined)[] = [];
    for (const m of [3, 4, 5]) {
      const step = thresholdReading(r, s, reading(m * MIN, { water_level_m: 2 }), KIM_LONG);
      s = step.state;
      out.push(step.transition);
    }
    expect(out.map((t) => t?.type)).toEqual([undefined, undefined, 'raise']);
  });

  it('property: a value hovering around the limit raises one alert per excursion past the clear', () => {
    const r = rule({ field: 'water_level_m', op: '>', value: 3.5, clear: { op: '<', value: 3.0 } });
    fc.assert(
      fc.property(fc.array(fc.double({ min: 2, max: 5, noNaN: true }), { maxLength: 200 }), (values) => {
        const { transitions } = run(r, values);
        // Reference: a two-state machine written out directly.
        let open = false;
        const expected: string[] = [];
        for (const v of values) {
          if (!open && v > 3.5) {
            open = true;
            expected.push('raise');
          } else if (open && v < 3.0) {
            open = false;
            expected.push('clear');
          }
        }
        expect(transitions.map((t) => t.type)).toEqual(expected);
      }),
    );
  });

  it('property: values that never go under the clear raise at most once, however often they cross the limit', () => {
    const r = rule({ field: 'water_level_m', op: '>', value: 3.5, clear: { op: '<', value: 3.0 } });
    fc.assert(
      fc.property(fc.array(fc.double({ min: 3.0, max: 4.0, noNaN: true }), { maxLength: 300 }), (values) => {
        const { transitions } = run(r, values);
        expect(transitions.length).toBe(values.some((v) => v > 3.5) ? 1 : 0);
        expect(transitions.every((t) => t.type === 'raise')).toBe(true);
      }),
    );
  });

  it('property: no raise before the condition has held for `for`, and a raise once it has', () => {
    const forMs = 5 * MIN;
    const r = rule({ field: 'water_level_m', op: '>', value: 1, for: '5m' });
    const arb = fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3 * MIN }), high: fc.boolean() }), {
      maxLength: 100,
    });
    fc.assert(
      fc.property(arb, (steps) => {
        let state = thresholdInit();
        let t = 0;
        let runStart: number | null = null;
        let open = false;
        for (const { gap, high } of steps) {
          t += gap;
          runStart = high ? (runStart ?? t) : null;
          const step = thresholdReading(r, state, reading(t, { water_level_m: high ? 2 : 0 }), KIM_LONG);
          state = step.state;
          const due = !open && runStart !== null && t - runStart >= forMs;
          expect(step.transition?.type === 'raise').toBe(due);
          if (step.transition?.type === 'raise') open = true;
          if (step.transition?.type === 'clear') open = false;
        }
      }),
    );
  });
});

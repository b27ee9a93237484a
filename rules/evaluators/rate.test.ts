import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../devices/index.ts';
import type { RateCondition } from '../schema.ts';
import { Rule } from '../rule-file.ts';
import { rateInit, rateReading, RateState, rateTick } from './rate.ts';
import type { EvalContext, EvalRule, Transition } from './types.ts';

const MIN = 60_000;
const CTX: EvalContext = { meta: {} };

function rule(condition: Record<string, unknown>): EvalRule<RateCondition> {
  const r = Rule.parse({
    id: 'fast-rise',
    title: 'rise',
    severity: 'warning',
    owner: 'flood control',
    message: '{{value}} within {{within}}',
    select: { kind: 'flood', tags: ['river'] },
    condition: { type: 'rate', field: 'water_level_m', within: '1h', ...condition },
  });
  if (r.condition.type !== 'rate') throw new Error('not a rate');
  return { severity: r.severity, condition: r.condition };
}

const reading = (time: number, level: number): Reading => ({
  kind: 'flood',
  device: 'rg-kim-long',
  time,
  fields: { water_level_m: level },
});

function feed(r: EvalRule<RateCondition>, points: readonly [number, number][]) {
  let s = rateInit();
  const out: Transition[] = [];
  for (const [m, level] of points) {
    const step = rateReading(r, s, reading(m * MIN, level), CTX);
    s = step.state;
    if (step.transition) out.push(step.transition);
  }
  return { state: s, transitions: out };
}

describe('rate', () => {
  it('raises when the river has risen 0.3 m within an hour, once, and clears when the rise is old', () => {
    const r = rule({ rise: 0.3, clear_below: 0.15 });
    // +0.06 m every 10 minutes for an hour, then flat.
    const points: [number, number][] = [];
    for (let m = 0; m <= 180; m += 10) points.push([m, 1 + (0.06 * Math.min(m, 60)) / 10]);
    const { transitions } = feed(r, points);
    expect(transitions.map((t) => [t.type, t.at / MIN])).toEqual([
      ['raise', 50],
      ['clear', 90],
    ]);
    expect(transitions[0]?.value).toBeCloseTo(0.3);
  });

  it('a fall rule sees a falling river; a tick alone lets an old rise go', () => {
    const fall = rule({ fall: 0.5 });
    expect(
      feed(fall, [
        [0, 3],
        [30, 2.6],
        [50, 2.4],
      ]).transitions.map((t) => t.type),
    ).toEqual(['raise']);
    const rise = rule({ rise: 0.3 });
    const { state } = feed(rise, [
      [0, 1],
      [20, 1.4],
    ]);
    expect(state.levels.level).toBe(1);
    // Within the hour no value leaves: the same state comes back (nothing for the engine to save).
    const quiet = rateTick(rise, state, 30 * MIN, CTX);
    expect(quiet.transition).toBeUndefined();
    expect(quiet.state).toBe(state);
    const cleared = rateTick(rise, state, 90 * MIN, CTX);
    expect(cleared.transition?.type).toBe('clear');
    expect(cleared.state.now).toBe(90 * MIN);
    expect(state.levels.level).toBe(1);
  });

  it('keeps its state as plain JSON', () => {
    const { state } = feed(rule({ rise: 0.3 }), [
      [0, 1],
      [20, 1.4],
      [25, 1.5],
    ]);
    expect(RateState.parse(JSON.parse(JSON.stringify(state)))).toEqual(state);
  });

  it('property: raises and clears alternate, and each raise has a reading 0.3 m lower within the hour', () => {
    const r = rule({ rise: 0.3, clear_below: 0.1 });
    const step = fc.record({
      gap: fc.integer({ min: 0, max: 20 }),
      level: fc.double({ min: 0, max: 2, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), (steps) => {
        let s = rateInit();
        let m = 0;
        const seen: { t: number; level: number }[] = [];
        const types: string[] = [];
        for (const { gap, level } of steps) {
          m += gap;
          seen.push({ t: m * MIN, level });
          const out = rateReading(r, s, reading(m * MIN, level), CTX);
          s = out.state;
          if (out.transition === undefined) continue;
          types.push(out.transition.type);
          if (out.transition.type !== 'raise') continue;
          // The bucketed window reaches back at most one hour.
          const lowest = Math.min(...seen.filter((p) => p.t > m * MIN - 60 * MIN).map((p) => p.level));
          expect(level - lowest).toBeGreaterThanOrEqual(0.3 - 1e-9);
        }
        types.forEach((t, i) => expect(t).toBe(i % 2 === 0 ? 'raise' : 'clear'));
      }),
    );
  });
});

// The level machine's contract with the engine: a step that changes nothing gives the same state object
// back (the engine saves only the states that changed), and no step ever changes the state it is given
// (the engine keeps the previous state of a transition, to put back if it cannot be recorded).
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idleLevels, stepLevels, type ClearLimit, type Limit, type LevelState } from './levels.ts';

const MIN = 60_000;
// Kim Long's alarm levels (docs/domain.md), a threshold with escalation.
const LIMITS: Limit[] = [
  { op: '>=', value: 1.0, severity: 'warning' },
  { op: '>=', value: 2.0, severity: 'warning' },
  { op: '>=', value: 3.5, severity: 'critical' },
];
const CLEAR: ClearLimit = { op: '<', value: 0.95, forMs: 10 * MIN };

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

describe('stepLevels', () => {
  it('gives the same state back for a reading that starts, ends or completes nothing', () => {
    let st: LevelState = idleLevels();
    st = stepLevels(st, 0, 0.5, true, LIMITS, CLEAR, 10 * MIN).state;
    // Still under every level: nothing changed.
    expect(stepLevels(st, MIN, 0.6, true, LIMITS, CLEAR, 10 * MIN).state).toBe(st);
    // Above alarm 1: a run begins, a new state.
    const rising = stepLevels(st, 2 * MIN, 1.2, true, LIMITS, CLEAR, 10 * MIN).state;
    expect(rising).not.toBe(st);
    expect(rising.since).toEqual([2 * MIN, null, null]);
    // Still above it, the sustain not yet complete: the run goes on, the same state.
    expect(stepLevels(rising, 5 * MIN, 1.3, true, LIMITS, CLEAR, 10 * MIN).state).toBe(rising);
    // The sustain completes: a raise.
    const raised = stepLevels(rising, 12 * MIN, 1.3, true, LIMITS, CLEAR, 10 * MIN);
    expect(raised.transition?.type).toBe('raise');
    // Open, between the clear and alarm 1 (hysteresis): nothing moves.
    const between = stepLevels(raised.state, 13 * MIN, 0.97, true, LIMITS, CLEAR, 10 * MIN).state;
    expect(between.since).toEqual([null, null, null]);
    expect(stepLevels(between, 14 * MIN, 0.98, true, LIMITS, CLEAR, 10 * MIN).state).toBe(between);
  });

  const limit = fc.record({
    op: fc.constantFrom('>', '>=', '<', '<=' as const),
    value: fc.integer({ min: 0, max: 10 }),
    severity: fc.constantFrom('info', 'warning', 'critical' as const),
  });
  const observation = fc.record({
    dt: fc.integer({ min: 0, max: 20 * MIN }),
    x: fc.integer({ min: 0, max: 10 }),
    guard: fc.boolean(),
  });

  it('property: the same state object comes back exactly when the result equals it, and no input changes', () => {
    fc.assert(
      fc.property(
        fc.array(limit, { minLength: 1, maxLength: 3 }),
        fc.record({
          op: fc.constantFrom('>', '>=', '<', '<=' as const),
          value: fc.integer({ min: 0, max: 10 }),
          forMs: fc.integer({ min: 0, max: 30 * MIN }),
        }),
        fc.integer({ min: 0, max: 30 * MIN }),
        fc.array(observation, { maxLength: 60 }),
        (limits, clear, forMs, observations) => {
          deepFreeze(limits);
          deepFreeze(clear);
          let st: LevelState = deepFreeze(idleLevels());
          let t = 0;
          for (const o of observations) {
            t += o.dt;
            const copy = structuredClone(st);
            const step = stepLevels(st, t, o.x, o.guard, limits, clear, forMs);
            expect(st).toEqual(copy);
            expect(step.state === st).toBe(isDeepStrictEqual(step.state, st));
            if (step.transition !== undefined) expect(step.state).not.toBe(st);
            st = deepFreeze(step.state);
          }
        },
      ),
    );
  });
});

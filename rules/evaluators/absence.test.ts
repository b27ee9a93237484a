import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../devices/index.ts';
import type { AbsenceCondition } from '../schema.ts';
import { Rule } from '../rule-file.ts';
import { absenceInit, absenceReading, AbsenceState, absenceTick } from './absence.ts';
import type { EvalContext, EvalRule, Transition } from './types.ts';

const MIN = 60_000;
const CTX: EvalContext = { meta: {} };
const r = Rule.parse({
  id: 'silent',
  title: 'silent',
  severity: 'warning',
  owner: 'flood control',
  message: '{{device.name}}: no reading for {{silent_for}}',
  select: { kind: 'flood' },
  condition: { type: 'absence', for: '30m' },
});
if (r.condition.type !== 'absence') throw new Error('not absence');
const RULE: EvalRule<AbsenceCondition> = { severity: r.severity, condition: r.condition };
const reading = (time: number): Reading => ({ kind: 'flood', device: 'd', time, fields: { rain_mm: 0 } });

describe('absence', () => {
  it('fires on a tick with no reading at all, once, and clears on the next new reading', () => {
    let s = absenceInit(0);
    expect(absenceTick(RULE, s, 29 * MIN, CTX).transition).toBeUndefined();
    const fired = absenceTick(RULE, s, 30 * MIN, CTX);
    expect(fired.transition).toEqual({
      type: 'raise',
      severity: 'warning',
      value: 30 * MIN,
      threshold: 30 * MIN,
      level: 1,
      at: 30 * MIN,
    });
    s = fired.state;
    expect(absenceTick(RULE, s, 90 * MIN, CTX).transition).toBeUndefined();
    const back = absenceReading(RULE, s, reading(95 * MIN), CTX);
    expect(back.transition?.type).toBe('clear');
    expect(back.transition?.value).toBe(95 * MIN);
    expect(back.state).toEqual({ type: 'absence', v: 1, lastSeen: 95 * MIN, raised: false });
  });

  it('a backfilled older reading does not end the silence', () => {
    const s = absenceTick(RULE, absenceInit(10 * MIN), 50 * MIN, CTX).state;
    const old = absenceReading(RULE, s, reading(5 * MIN), CTX);
    expect(old.transition).toBeUndefined();
    expect(old.state.raised).toBe(true);
  });

  it('a device that keeps reporting never fires', () => {
    let s = absenceInit(0);
    for (let m = 10; m <= 600; m += 10) {
      s = absenceReading(RULE, s, reading(m * MIN), CTX).state;
      expect(absenceTick(RULE, s, m * MIN + 29 * MIN, CTX).transition).toBeUndefined();
    }
  });

  it('keeps its state as plain JSON', () => {
    const s = absenceTick(RULE, absenceInit(0), 31 * MIN, CTX).state;
    expect(AbsenceState.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it('property: fires exactly once per silence of at least `for` that a tick observes', () => {
    const event = fc.record({ gap: fc.integer({ min: 0, max: 50 * MIN }), isReading: fc.boolean() });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 150 }), (events) => {
        let s = absenceInit(0);
        let t = 0;
        let lastSeen = 0;
        let observed = false; // a tick has seen the current silence reach `for`
        const transitions: Transition[] = [];
        let expectedRaises = 0;
        for (const { gap, isReading } of events) {
          t += gap;
          const step = isReading ? absenceReading(RULE, s, reading(t), CTX) : absenceTick(RULE, s, t, CTX);
          s = step.state;
          if (step.transition) transitions.push(step.transition);
          if (isReading && t > lastSeen) {
            lastSeen = t;
            observed = false;
          } else if (!isReading && t - lastSeen >= 30 * MIN && !observed) {
            observed = true;
            expectedRaises++;
          }
        }
        const raises = transitions.filter((x) => x.type === 'raise');
        expect(raises.length).toBe(expectedRaises);
        // Raises and clears alternate, starting with a raise.
        transitions.forEach((x, i) => expect(x.type).toBe(i % 2 === 0 ? 'raise' : 'clear'));
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { isRulesError } from '../errors.ts';
import { Rule } from '../rule-file.ts';
import { initialState, onReading, onTick, restoreState } from './evaluate.ts';

const MIN = 60_000;
const common = {
  title: 't',
  severity: 'warning',
  owner: 'flood control',
  message: 'm',
  select: { kind: 'flood' },
};
const threshold = Rule.parse({
  ...common,
  id: 'level',
  condition: { type: 'threshold', field: 'water_level_m', op: '>', value: 2 },
});
const absence = Rule.parse({ ...common, id: 'silent', condition: { type: 'absence', for: '30m' } });
const expr = Rule.parse({ ...common, id: 'x', condition: { type: 'expr', expr: 'fields.rain_mm > 1.0' } });
const ctx = { meta: {} };
const reading = (time: number, level: number) => ({
  kind: 'flood' as const,
  device: 'd',
  time,
  fields: { water_level_m: level },
});

describe('evaluate', () => {
  it('dispatches readings and ticks by condition type', () => {
    const s = initialState(threshold, 0);
    if (s === undefined) throw new Error('no state');
    expect(onReading(threshold, s, reading(0, 3), ctx)?.transition?.type).toBe('raise');
    const a = initialState(absence, 0);
    if (a === undefined) throw new Error('no state');
    expect(onTick(absence, a, 30 * MIN, ctx)?.transition?.type).toBe('raise');
    expect(onTick(threshold, s, 30 * MIN, ctx)?.transition).toBeUndefined();
  });

  it('evaluates CEL conditions on readings, and time passing changes nothing for them', () => {
    const s = initialState(expr, 0);
    if (s === undefined) throw new Error('no state');
    expect(onTick(expr, s, 30 * MIN, ctx)).toEqual({ state: s });
  });

  it('restores a persisted state, starts afresh when the rule changed type, refuses garbage', () => {
    const raised = onTick(absence, initialState(absence, 0)!, 40 * MIN, ctx)!.state;
    const json: unknown = JSON.parse(JSON.stringify(raised));
    expect(restoreState(absence, json, 50 * MIN)).toEqual(raised);
    expect(restoreState(threshold, json, 50 * MIN)).toEqual(initialState(threshold, 50 * MIN));
    try {
      restoreState(absence, { type: 'absence', v: 1, lastSeen: 'yesterday', raised: true }, 0);
      expect.unreachable();
    } catch (err) {
      expect(isRulesError(err, 'RULES_ERR_STATE')).toBe(true);
    }
  });

  it('a state of another type handed to onReading is replaced, not misread', () => {
    const a = initialState(absence, 0)!;
    const step = onReading(threshold, a, reading(MIN, 3), ctx);
    expect(step?.state.type).toBe('threshold');
    expect(step?.transition?.type).toBe('raise');
  });
});

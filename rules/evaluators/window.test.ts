import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../devices/index.ts';
import type { WindowCondition } from '../schema.ts';
import { Rule } from '../rule-file.ts';
import { addSample, bucketWidth, windowStart, type Bucket } from './buckets.ts';
import type { EvalContext, EvalRule, Transition } from './types.ts';
import { aggregate, windowInit, windowReading, WindowState, windowTick } from './window.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const CTX: EvalContext = { meta: {} };

function rule(condition: Record<string, unknown>, kind = 'flood'): EvalRule<WindowCondition> {
  const r = Rule.parse({
    id: 'w',
    title: 'w',
    severity: 'warning',
    owner: 'environment department',
    message: '{{value}}',
    select: { kind },
    condition: { type: 'window', ...condition },
  });
  if (r.condition.type !== 'window') throw new Error('not a window');
  return { severity: r.severity, condition: r.condition };
}

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

const reading = (time: number, fields: Reading['fields']): Reading => ({
  kind: 'flood',
  device: 'd',
  time,
  fields,
});

describe('window', () => {
  it('rain summed over 1 h raises at 50 mm, escalates, and clears on a tick once the storm hour has passed', () => {
    const r = rule({
      field: 'rain_mm',
      aggregate: 'sum',
      over: '1h',
      op: '>=',
      value: 50,
      escalate: [{ value: 80, severity: 'critical' }],
    });
    let s = windowInit();
    const out: Transition[] = [];
    // 10 mm every 10 minutes for an hour, then dry reports.
    for (let m = 0; m <= 120; m += 10) {
      const step = windowReading(r, s, reading(m * MIN, { rain_mm: m < 60 ? 10 : 0 }), CTX);
      s = step.state;
      if (step.transition) out.push(step.transition);
    }
    expect(out.map((t) => [t.type, t.severity, t.value, t.at / MIN])).toEqual([
      ['raise', 'warning', 50, 40],
      ['clear', 'warning', 40, 70],
    ]);
    // A heavier hour escalates, and a tick with no new reading lets it go.
    s = windowInit();
    for (let m = 0; m < 60; m += 10) s = windowReading(r, s, reading(m * MIN, { rain_mm: 15 }), CTX).state;
    expect(s.levels.level).toBe(2);
    s = windowReading(r, s, reading(61 * MIN, { rain_mm: 0 }), CTX).state;
    const tick = windowTick(r, s, 115 * MIN, CTX);
    expect(tick.transition?.type).toBe('clear');
    expect(tick.transition?.severity).toBe('critical');
    // An empty window is no evidence of a dry hour: the alert stays as it is.
    expect(windowTick(r, s, 200 * MIN, CTX).transition).toBeUndefined();
  });

  it('PM2.5 24-hour mean: nothing until 18 of 24 hours have readings, then compared with 50 µg/m³', () => {
    const r = rule(
      {
        field: 'pm25',
        aggregate: 'mean',
        over: '24h',
        op: '>',
        value: 50,
        resolution: 24,
        min_coverage: 0.75,
      },
      'air_quality',
    );
    let s = windowInit();
    const raisedAt: number[] = [];
    for (let h = 0; h < 24; h++) {
      const step = windowReading(r, s, { ...reading(h * HOUR, { pm25: 60 }), kind: 'air_quality' }, CTX);
      s = step.state;
      if (step.transition?.type === 'raise') raisedAt.push(h);
    }
    expect(raisedAt).toEqual([17]); // the 18th hour
    expect(s.buckets.length).toBe(24);
  });

  it('keeps at most its resolution of buckets whatever the rate of readings', () => {
    const r = rule({ field: 'rain_mm', aggregate: 'sum', over: '1h', op: '>', value: 1e9 });
    let s = windowInit();
    for (let t = 0; t < 3 * HOUR; t += 1_000)
      s = windowReading(r, s, reading(t, { rain_mm: 0.2 }), CTX).state;
    expect(s.buckets.length).toBeLessThanOrEqual(60);
    expect(WindowState.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it('250 tips of 0.2 mm are 50 mm, not above it: the sum carries no rounding noise', () => {
    const r = rule({ field: 'rain_mm', aggregate: 'sum', over: '12h', op: '>', value: 50 });
    let s = windowInit();
    const transitions: Transition[] = [];
    for (let i = 0; i < 250; i++) {
      const step = windowReading(r, s, reading(i * MIN, { rain_mm: 0.2 }), CTX);
      s = step.state;
      if (step.transition) transitions.push(step.transition);
    }
    expect(aggregate(r.condition, s.buckets)).toBe(50);
    expect(transitions).toEqual([]);
  });

  it('counts a late reading still inside the window, and not one outside it', () => {
    const r = rule({ field: 'rain_mm', aggregate: 'count', over: '1h', op: '>', value: 100 });
    let s = windowInit();
    s = windowReading(r, s, reading(2 * HOUR, { rain_mm: 1 }), CTX).state;
    s = windowReading(r, s, reading(2 * HOUR - 30 * MIN, { rain_mm: 1 }), CTX).state;
    s = windowReading(r, s, reading(HOUR - MIN, { rain_mm: 1 }), CTX).state;
    expect(aggregate(r.condition, s.buckets)).toBe(2);
  });

  it('a tick that lets no sample go and changes no level gives the same state back', () => {
    const r = rule({ field: 'rain_mm', aggregate: 'sum', over: '1h', op: '>=', value: 50 });
    let s = windowInit();
    s = windowReading(r, s, reading(0, { rain_mm: 10 }), CTX).state;
    s = windowReading(r, s, reading(10 * MIN, { rain_mm: 10 }), CTX).state;
    // Within the hour nothing leaves: the same state, so the engine has nothing to save.
    expect(windowTick(r, s, 30 * MIN, CTX).state).toBe(s);
    // Past the hour the first sample leaves (1-minute buckets): a new state, the window ending at the tick.
    const later = windowTick(r, s, HOUR + 30_000, CTX).state;
    expect(later).not.toBe(s);
    expect(later.now).toBe(HOUR + 30_000);
    expect(aggregate(r.condition, later.buckets)).toBe(10);
    expect(aggregate(r.condition, s.buckets)).toBe(20);
  });

  const sample = fc.record({ t: fc.integer({ min: 0, max: 6 * HOUR }), x: fc.integer({ min: 0, max: 500 }) });
  const aggregates = ['mean', 'max', 'min', 'sum', 'count'] as const;

  it('property: the aggregate equals one computed from every sample in the window', () => {
    fc.assert(
      fc.property(
        fc.array(sample, { minLength: 1, maxLength: 200 }),
        fc.constantFrom(...aggregates),
        fc.constantFrom('10m', '1h', '90m', '3h'),
        (samples, agg, over) => {
          const r = rule({ field: 'rain_mm', aggregate: agg, over, op: '>', value: 1e9 });
          const c = r.condition;
          const now = Math.max(...samples.map((s) => s.t));
          let buckets: readonly Bucket[] = [];
          for (const { t, x } of samples) buckets = addSample(buckets, t, x, c, now);
          const inside = samples.filter((s) => s.t >= windowStart(now, c)).map((s) => s.x);
          const reference: Record<(typeof aggregates)[number], number> = {
            mean: inside.reduce((a, b) => a + b, 0) / inside.length,
            max: Math.max(...inside),
            min: Math.min(...inside),
            sum: inside.reduce((a, b) => a + b, 0),
            count: inside.length,
          };
          expect(aggregate(c, buckets)).toBeCloseTo(reference[agg], 9);
        },
      ),
    );
  });

  it('property: readings and ticks never change the state they are given', () => {
    const op = fc.record({
      tick: fc.boolean(),
      dt: fc.integer({ min: -30 * MIN, max: 40 * MIN }),
      x: fc.nat(50),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), fc.constantFrom('10m', '1h', '3h'), (ops, over) => {
        const r = rule({ field: 'rain_mm', aggregate: 'sum', over, op: '>=', value: 60 });
        let s = deepFreeze(windowInit());
        let t = 0;
        for (const o of ops) {
          t = Math.max(0, t + o.dt);
          const json = JSON.stringify(s);
          const step = o.tick
            ? windowTick(r, s, t, CTX)
            : windowReading(r, s, reading(t, { rain_mm: o.x }), CTX);
          expect(JSON.stringify(s)).toBe(json);
          s = deepFreeze(step.state);
          expect(WindowState.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
        }
      }),
    );
  });

  it('property: with readings on bucket edges the window is exactly (now − over, now]', () => {
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 200 }), (raw) => {
        const r = rule({ field: 'rain_mm', aggregate: 'sum', over: '1h', op: '>', value: 1e9 });
        const w = bucketWidth(r.condition);
        const samples = raw.map((s) => ({ ...s, t: Math.floor(s.t / w) * w }));
        const now = Math.max(...samples.map((s) => s.t));
        let buckets: readonly Bucket[] = [];
        for (const { t, x } of samples) buckets = addSample(buckets, t, x, r.condition, now);
        const exact = samples.filter((s) => s.t > now - HOUR).reduce((a, s) => a + s.x, 0);
        expect(aggregate(r.condition, buckets)).toBe(exact);
      }),
    );
  });
});

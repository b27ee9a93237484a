// The `aqi` condition: category keys as index bounds, the Huế rule `vn-aqi-category` (air.yaml) raising at
// poor and escalating through bad and very bad, a clear with hysteresis, the sustain, late readings, and
// properties over arbitrary reading sequences.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../devices/index.ts';
import { HOUR_MS, hourlyMeans, stationVn } from '../../aqi/index.ts';
import type { AqiCondition } from '../schema.ts';
import { Rule } from '../rule-file.ts';
import { AqiState, aqiBound, aqiCategoryOf, aqiInit, aqiLevels, aqiReading, aqiTemplateVars } from './aqi.ts';
import type { EvalContext, EvalRule, Transition } from './types.ts';

const T0 = Date.UTC(2026, 10, 28, 0, 0, 0);
const MIN = 60_000;
const CTX: EvalContext = { meta: {} };

function rule(condition: Record<string, unknown>): EvalRule<AqiCondition> {
  const r = Rule.parse({
    id: 'r',
    title: 't',
    severity: 'warning',
    owner: 'environment department',
    message: '{{index}} {{value}} ({{category}})',
    select: { kind: 'air_quality' },
    condition: { type: 'aqi', ...condition },
  });
  if (r.condition.type !== 'aqi') throw new Error('not an aqi condition');
  return { severity: r.severity, condition: r.condition };
}

// air.yaml, rule vn-aqi-category.
const VN_CATEGORY_RULE = rule({
  index: 'vn',
  op: '>=',
  value: 'poor',
  clear: { op: '<=', value: 'moderate' },
  escalate: [
    { value: 'bad', severity: 'warning' },
    { value: 'very_bad', severity: 'critical' },
    { value: 'hazardous', severity: 'critical' },
  ],
});

const reading = (time: number, fields: Reading['fields']): Reading => ({
  kind: 'air_quality',
  device: 'hue-aq-1',
  time,
  fields,
});

interface Run {
  transitions: Transition[];
  state: AqiState;
}

function feed(r: EvalRule<AqiCondition>, readings: readonly Reading[], state = aqiInit()): Run {
  const transitions: Transition[] = [];
  for (const x of readings) {
    const step = aqiReading(r, state, x, CTX);
    state = step.state;
    if (step.transition) transitions.push(step.transition);
  }
  return { transitions, state };
}

/** PM2.5 at :10 and :40 of each hour from T0, one value per hour. */
const pm25Hours = (values: readonly number[], field = 'pm25'): Reading[] =>
  values.flatMap((v, h) => [10, 40].map((m) => reading(T0 + h * HOUR_MS + m * MIN, { [field]: v })));

/** A transition as [type, severity, level, threshold, hour and minute of the reading]. */
const brief = (t: Transition) => [t.type, t.severity, t.level, t.threshold, (t.at - T0) / MIN];

describe('aqiBound: a category key against each op', () => {
  it('reads the op against the whole band', () => {
    expect(aqiBound('vn', '>=', 'poor')).toBe(101); // poor or worse
    expect(aqiBound('vn', '>', 'poor')).toBe(150); // worse than poor
    expect(aqiBound('vn', '<=', 'moderate')).toBe(100); // moderate or better
    expect(aqiBound('vn', '<', 'moderate')).toBe(51); // better than moderate
    expect(aqiBound('us', '>=', 'unhealthy_sensitive')).toBe(101);
    expect(aqiBound('us', '>=', 'hazardous')).toBe(301);
    expect(aqiBound('vn', '>', 120)).toBe(120);
    expect(aqiBound('vn', '>=', 'unhealthy')).toBeUndefined(); // a US key
  });

  it('resolves the Huế rule: levels 101, 151, 201, 301, cleared at 100 or below', () => {
    const levels = aqiLevels(VN_CATEGORY_RULE.condition, 'warning');
    expect(levels?.limits.map((l) => [l.op, l.value, l.severity])).toEqual([
      ['>=', 101, 'warning'],
      ['>=', 151, 'warning'],
      ['>=', 201, 'critical'],
      ['>=', 301, 'critical'],
    ]);
    expect(levels?.clear).toEqual({ op: '<=', value: 100, forMs: 0 });
    const plain = aqiLevels(rule({ index: 'vn', op: '>=', value: 'poor' }).condition, 'info');
    expect(plain?.clear).toEqual({ op: '<', value: 101, forMs: 0 }); // the raise's negation
  });
});

describe('aqiReading', () => {
  it('raises at poor on the first reading of the hour that completes the index, not before', () => {
    // PM2.5 60 µg/m³ is VN_AQI 100 + 10·50/30 = 117 (poor); the index needs 2 completed hours.
    const { transitions } = feed(VN_CATEGORY_RULE, pm25Hours([60, 60, 60]));
    expect(transitions.map(brief)).toEqual([['raise', 'warning', 1, 101, 2 * 60 + 10]]);
    expect(transitions[0]?.value).toBe(117);
  });

  it('escalates through bad and very bad as the NowCast rises, each once, on the hour', () => {
    const { transitions } = feed(VN_CATEGORY_RULE, pm25Hours([60, 60, 100, 100, 100, 200, 200, 200, 200]));
    expect(transitions.map((t) => [t.type, t.severity, t.level, t.threshold])).toEqual([
      ['raise', 'warning', 1, 101],
      ['escalate', 'warning', 2, 151],
      ['escalate', 'critical', 3, 201],
    ]);
    expect(transitions.every((t) => (t.at - T0) % HOUR_MS === 10 * MIN)).toBe(true);
    expect(transitions.map((t) => aqiCategoryOf('vn', t.value))).toEqual(['Poor', 'Bad', 'Very bad']);
  });

  it('clears at moderate, with hysteresis: an index back in poor keeps a bad alert open', () => {
    const r = rule({ index: 'vn', op: '>=', value: 'bad', clear: { op: '<=', value: 'moderate' } });
    // 100 µg/m³: 164 (bad); 60: 117 (poor); 30: 60 (moderate).
    const values = [100, 100, 100, 60, 60, 60, 60, 60, 60, 30, 30, 30, 30, 30, 30, 30];
    const { transitions, state } = feed(r, pm25Hours(values));
    expect(transitions.map((t) => t.type)).toEqual(['raise', 'clear']);
    const clear = transitions[1];
    expect(clear?.threshold).toBe(100);
    expect(clear?.value).toBeLessThanOrEqual(100);
    expect(clear?.at).toBeGreaterThan(T0 + 10 * HOUR_MS); // not during the six poor hours
    expect(state.levels.level).toBe(0);
  });

  it('the Huế rule clears once the index is moderate again', () => {
    const { transitions } = feed(VN_CATEGORY_RULE, pm25Hours([60, 60, 60, 30, 30, 30, 30, 30]));
    expect(transitions.map((t) => [t.type, t.severity, t.threshold])).toEqual([
      ['raise', 'warning', 101],
      ['clear', 'warning', 100],
    ]);
    expect(aqiCategoryOf('vn', transitions[1]?.value ?? NaN)).toBe('Moderate');
  });

  it('waits for the sustain: `for: 2h` raises two hours after the index first reached poor', () => {
    const r = rule({ index: 'vn', op: '>=', value: 'poor', for: '2h' });
    const { transitions } = feed(r, pm25Hours([60, 60, 60, 60, 60]));
    expect(transitions.map(brief)).toEqual([['raise', 'warning', 1, 101, 4 * 60 + 10]]);
    // Broken by two clean hours: the index is moderate from 04:10 (67) and poor again from 07:10 (101, the
    // NowCast catching up), so the run starts again there and the raise comes at 09:10.
    const broken = feed(r, pm25Hours([60, 60, 60, 10, 10, 60, 60, 60, 60, 60, 60]));
    expect(broken.transitions.map(brief)).toEqual([['raise', 'warning', 1, 101, 9 * 60 + 10]]);
  });

  it('a late reading steps nothing and keeps `last`, but counts in its hour', () => {
    const { state } = feed(VN_CATEGORY_RULE, pm25Hours([20, 20, 20, 20]));
    const late = aqiReading(VN_CATEGORY_RULE, state, reading(T0 + HOUR_MS + 20 * MIN, { pm25: 980 }), CTX);
    expect(late.transition).toBeUndefined();
    expect(late.state.last).toBe(state.last);
    expect(late.state.levels).toEqual(state.levels);
    const pm25 = late.state.station.hours.pm25;
    expect(pm25 && hourlyMeans(pm25, T0 + HOUR_MS, 1)[0]).toBeCloseTo((20 + 20 + 980) / 3, 9);
    // The index computed at 03:40 read that hour: it is dropped, and the next reading computes afresh.
    expect(state.cached?.hour).toBe(T0 + 3 * HOUR_MS);
    expect(late.state.cached).toBeUndefined();
    // The next reading in order sees the hour's new mean.
    const next = aqiReading(VN_CATEGORY_RULE, late.state, reading(T0 + 4 * HOUR_MS, { pm25: 20 }), CTX);
    expect(next.transition?.type).toBe('raise');
  });

  it('computes the index once an hour: the later readings of the hour step the levels with it', () => {
    const { state } = feed(VN_CATEGORY_RULE, pm25Hours([60, 60, 60]));
    // 02:40, the last reading fed: the index of 02:00–03:00, from the hours before it.
    expect(state.cached).toEqual({ index: 'vn', hour: T0 + 2 * HOUR_MS, aqi: 117 });
    const a = aqiReading(VN_CATEGORY_RULE, state, reading(T0 + 2 * HOUR_MS + 50 * MIN, { pm25: 300 }), CTX);
    expect(a.state.cached).toBe(state.cached);
    expect(a.state.station).not.toBe(state.station); // the 300 counts in its hour
    // The next hour's first reading brings that hour in: a new index.
    const b = aqiReading(VN_CATEGORY_RULE, a.state, reading(T0 + 3 * HOUR_MS, { pm25: 60 }), CTX);
    expect(b.state.cached).toEqual({
      index: 'vn',
      hour: T0 + 3 * HOUR_MS,
      aqi: stationVn(b.state.station, T0 + 3 * HOUR_MS)?.aqi,
    });
    expect(b.state.cached?.aqi).toBeGreaterThan(117);
  });

  it('restores a state saved before the cached index existed, and goes on as with it', () => {
    const readings = pm25Hours([60, 60, 100, 100, 100, 200, 200, 200, 200]);
    const first = feed(VN_CATEGORY_RULE, readings.slice(0, 7)); // up to 03:10
    const { cached, ...older } = first.state;
    expect(cached).toBeDefined();
    const restored = AqiState.parse(JSON.parse(JSON.stringify(older)));
    const rest = readings.slice(7);
    expect(feed(VN_CATEGORY_RULE, rest, restored).transitions).toEqual(
      feed(VN_CATEGORY_RULE, rest, first.state).transitions,
    );
    // A cached index of the other index (the rule changed from VN to US) is not used.
    const us = rule({ index: 'us', op: '>=', value: 'unhealthy_sensitive' });
    const next = aqiReading(us, first.state, readings[7]!, CTX).state;
    expect(next.cached?.index).toBe('us');
  });

  it('ignores a reading with none of the index pollutants, and one too old for the hours kept', () => {
    const { state } = feed(VN_CATEGORY_RULE, pm25Hours([60, 60, 60]));
    expect(
      aqiReading(VN_CATEGORY_RULE, state, reading(T0 + 3 * HOUR_MS, { temperature: 31 }), CTX).state,
    ).toBe(state);
    expect(aqiReading(VN_CATEGORY_RULE, state, reading(T0 - 20 * HOUR_MS, { pm25: 500 }), CTX).state).toBe(
      state,
    );
    const us = rule({ index: 'us', op: '>=', value: 'unhealthy' });
    expect(aqiReading(us, aqiInit(), reading(T0, { so2: 50, co: 800 }), CTX).state).toEqual(aqiInit());
  });

  it('evaluates the US index against US category keys', () => {
    // PM2.5 40 µg/m³: truncated 40.0 → 101 + 49/19.9·4.5 = 112 (unhealthy for sensitive groups).
    const r = rule({
      index: 'us',
      op: '>=',
      value: 'unhealthy_sensitive',
      escalate: [{ value: 'unhealthy', severity: 'critical' }],
    });
    const { transitions } = feed(r, pm25Hours([40, 40, 40]));
    expect(transitions.map((t) => [t.type, t.value, t.threshold])).toEqual([['raise', 112, 101]]);
    expect(aqiTemplateVars('us', 112)).toEqual({
      index: 'US AQI',
      category: 'Unhealthy for Sensitive Groups',
    });
  });

  it('names categories for messages, in Vietnamese where Decision 1459 gives the name', () => {
    expect(aqiTemplateVars('vn', 117)).toEqual({ index: 'VN_AQI', category: 'Poor' });
    expect(aqiCategoryOf('vn', 117, 'vi')).toBe('Kém');
    expect(aqiCategoryOf('vn', 500, 'vi')).toBe('Nguy hại');
    expect(aqiCategoryOf('us', 40, 'vi')).toBe('Good'); // the EPA's names are English only
  });

  it('keeps its state as plain JSON; the sustain survives a restart', () => {
    const r = rule({ index: 'vn', op: '>=', value: 'poor', for: '2h' });
    const first = feed(r, pm25Hours([60, 60, 60, 60]).slice(0, 6)); // up to 02:40
    const restored = AqiState.parse(JSON.parse(JSON.stringify(first.state)));
    expect(restored).toEqual(first.state);
    const rest = feed(r, pm25Hours([60, 60, 60, 60, 60]).slice(6), restored);
    expect(rest.transitions.map(brief)).toEqual([['raise', 'warning', 1, 101, 4 * 60 + 10]]);
  });
});

describe('aqiReading properties', () => {
  const step = fc.record({
    gapMin: fc.integer({ min: -90, max: 120 }),
    pm25: fc.double({ min: 0, max: 400, noNaN: true }),
    pm10: fc.option(fc.double({ min: 0, max: 700, noNaN: true }), { nil: undefined }),
  });

  it('the state always parses, and an open alert never clears while the index is still poor or worse', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 150 }), (steps) => {
        let state = aqiInit();
        let t = T0;
        let open = false;
        for (const s of steps) {
          t += s.gapMin * MIN;
          const fields: Reading['fields'] =
            s.pm10 === undefined ? { pm25: s.pm25 } : { pm25: s.pm25, pm10: s.pm10 };
          const before = state;
          const out = aqiReading(VN_CATEGORY_RULE, state, reading(t, fields), CTX);
          state = out.state;
          expect(AqiState.parse(JSON.parse(JSON.stringify(state)))).toEqual(state);
          // The cached index is never stale: it is the one the station's hours give for its hour.
          const cached = state.cached;
          if (cached !== undefined)
            expect(cached.aqi).toBe(stationVn(state.station, cached.hour)?.aqi ?? null);
          const tr = out.transition;
          if (before.last !== null && t < before.last) expect(tr).toBeUndefined();
          if (tr === undefined) continue;
          const index = stationVn(state.station, t)?.aqi;
          expect(tr.value).toBe(index);
          if (tr.type === 'clear') {
            expect(open).toBe(true);
            expect(tr.value).toBeLessThan(101);
            open = false;
          } else {
            expect(open).toBe(tr.type === 'escalate');
            expect(tr.value).toBeGreaterThanOrEqual(tr.threshold);
            open = true;
          }
        }
        expect(state.levels.level > 0).toBe(open);
      }),
    );
  });
});

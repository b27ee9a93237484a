import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KINDS } from './kinds.ts';
import { createTopics } from './topics.ts';

const topics = createTopics();
const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
const kind = fc.constantFrom(...KINDS);
const channel = fc.constantFrom('telemetry' as const, 'status' as const, 'commands' as const);

describe('topics', () => {
  it('builds the contract topics', () => {
    expect(topics.telemetry('flood', 'rg-kim-long')).toBe('city/flood/rg-kim-long/telemetry');
    expect(topics.status('air_quality', 'a1')).toBe('city/air_quality/a1/status');
    expect(topics.commands('streetlight', 's1')).toBe('city/streetlight/s1/commands');
    expect(topics.gatewayTelemetry('gw1')).toBe('city/gateway/gw1/telemetry');
    expect(topics.alert('flood', 'd', 'r.1')).toBe('city/alerts/flood/d/r.1');
    expect(topics.alertRequest('flood', 'd', 'r.1', 'raise')).toBe('city/alerts/flood/d/r.1/raise');
    expect(topics.alertRequest('air_quality', 'a1', 'r', 'clear')).toBe('city/alerts/air_quality/a1/r/clear');
    expect(topics.readings('flood', 'rg-kim-long')).toBe('city/readings/flood/rg-kim-long');
  });

  it('refuses to build a topic from an invalid id', () => {
    expect(() => topics.telemetry('flood', 'a/b')).toThrow();
    expect(() => topics.alert('flood', 'd', '#')).toThrow();
    expect(() => topics.alertRequest('flood', 'd', 'a/b', 'raise')).toThrow();
    expect(() => topics.readings('flood', '+')).toThrow();
  });

  it('parses what it builds (property)', () => {
    fc.assert(
      fc.property(kind, id, channel, (k, d, c) => {
        expect(topics.parse(topics[c](k, d))).toEqual({ type: 'device', kind: k, device: d, channel: c });
      }),
    );
    fc.assert(
      fc.property(kind, id, id, id, (k, d, r, g) => {
        expect(topics.parse(topics.alert(k, d, r))).toEqual({ type: 'alert', kind: k, device: d, rule: r });
        expect(topics.parse(topics.gatewayTelemetry(g))).toEqual({
          type: 'gateway',
          gateway: g,
          channel: 'telemetry',
        });
        expect(topics.parse(topics.readings(k, d))).toEqual({
          type: 'readings',
          kind: k,
          device: d,
          channel: 'readings',
        });
      }),
    );
    fc.assert(
      fc.property(kind, id, id, fc.constantFrom('raise' as const, 'clear' as const), (k, d, r, action) => {
        expect(topics.parse(topics.alertRequest(k, d, r, action))).toEqual({
          type: 'alert-request',
          kind: k,
          device: d,
          rule: r,
          channel: action,
        });
      }),
    );
  });

  it.each([
    'city/flood/+/telemetry',
    'city/flood/#',
    'city/+/d1/telemetry',
    'city/flood//telemetry',
    'city/flood/d1/telemetry/',
    'city/flood/d1/other',
    'city/lamp/d1/telemetry',
    'city/gateway/g1/status',
    'city/gateway/g1',
    'city/alerts/flood/d1',
    'city/alerts/flood/d1/r1/x',
    'city/alerts/flood/d1/r1/raise/x',
    'city/alerts/flood/d1/r1/Raise',
    'city/alerts/flood/d1/+/raise',
    'city/alerts/lamp/d1/r1/clear',
    'city/alerts/flood/-d1/r1/clear',
    'city/readings/flood',
    'city/readings/flood/d1/x',
    'city/readings/flood/+',
    'city/readings/lamp/d1',
    'city/readings/flood/d1/telemetry',
    'town/flood/d1/telemetry',
    'city',
    '',
    '/city/flood/d1/telemetry',
    'city/flood/-d1/telemetry',
  ])('rejects %j', (t) => {
    expect(topics.parse(t)).toBeUndefined();
  });

  it('never throws and never accepts wildcards or empty levels (property)', () => {
    const level = fc.oneof(
      fc.constantFrom('city', 'flood', 'gateway', 'alerts', 'telemetry', '+', '#', '', 'd1'),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(level, { maxLength: 6 }), (levels) => {
        const t = levels.join('/');
        const parsed = topics.parse(t);
        if (parsed !== undefined)
          expect(t.split('/').some((l) => l === '' || l === '+' || l === '#')).toBe(false);
      }),
    );
  });

  it.each([
    ['city/readings/flood/#', true],
    ['city/readings/flood/+', true],
    ['city/readings/flood/rg-kim-long', true],
    ['city/readings/flood/rg-kim-long/#', true], // `#` also matches its parent level (MQTT-4.7.1-2)
    ['city/readings/#', true],
    ['city/readings/+/d1', true],
    ['city/#', true],
    ['city/+/+/+', true],
    ['city/+/flood/+', true],
    ['#', true],
    ['+/readings/+/+', true],
    ['city/readings', false],
    ['city/readings/+', false],
    ['city/readings/flood/+/+', false],
    ['city/readings/lamp/#', false],
    ['city/readings/flood/-bad', false],
    ['city/+/+/telemetry', true], // a device may be named `telemetry`
    ['city/+/+/+/+', false],
    ['city/+/+', false],
    ['city/alerts/#', false],
    ['city/flood/#', false],
    ['town/#', false],
    ['city/readings/flood/d1/x', false],
  ])('a subscription to %j covers readings: %s', (filter, expected) => {
    expect(topics.coversReadings(filter)).toBe(expected);
  });

  it('a subscription covers readings exactly when it matches a readings topic (property)', () => {
    const literals = ['city', 'readings', 'flood', 'streetlight', 'd1', 'x'];
    const level = fc.constantFrom('+', ...literals);
    const filter = fc
      .tuple(fc.array(level, { minLength: 1, maxLength: 5 }), fc.boolean())
      .map(([levels, hash]) => [...levels, ...(hash ? ['#'] : [])].join('/'));
    const matches = (f: string, t: string) => {
      const fl = f.split('/');
      const tl = t.split('/');
      for (let i = 0; i < fl.length; i++) {
        if (fl[i] === '#') return true;
        if (i >= tl.length || (fl[i] !== '+' && fl[i] !== tl[i])) return false;
      }
      return fl.length === tl.length;
    };
    // A literal level can only match a readings topic whose device it names (every literal is an id).
    const candidates = KINDS.flatMap((k) => [...literals, 'other'].map((d) => topics.readings(k, d)));
    fc.assert(
      fc.property(filter, (f) => {
        expect(topics.coversReadings(f)).toBe(candidates.some((t) => matches(f, t)));
      }),
    );
  });

  it('a wildcard first level does not cover readings under a `$` prefix (MQTT-4.7.2-1)', () => {
    const t = createTopics('$city');
    expect(t.coversReadings('#')).toBe(false);
    expect(t.coversReadings('+/readings/flood/d1')).toBe(false);
    expect(t.coversReadings('$city/readings/#')).toBe(true);
  });

  it('uses a configurable, multi-level prefix', () => {
    const t = createTopics('acme/hue');
    expect(t.telemetry('flood', 'd1')).toBe('acme/hue/flood/d1/telemetry');
    expect(t.parse('acme/hue/flood/d1/telemetry')).toEqual({
      type: 'device',
      kind: 'flood',
      device: 'd1',
      channel: 'telemetry',
    });
    expect(t.parse('city/flood/d1/telemetry')).toBeUndefined();
    expect(t.readings('flood', 'd1')).toBe('acme/hue/readings/flood/d1');
    expect(t.coversReadings('acme/hue/readings/#')).toBe(true);
    expect(t.coversReadings('acme/+/readings/flood/d1')).toBe(true);
    expect(t.coversReadings('acme/readings/#')).toBe(false);
    expect(t.coversReadings('city/readings/#')).toBe(false);
    expect(() => createTopics('a/+')).toThrow();
    expect(() => createTopics('')).toThrow();
    expect(() => createTopics('a//b')).toThrow();
  });
});

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
  });

  it('refuses to build a topic from an invalid id', () => {
    expect(() => topics.telemetry('flood', 'a/b')).toThrow();
    expect(() => topics.alert('flood', 'd', '#')).toThrow();
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
    expect(() => createTopics('a/+')).toThrow();
    expect(() => createTopics('')).toThrow();
    expect(() => createTopics('a//b')).toThrow();
  });
});

// The topic ACL, decided from the principal and the parsed topic alone (README, "Topics and payloads": a
// device publishes only its own telemetry and status and subscribes only to its own commands; a gateway
// publishes for its registered children; service accounts subscribe read-only, and ask for alerts to be
// raised or cleared only when the registry allows it; alert transitions and decoded readings are the
// platform's alone).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTopics, DEVICE_ID_PATTERN, KINDS, type Kind } from '../devices/index.ts';
import { decidePublish, maySubscribe, type AclPrincipal } from './acl.ts';

const topics = createTopics('city');
const registered: Record<string, Kind> = {
  'aq-1': 'air_quality',
  'aq-2': 'air_quality',
  'lamp-1': 'streetlight',
  'lamp-2': 'streetlight',
  'lamp-far': 'streetlight',
};
const kindOf = (id: string): Kind | undefined => registered[id];

const device: AclPrincipal = { type: 'device', device: { id: 'aq-1', kind: 'air_quality' } };
const gateway: AclPrincipal = { type: 'gateway', gatewayId: 'gw-1', children: new Set(['lamp-1', 'lamp-2']) };
const reader: AclPrincipal = { type: 'service', id: 'svc', mayPublishAlerts: false };
const alerter: AclPrincipal = { type: 'service', id: 'rules', mayPublishAlerts: true };

const publish = (principal: AclPrincipal, topic: string) =>
  decidePublish(principal, topics.parse(topic), kindOf);
const subscribe = (principal: AclPrincipal, filter: string) =>
  maySubscribe(principal, filter, topics, kindOf);

describe('decidePublish', () => {
  it.each([
    ['its own telemetry', 'city/air_quality/aq-1/telemetry', { allow: true, route: 'telemetry' }],
    ['its own status', 'city/air_quality/aq-1/status', { allow: true, route: 'status' }],
    ['its own commands', 'city/air_quality/aq-1/commands', { allow: false }],
    ["another device's telemetry", 'city/air_quality/aq-2/telemetry', { allow: false }],
    ["another device's status", 'city/air_quality/aq-2/status', { allow: false }],
    ['its own id under the wrong kind', 'city/flood/aq-1/telemetry', { allow: false }],
    ['a gateway topic named after itself', 'city/gateway/aq-1/telemetry', { allow: false }],
    ['an alert about itself', 'city/alerts/air_quality/aq-1/pm25-high', { allow: false }],
    ['a raise request about itself', 'city/alerts/air_quality/aq-1/pm25-high/raise', { allow: false }],
    ['a clear request about itself', 'city/alerts/air_quality/aq-1/pm25-high/clear', { allow: false }],
    ['its own decoded readings', 'city/readings/air_quality/aq-1', { allow: false }],
    ['a topic outside the contract', 'city/air_quality/aq-1/telemetry/extra', { allow: false }],
    ['a topic under another prefix', 'town/air_quality/aq-1/telemetry', { allow: false }],
  ])('a device publishing on %s: %o', (_what, topic, expected) => {
    expect(publish(device, topic)).toEqual(expected);
  });

  it.each([
    ['its own SenML telemetry', 'city/gateway/gw-1/telemetry', { allow: true, route: 'gateway-telemetry' }],
    ["another gateway's telemetry", 'city/gateway/gw-2/telemetry', { allow: false }],
    ["a child's telemetry", 'city/streetlight/lamp-1/telemetry', { allow: true, route: 'telemetry' }],
    ["a child's status", 'city/streetlight/lamp-2/status', { allow: true, route: 'status' }],
    ["a child's commands", 'city/streetlight/lamp-1/commands', { allow: false }],
    ["a child's telemetry under the wrong kind", 'city/flood/lamp-1/telemetry', { allow: false }],
    ["a registered non-child's telemetry", 'city/streetlight/lamp-far/telemetry', { allow: false }],
    ["an unregistered device's telemetry", 'city/streetlight/lamp-9/telemetry', { allow: false }],
    ['an alert about a child', 'city/alerts/streetlight/lamp-1/lamp-out', { allow: false }],
    ['a raise request about a child', 'city/alerts/streetlight/lamp-1/lamp-out/raise', { allow: false }],
    ["a child's decoded readings", 'city/readings/streetlight/lamp-1', { allow: false }],
  ])('a gateway publishing on %s: %o', (_what, topic, expected) => {
    expect(publish(gateway, topic)).toEqual(expected);
  });

  it('a child listed by the gateway but unknown to the registry is refused', () => {
    const stale: AclPrincipal = { ...gateway, children: new Set(['lamp-gone']) };
    expect(publish(stale, 'city/streetlight/lamp-gone/telemetry')).toEqual({ allow: false });
  });

  it.each([
    ['telemetry', 'city/air_quality/aq-1/telemetry'],
    ['status', 'city/air_quality/aq-1/status'],
    ['commands', 'city/air_quality/aq-1/commands'],
    ['gateway telemetry', 'city/gateway/gw-1/telemetry'],
    ['decoded readings', 'city/readings/air_quality/aq-1'],
    ['an alert transition (only the platform does)', 'city/alerts/flood/kim-long/level-alarm-3'],
  ])('a service account never publishes %s, even one that may publish alerts', (_what, topic) => {
    expect(publish(reader, topic)).toEqual({ allow: false });
    expect(publish(alerter, topic)).toEqual({ allow: false });
  });

  it.each(['raise', 'clear'])(
    'a service account asks to %s an alert only when the registry allows it',
    (action) => {
      const request = `city/alerts/flood/kim-long/level-alarm-3/${action}`;
      expect(publish(alerter, request)).toEqual({ allow: true, route: 'alert-request' });
      expect(publish(reader, request)).toEqual({ allow: false });
    },
  );

  it.each([
    ['device', device],
    ['gateway', gateway],
    ['alerting service', alerter],
  ])('an unparsable (undefined) topic is refused for a %s', (_what, principal) => {
    expect(decidePublish(principal, undefined, kindOf)).toEqual({ allow: false });
  });

  it('a device is never allowed to publish on a topic naming another id', () => {
    const id = fc.stringMatching(DEVICE_ID_PATTERN);
    const kind = fc.constantFrom(...KINDS);
    const topic = (other: string) =>
      fc.oneof(
        fc
          .tuple(kind, fc.constantFrom('telemetry', 'status', 'commands'))
          .map(([k, channel]) => `city/${k}/${other}/${channel}`),
        fc.constant(topics.gatewayTelemetry(other)),
        fc.tuple(kind, id).map(([k, rule]) => topics.alert(k, other, rule)),
        fc
          .tuple(kind, id, fc.constantFrom('raise' as const, 'clear' as const))
          .map(([k, rule, action]) => topics.alertRequest(k, other, rule, action)),
        kind.map((k) => topics.readings(k, other)),
      );
    fc.assert(
      fc.property(
        id,
        kind,
        id.chain((other) => topic(other).map((t) => [other, t] as const)),
        (own, ownKind, [other, t]) => {
          fc.pre(own !== other);
          const principal: AclPrincipal = { type: 'device', device: { id: own, kind: ownKind } };
          // Every topic built here parses (the property is about the ACL, not the parser).
          expect(topics.parse(t)).toBeDefined();
          expect(decidePublish(principal, topics.parse(t), () => ownKind).allow).toBe(false);
        },
      ),
    );
  });
});

describe('maySubscribe', () => {
  it.each([
    ['its own commands', 'city/air_quality/aq-1/commands', true],
    ["another device's commands", 'city/air_quality/aq-2/commands', false],
    ['its own commands under the wrong kind', 'city/flood/aq-1/commands', false],
    ['its own telemetry', 'city/air_quality/aq-1/telemetry', false],
    ['a wildcard covering its own commands', 'city/+/aq-1/commands', false],
    ['every device’s commands', 'city/+/+/commands', false],
    ['the whole prefix', 'city/#', false],
    ['everything', '#', false],
    ['$SYS', '$SYS/#', false],
    ['decoded readings', 'city/readings/#', false],
    ['its own decoded readings', 'city/readings/air_quality/aq-1', false],
  ])('a device subscribing to %s: %s', (_what, filter, expected) => {
    expect(subscribe(device, filter)).toBe(expected);
  });

  it.each([
    ["a child's commands", 'city/streetlight/lamp-1/commands', true],
    ["a child's commands under the wrong kind", 'city/air_quality/lamp-1/commands', false],
    ["a non-child's commands", 'city/streetlight/lamp-far/commands', false],
    ["a child's telemetry", 'city/streetlight/lamp-1/telemetry', false],
    ['every commands topic', 'city/+/+/commands', false],
    ['a wildcard over one kind', 'city/streetlight/+/commands', false],
    ['the whole prefix', 'city/#', false],
    ['everything', '#', false],
    ['$SYS', '$SYS/#', false],
    ['decoded readings', 'city/readings/#', false],
    ["a child's decoded readings", 'city/readings/streetlight/lamp-1', false],
  ])('a gateway subscribing to %s: %s', (_what, filter, expected) => {
    expect(subscribe(gateway, filter)).toBe(expected);
  });

  it.each([
    ['the whole prefix', 'city/#', true],
    ['every status topic', 'city/+/+/status', true],
    ['one device’s telemetry', 'city/air_quality/aq-1/telemetry', true],
    ['alerts', 'city/alerts/#', true],
    ['decoded readings', 'city/readings/#', true],
    ['one kind’s decoded readings', 'city/readings/flood/+', true],
    ['one device’s commands under any kind (read-only)', 'city/+/aq-1/commands', true],
    ['everything', '#', false],
    ['every first level', '+/#', false],
    ['$SYS', '$SYS/#', false],
    ['another prefix', 'town/#', false],
    ['a prefix that merely starts the same', 'cityx/#', false],
  ])('a service account subscribing to %s: %s', (_what, filter, expected) => {
    expect(subscribe(reader, filter)).toBe(expected);
  });
});

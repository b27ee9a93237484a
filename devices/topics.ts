// Topic names of the public contract (ARCHITECTURE.md, "Topics"), built and parsed here and nowhere else.
//   <prefix>/<kind>/<deviceId>/telemetry|status|commands
//   <prefix>/gateway/<gatewayId>/telemetry
//   <prefix>/alerts/<kind>/<deviceId>/<ruleId>
// `parse` runs for every MQTT message: one split, set lookups, and one precompiled regex per id.
import { KINDS, type Kind } from './kinds.ts';
import { DEVICE_ID_PATTERN } from './schemas.ts';

export const DEFAULT_TOPIC_PREFIX = 'city';

export type DeviceChannel = 'telemetry' | 'status' | 'commands';

export type ParsedTopic =
  | { readonly type: 'device'; readonly kind: Kind; readonly device: string; readonly channel: DeviceChannel }
  | { readonly type: 'gateway'; readonly gateway: string; readonly channel: 'telemetry' }
  | { readonly type: 'alert'; readonly kind: Kind; readonly device: string; readonly rule: string };

export interface Topics {
  readonly prefix: string;
  telemetry(kind: Kind, deviceId: string): string;
  status(kind: Kind, deviceId: string): string;
  commands(kind: Kind, deviceId: string): string;
  gatewayTelemetry(gatewayId: string): string;
  alert(kind: Kind, deviceId: string, ruleId: string): string;
  /** The topic's meaning, or undefined for anything outside the contract (wildcards included). */
  parse(topic: string): ParsedTopic | undefined;
}

const KIND_SET: ReadonlySet<string> = new Set(KINDS);
const CHANNELS: ReadonlySet<string> = new Set(['telemetry', 'status', 'commands']);
const GATEWAY_LEVEL = 'gateway';
const ALERTS_LEVEL = 'alerts';

function isKind(s: string | undefined): s is Kind {
  return s !== undefined && KIND_SET.has(s);
}

function isChannel(s: string | undefined): s is DeviceChannel {
  return s !== undefined && CHANNELS.has(s);
}

function isId(s: string | undefined): s is string {
  return s !== undefined && DEVICE_ID_PATTERN.test(s);
}

function checkId(what: string, id: string): string {
  if (!DEVICE_ID_PATTERN.test(id))
    throw new TypeError(`invalid ${what} id for a topic: ${JSON.stringify(id)}`);
  return id;
}

/** Parses the levels after the prefix. Ids cannot contain `+`, `#` or `/`, so wildcards never parse. */
function parseLevels(l: string[]): ParsedTopic | undefined {
  const [first, second, third, fourth] = l;
  if (first === GATEWAY_LEVEL) {
    if (l.length === 3 && third === 'telemetry' && isId(second)) {
      return { type: 'gateway', gateway: second, channel: 'telemetry' };
    }
    return undefined;
  }
  if (first === ALERTS_LEVEL) {
    if (l.length === 4 && isKind(second) && isId(third) && isId(fourth)) {
      return { type: 'alert', kind: second, device: third, rule: fourth };
    }
    return undefined;
  }
  if (l.length === 3 && isKind(first) && isChannel(third) && isId(second)) {
    return { type: 'device', kind: first, device: second, channel: third };
  }
  return undefined;
}

export function createTopics(prefix: string = DEFAULT_TOPIC_PREFIX): Topics {
  // The prefix may span levels (`acme/city`) but may hold no wildcard and no empty level (MQTT-4.7.1).
  if (
    prefix === '' ||
    prefix.split('/').some((level) => level === '' || level.includes('+') || level.includes('#'))
  ) {
    throw new TypeError(`invalid topic prefix: ${JSON.stringify(prefix)}`);
  }
  const head = `${prefix}/`;
  const device = (channel: DeviceChannel) => (kind: Kind, id: string) =>
    `${head}${kind}/${checkId('device', id)}/${channel}`;
  return {
    prefix,
    telemetry: device('telemetry'),
    status: device('status'),
    commands: device('commands'),
    gatewayTelemetry: (id) => `${head}${GATEWAY_LEVEL}/${checkId('gateway', id)}/telemetry`,
    alert: (kind, id, ruleId) =>
      `${head}${ALERTS_LEVEL}/${kind}/${checkId('device', id)}/${checkId('rule', ruleId)}`,
    parse(topic) {
      if (!topic.startsWith(head)) return undefined;
      return parseLevels(topic.slice(head.length).split('/'));
    },
  };
}

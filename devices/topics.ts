// Topic names of the public contract (docs/architecture.md, "Topics"), built and parsed here and nowhere else.
//   <prefix>/<kind>/<deviceId>/telemetry|status|commands
//   <prefix>/<kind>/<deviceId>/commands/ack                 a device's answers to its commands
//   <prefix>/gateway/<gatewayId>/telemetry
//   <prefix>/alerts/<kind>/<deviceId>/<ruleId>              alert transitions (the platform publishes)
//   <prefix>/alerts/<kind>/<deviceId>/<ruleId>/raise|clear  alert requests from flows (service accounts)
//   <prefix>/readings/<kind>/<deviceId>                     decoded readings for flows (the platform)
//   <prefix>/notifications/<agencyId>                       an agency's notifications (the platform)
// `parse` runs for every MQTT message: one split, set lookups, and one precompiled regex per id.
import { KINDS, type Kind } from './kinds.ts';
import { DEVICE_ID_PATTERN } from './schemas.ts';

export const DEFAULT_TOPIC_PREFIX = 'city';

export type DeviceChannel = 'telemetry' | 'status' | 'commands';

/** What a status topic may carry (retained, and a device's last will): nothing else is forwarded. */
export const STATUS_PAYLOADS = ['online', 'offline'] as const;

/** Whether a payload is one of STATUS_PAYLOADS, exactly. */
export function isStatusPayload(payload: Buffer): boolean {
  return payload.length <= 7 && (STATUS_PAYLOADS as readonly string[]).includes(payload.toString('latin1'));
}

/** What a flow asks the platform to do with the alert of a (rule, device). */
export const ALERT_ACTIONS = ['raise', 'clear'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];

export type ParsedTopic =
  | { readonly type: 'device'; readonly kind: Kind; readonly device: string; readonly channel: DeviceChannel }
  | { readonly type: 'gateway'; readonly gateway: string; readonly channel: 'telemetry' }
  | { readonly type: 'command-ack'; readonly kind: Kind; readonly device: string; readonly channel: 'ack' }
  | { readonly type: 'alert'; readonly kind: Kind; readonly device: string; readonly rule: string }
  | AlertRequestTopic
  | { readonly type: 'readings'; readonly kind: Kind; readonly device: string; readonly channel: 'readings' };

/** `channel` is the last level, what the topic carries, as on device topics: here the action asked for. */
export interface AlertRequestTopic {
  readonly type: 'alert-request';
  readonly kind: Kind;
  readonly device: string;
  readonly rule: string;
  readonly channel: AlertAction;
}

export interface Topics {
  readonly prefix: string;
  telemetry(kind: Kind, deviceId: string): string;
  status(kind: Kind, deviceId: string): string;
  commands(kind: Kind, deviceId: string): string;
  /** Where a device (or its gateway) answers its commands. */
  commandAck(kind: Kind, deviceId: string): string;
  gatewayTelemetry(gatewayId: string): string;
  alert(kind: Kind, deviceId: string, ruleId: string): string;
  alertRequest(kind: Kind, deviceId: string, ruleId: string, action: AlertAction): string;
  readings(kind: Kind, deviceId: string): string;
  /** Where the platform publishes an agency's notifications (its MQTT receivers); no client may publish there. */
  notifications(agencyId: string): string;
  /** The topic's meaning, or undefined for anything outside the contract (wildcards included). */
  parse(topic: string): ParsedTopic | undefined;
  /** Whether a subscription with this filter receives some readings topic (MQTT-4.7 matching). */
  coversReadings(filter: string): boolean;
}

const KIND_SET: ReadonlySet<string> = new Set(KINDS);
const CHANNELS: ReadonlySet<string> = new Set(['telemetry', 'status', 'commands']);
const GATEWAY_LEVEL = 'gateway';
const ALERTS_LEVEL = 'alerts';
const READINGS_LEVEL = 'readings';
const ACTION_SET: ReadonlySet<string> = new Set(ALERT_ACTIONS);

function isKind(s: string | undefined): s is Kind {
  return s !== undefined && KIND_SET.has(s);
}

function isChannel(s: string | undefined): s is DeviceChannel {
  return s !== undefined && CHANNELS.has(s);
}

function isAction(s: string | undefined): s is AlertAction {
  return s !== undefined && ACTION_SET.has(s);
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
  const [first, second, third, fourth, fifth] = l;
  if (first === GATEWAY_LEVEL) {
    if (l.length === 3 && third === 'telemetry' && isId(second)) {
      return { type: 'gateway', gateway: second, channel: 'telemetry' };
    }
    return undefined;
  }
  if (first === ALERTS_LEVEL) {
    if (!isKind(second) || !isId(third) || !isId(fourth)) return undefined;
    if (l.length === 4) return { type: 'alert', kind: second, device: third, rule: fourth };
    if (l.length === 5 && isAction(fifth)) {
      return { type: 'alert-request', kind: second, device: third, rule: fourth, channel: fifth };
    }
    return undefined;
  }
  if (first === READINGS_LEVEL) {
    if (l.length === 3 && isKind(second) && isId(third)) {
      return { type: 'readings', kind: second, device: third, channel: 'readings' };
    }
    return undefined;
  }
  if (l.length === 3 && isKind(first) && isChannel(third) && isId(second)) {
    return { type: 'device', kind: first, device: second, channel: third };
  }
  if (l.length === 4 && third === 'commands' && fourth === 'ack' && isKind(first) && isId(second)) {
    return { type: 'command-ack', kind: first, device: second, channel: 'ack' };
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
  const prefixLevels = prefix.split('/');
  const alert = (kind: Kind, id: string, ruleId: string) =>
    `${head}${ALERTS_LEVEL}/${kind}/${checkId('device', id)}/${checkId('rule', ruleId)}`;
  const device = (channel: DeviceChannel) => (kind: Kind, id: string) =>
    `${head}${kind}/${checkId('device', id)}/${channel}`;
  return {
    prefix,
    telemetry: device('telemetry'),
    status: device('status'),
    commands: device('commands'),
    commandAck: (kind, id) => `${device('commands')(kind, id)}/ack`,
    gatewayTelemetry: (id) => `${head}${GATEWAY_LEVEL}/${checkId('gateway', id)}/telemetry`,
    alert,
    alertRequest: (kind, id, ruleId, action) => `${alert(kind, id, ruleId)}/${action}`,
    readings: (kind, id) => `${head}${READINGS_LEVEL}/${kind}/${checkId('device', id)}`,
    notifications: (agency) => `${head}notifications/${checkId('agency', agency)}`,
    parse(topic) {
      if (!topic.startsWith(head)) return undefined;
      return parseLevels(topic.slice(head.length).split('/'));
    },
    coversReadings: (filter) => filterCoversReadings(prefixLevels, filter.split('/')),
  };
}

/**
 * Whether the filter matches some `<prefix>/readings/<kind>/<id>`: level by level, `+` matches any one
 * level, `#` the rest including none (MQTT-4.7.1-2), a wildcard first level never matches a prefix that
 * starts with `$` (MQTT-4.7.2-1), and a literal must be the prefix's level, `readings`, a kind, an id.
 */
function filterCoversReadings(prefixLevels: readonly string[], f: readonly string[]): boolean {
  const n = prefixLevels.length;
  const levels = n + 3;
  if ((f[0] === '+' || f[0] === '#') && prefixLevels[0]!.startsWith('$')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return true;
    if (i >= levels) return false;
    if (level === '+') continue;
    if (i < n) {
      if (level !== prefixLevels[i]) return false;
    } else if (i === n) {
      if (level !== READINGS_LEVEL) return false;
    } else if (i === n + 1) {
      if (!isKind(level)) return false;
    } else if (!isId(level)) return false;
  }
  return f.length === levels;
}

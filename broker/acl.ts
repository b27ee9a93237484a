// Who may publish and subscribe where (docs/architecture.md, "MQTT credentials"). Pure: the broker asks, and
// these answer from the principal (made at CONNECT from the registry) and the parsed topic.
import type { Kind, ParsedTopic, Topics } from '../devices/index.ts';

/** What the ACL reads of who connected (the registry's Principal, of which this is a part). */
export type AclPrincipal =
  | { readonly type: 'device'; readonly device: { readonly id: string; readonly kind: Kind } }
  | { readonly type: 'gateway'; readonly gatewayId: string; readonly children: ReadonlySet<string> }
  | { readonly type: 'service'; readonly id: string; readonly mayPublishAlerts: boolean };

export type PublishDecision =
  | { readonly allow: false }
  | {
      readonly allow: true;
      readonly route: 'telemetry' | 'gateway-telemetry' | 'status' | 'alert-request' | 'command-ack';
    };

const DENY: PublishDecision = { allow: false };

/**
 * A device publishes only its own telemetry and status, and answers only on its own commands' ack topic
 * (the command service then checks that the command answered is this device's); a gateway its own SenML
 * telemetry and the telemetry, status and command answers of its registered children; a service account never publishes readings (it must
 * not impersonate a device) nor alert transitions (only the platform does, once the alert lifecycle has
 * run), and asks for alerts to be raised or cleared only when the registry allows it. Decoded readings
 * are the platform's alone to publish.
 */
export function decidePublish(
  principal: AclPrincipal,
  topic: ParsedTopic | undefined,
  kindOf: (deviceId: string) => Kind | undefined,
): PublishDecision {
  if (!topic) return DENY;
  switch (principal.type) {
    case 'device':
      if (topic.type === 'command-ack')
        return topic.device === principal.device.id && topic.kind === principal.device.kind
          ? { allow: true, route: 'command-ack' }
          : DENY;
      if (topic.type !== 'device' || topic.device !== principal.device.id) return DENY;
      if (topic.kind !== principal.device.kind) return DENY;
      return channelRoute(topic.channel);
    case 'gateway':
      if (topic.type === 'gateway') {
        return topic.gateway === principal.gatewayId ? { allow: true, route: 'gateway-telemetry' } : DENY;
      }
      if (topic.type === 'command-ack')
        return principal.children.has(topic.device) && kindOf(topic.device) === topic.kind
          ? { allow: true, route: 'command-ack' }
          : DENY;
      if (topic.type !== 'device' || !principal.children.has(topic.device)) return DENY;
      if (kindOf(topic.device) !== topic.kind) return DENY;
      return channelRoute(topic.channel);
    case 'service':
      return topic.type === 'alert-request' && principal.mayPublishAlerts
        ? { allow: true, route: 'alert-request' }
        : DENY;
  }
}

function channelRoute(channel: 'telemetry' | 'status' | 'commands'): PublishDecision {
  if (channel === 'telemetry') return { allow: true, route: 'telemetry' };
  if (channel === 'status') return { allow: true, route: 'status' };
  return DENY; // commands flow down to devices, never up from them
}

/**
 * A device subscribes only to its own commands; a gateway to its children's; a service account reads
 * anything under the prefix (telemetry, status, decoded readings, alerts) and nothing outside it, `$SYS`
 * included.
 */
export function maySubscribe(
  principal: AclPrincipal,
  filter: string,
  topics: Topics,
  kindOf: (deviceId: string) => Kind | undefined,
): boolean {
  switch (principal.type) {
    case 'device':
      return filter === topics.commands(principal.device.kind, principal.device.id);
    case 'gateway': {
      const parsed = topics.parse(filter);
      if (parsed?.type !== 'device' || parsed.channel !== 'commands') return false;
      return principal.children.has(parsed.device) && kindOf(parsed.device) === parsed.kind;
    }
    case 'service':
      return filter === `${topics.prefix}/#` || filter.startsWith(`${topics.prefix}/`);
  }
}

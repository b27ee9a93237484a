// Where alert changes go after the store: one line in InfluxDB's `alerts` measurement per transition
// (through the spool, so an InfluxDB outage loses none), and a retained JSON message on
// `city/alerts/<kind>/<device>/<rule>` for subscribers (operators' consoles, Node-RED).
// The measurement's tags and fields, and why they are what they are: measurements/alerts.ts.
import { type Topics } from '../devices/index.ts';
import { encodeLine, encodeTags, flatText } from '../influx/index.ts';
import type { AlertChange } from './types.ts';
import { type AlertField, ALERTS, type AlertTag, SEVERITY_RANK } from '../measurements/index.ts';

/** An owner agency's acknowledge target for a severity, ms; undefined when it has none. */
export type AckTarget = (owner: string, severity: AlertChange['alert']['severity']) => number | undefined;

export function alertEventLine({ alert, event }: AlertChange, ackTargetMs?: AckTarget): string {
  const tags = encodeTags({
    rule: alert.rule,
    kind: alert.kind,
    device: alert.device,
    district: alert.district,
    severity: event.severity,
    owner: alert.owner,
    event: event.type,
    source: alert.source,
  } satisfies Record<AlertTag, string>);
  const at = Date.parse(event.at);
  const fields: Partial<Record<AlertField, number | string>> = {
    alert_id: alert.id,
    state: event.state,
    open: event.state === 'resolved' ? 0 : 1,
    level: event.level,
    severity_rank: SEVERITY_RANK[event.severity],
    message: flatText(event.message),
  };
  if (event.value !== null) fields.value = event.value;
  if (event.threshold !== null) fields.threshold = event.threshold;
  if (event.by !== null) fields.by = flatText(event.by);
  if (event.note !== null) fields.note = flatText(event.note);
  if (event.type === 'acknowledged') {
    const ackMs = at - Date.parse(alert.raisedAt);
    fields.ack_ms = ackMs;
    const target = ackTargetMs?.(alert.owner, event.severity);
    if (target !== undefined) {
      fields.ack_target_ms = target;
      fields.ack_in_target = ackMs <= target ? 1 : 0;
    }
  }
  if (event.type === 'resolved') fields.resolve_ms = at - Date.parse(alert.raisedAt);
  return encodeLine(ALERTS.name, tags, fields, at) + '\n';
}

export interface AlertSinkDeps {
  readonly topics: Topics;
  /** The broker's platform publish (broker/index.ts). */
  readonly publish: (topic: string, payload: string, options: { qos: 1; retain: boolean }) => Promise<void>;
  /** Appends lines to the spool; `done` once durable (ingest/index.ts, Spool.append). */
  readonly append: (text: string, lines: number, done: (err?: Error) => void) => void;
  readonly onError: (what: 'influx' | 'mqtt', err: unknown, change: AlertChange) => void;
  /** The owner's acknowledge target, written with each acknowledgement. */
  readonly ackTargetMs?: AckTarget;
}

/** The alert service listener that writes each change to InfluxDB and publishes it on MQTT. */
export function createAlertSinks(deps: AlertSinkDeps): (change: AlertChange) => void {
  return (change) => {
    const { alert } = change;
    try {
      deps.append(alertEventLine(change, deps.ackTargetMs), 1, (err) => {
        if (err) deps.onError('influx', err, change);
      });
    } catch (err) {
      deps.onError('influx', err, change);
    }
    // Retained: a console that subscribes later sees each (rule, device)'s latest transition at once.
    const topic = deps.topics.alert(alert.kind, alert.device, alert.rule);
    deps.publish(topic, JSON.stringify(change), { qos: 1, retain: true }).catch((err: unknown) => {
      deps.onError('mqtt', err, change);
    });
  };
}

// Where alert changes go after the store: one line in InfluxDB's `alerts` measurement per transition
// (through the spool, so an InfluxDB outage loses none), and a retained JSON message on
// `city/alerts/<kind>/<device>/<rule>` for subscribers (operators' consoles, Node-RED).
//
// Tags are what Grafana groups by and all are bounded sets: rule, kind, device, district, severity,
// owner, the event type and the source. The alert id is a field: ids grow without bound. `open` is 1
// while the alert is open or acknowledged and 0 once resolved, so the last `open` of each (rule, device)
// summed is the number of open alerts; `severity_rank` repeats the severity as a number, which a query
// can filter on after `last()` (a tag it cannot: an escalated alert has events under two severities).
// `ack_ms` and `resolve_ms` carry the time to acknowledge and to resolve on the events that end those
// waits, for the dashboards' per-owner means.
import { MEASUREMENTS, type Topics } from '../../devices/index.ts';
import { encodeLine, encodeTags } from '../../influx/index.ts';
import type { AlertChange } from '../alerts/types.ts';
import type { Severity } from '../schema.ts';

// Line protocol cannot carry control characters in a string field (influx/line-protocol.ts): a note
// typed with line breaks is kept whole in the store and flattened here.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/g;
const flat = (s: string): string => s.replace(CONTROL, ' ');

/** The tags of the `alerts` measurement: what Grafana groups and filters alert events by. */
export const ALERT_TAGS = [
  'rule',
  'kind',
  'device',
  'district',
  'severity',
  'owner',
  'event',
  'source',
] as const;
export type AlertTag = (typeof ALERT_TAGS)[number];

export interface AlertFieldSpec {
  readonly type: 'number' | 'string';
  /** Grafana's unit id for panels showing this field. */
  readonly grafanaUnit: string;
  readonly description: string;
}

/** The fields of the `alerts` measurement, one line per transition (the dashboards read these names). */
export const ALERT_FIELDS = {
  alert_id: { type: 'number', grafanaUnit: 'none', description: 'The alert id (as in the API)' },
  state: {
    type: 'string',
    grafanaUnit: 'none',
    description: 'open, acknowledged or resolved after the event',
  },
  open: { type: 'number', grafanaUnit: 'none', description: '1 while open or acknowledged, 0 once resolved' },
  level: { type: 'number', grafanaUnit: 'none', description: 'The level reached (1-based)' },
  severity_rank: {
    type: 'number',
    grafanaUnit: 'none',
    description:
      'The severity after the event as a number (1 info, 2 warning, 3 critical): unlike the tag, it can be filtered on after `last()`',
  },
  message: { type: 'string', grafanaUnit: 'none', description: 'The rendered message' },
  value: { type: 'number', grafanaUnit: 'none', description: 'The value that triggered the event' },
  threshold: { type: 'number', grafanaUnit: 'none', description: 'The limit the value was held against' },
  by: { type: 'string', grafanaUnit: 'none', description: 'Who acknowledged or resolved' },
  note: { type: 'string', grafanaUnit: 'none', description: 'The note given with the event' },
  ack_ms: { type: 'number', grafanaUnit: 'ms', description: 'Time from raised to acknowledged' },
  resolve_ms: { type: 'number', grafanaUnit: 'ms', description: 'Time from raised to resolved' },
} as const satisfies Record<string, AlertFieldSpec>;
export type AlertField = keyof typeof ALERT_FIELDS;

/** `severity_rank` values. */
export const SEVERITY_RANK = { info: 1, warning: 2, critical: 3 } as const satisfies Record<Severity, number>;

export function alertEventLine({ alert, event }: AlertChange): string {
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
    message: flat(event.message),
  };
  if (event.value !== null) fields.value = event.value;
  if (event.threshold !== null) fields.threshold = event.threshold;
  if (event.by !== null) fields.by = flat(event.by);
  if (event.note !== null) fields.note = flat(event.note);
  if (event.type === 'acknowledged') fields.ack_ms = at - Date.parse(alert.raisedAt);
  if (event.type === 'resolved') fields.resolve_ms = at - Date.parse(alert.raisedAt);
  return encodeLine(MEASUREMENTS.alerts, tags, fields, at) + '\n';
}

export interface AlertSinkDeps {
  readonly topics: Topics;
  /** The broker's platform publish (broker/index.ts). */
  readonly publish: (topic: string, payload: string, options: { qos: 1; retain: boolean }) => Promise<void>;
  /** Appends lines to the spool; `done` once durable (ingest/index.ts, Spool.append). */
  readonly append: (text: string, lines: number, done: (err?: Error) => void) => void;
  readonly onError: (what: 'influx' | 'mqtt', err: unknown, change: AlertChange) => void;
}

/** The alert service listener that writes each change to InfluxDB and publishes it on MQTT. */
export function createAlertSinks(deps: AlertSinkDeps): (change: AlertChange) => void {
  return (change) => {
    const { alert } = change;
    try {
      deps.append(alertEventLine(change), 1, (err) => {
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

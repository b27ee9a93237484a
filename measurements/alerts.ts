// The `alerts` measurement: one line per alert transition (raised, updated, escalated, referred,
// acknowledged, resolved), written through the spool by the alert sinks (alerts/sinks.ts).
//
// Tags are what Grafana groups by and all are bounded sets: rule, kind, device, district, severity,
// owner, the event type and the source. The alert id is a field: ids grow without bound. `open` is 1
// while the alert is open or acknowledged and 0 once resolved, so the last `open` of each (rule, device)
// summed is the number of open alerts; `severity_rank` repeats the severity as a number, which a query
// can filter on after `last()` (a tag it cannot: an escalated alert has events under two severities).
// `ack_ms` and `resolve_ms` carry the time to acknowledge and to resolve on the events that end those
// waits, for the dashboards' per-owner means; an acknowledgement also carries its owner's target for the
// severity and whether it was met (`ack_target_ms`, `ack_in_target`), so the dashboard holds each agency
// to its own targets as they were then.
import { numberField, textField, type MeasurementSpec } from './spec.ts';

/** Alert severities, least severe first. */
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type SeverityName = (typeof SEVERITIES)[number];

/** The one ranking of severities, from 1 (info) to 3 (critical): stored as `severity_rank`, compared by
 * the alert store and the rule schema. */
export const SEVERITY_RANK = { info: 1, warning: 2, critical: 3 } as const satisfies Record<
  SeverityName,
  number
>;

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

const text = (description: string) => textField(description, 'none');

export const ALERT_FIELDS = {
  alert_id: numberField('', 'none', 'The alert id (as in the API)'),
  state: text('open, acknowledged or resolved after the event'),
  open: numberField('', 'none', '1 while open or acknowledged, 0 once resolved'),
  level: numberField('', 'none', 'The level reached (1-based)'),
  severity_rank: numberField(
    '',
    'none',
    'The severity after the event as a number (1 info, 2 warning, 3 critical): unlike the tag, it can be filtered on after `last()`',
  ),
  message: text('The rendered message'),
  value: numberField('', 'none', 'The value that triggered the event'),
  threshold: numberField('', 'none', 'The limit the value was held against'),
  by: text('Who acknowledged or resolved'),
  note: text('The note given with the event'),
  ack_ms: numberField('ms', 'ms', 'Time from raised to acknowledged'),
  resolve_ms: numberField('ms', 'ms', 'Time from raised to resolved'),
  ack_target_ms: numberField(
    'ms',
    'ms',
    "The owner agency's acknowledge target for the severity, when acknowledged",
  ),
  ack_in_target: numberField('', 'percentunit', '1 when acknowledged within its target, 0 when later'),
};
export type AlertField = keyof typeof ALERT_FIELDS;

export const ALERTS = {
  name: 'alerts',
  tags: ALERT_TAGS,
  fields: ALERT_FIELDS,
} as const satisfies MeasurementSpec;

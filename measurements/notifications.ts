// The `notifications` measurement: one line per delivery attempt of a notification (notify/delivery.ts),
// written through the spool by the platform, for the Alerts dashboard's deliveries and failures.
//
// Tags are bounded sets: the agency and its receiver, the receiver's type, and the outcome of the attempt:
// `delivered`, `retry` (failed, to be tried again after its backoff) or `dead` (failed for the last time).
// The delivery's id and key are fields: they grow without bound.
import { numberField, textField, type MeasurementSpec } from './spec.ts';

export const NOTIFICATION_OUTCOMES = ['delivered', 'retry', 'dead'] as const;
export type NotificationOutcome = (typeof NOTIFICATION_OUTCOMES)[number];

export const NOTIFICATION_TAGS = ['agency', 'receiver', 'type', 'outcome'] as const;
export type NotificationTag = (typeof NOTIFICATION_TAGS)[number];

export const NOTIFICATION_FIELDS = {
  delivery_id: numberField('', 'none', 'The delivery id (as in the API)'),
  attempt: numberField('', 'none', 'Which attempt of the delivery this was, from 1'),
  latency_ms: numberField('ms', 'ms', 'How long the receiver took to answer (or to fail)'),
  key: textField('The delivery key: what the receiver drops a repeat by', 'none'),
  detail: textField('What the receiver answered, or why the attempt failed', 'none'),
};
export type NotificationField = keyof typeof NOTIFICATION_FIELDS;

export const NOTIFICATIONS = {
  name: 'notifications',
  tags: NOTIFICATION_TAGS,
  fields: NOTIFICATION_FIELDS,
} as const satisfies MeasurementSpec;

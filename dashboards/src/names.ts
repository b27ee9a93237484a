// The names the dashboards query, taken from the definitions the writers use: a renamed field breaks
// the generator's compile, not a panel at 3 a.m.
import { FIELDS, type FieldName, type Kind } from '../../devices/index.ts';
import {
  ALERT_FIELDS,
  type AlertField,
  type NotificationField,
  type REGISTRY_FIELDS,
} from '../../measurements/index.ts';

/** A field of a kind's measurement, checked against `FIELDS`. */
export function field<K extends Kind>(_kind: K, name: FieldName<K>): string {
  return name;
}

/** A field ingest writes on a kind's readings from the registry (a limit), checked against `REGISTRY_FIELDS`. */
export function registryField<K extends Kind>(_kind: K, name: keyof (typeof REGISTRY_FIELDS)[K]): string {
  return name as string;
}

/** Grafana's unit of a kind's field. */
export function unitOf<K extends Kind>(kind: K, name: FieldName<K>): string {
  const specs: Readonly<Record<string, { grafanaUnit: string }>> = FIELDS[kind];
  return specs[name]!.grafanaUnit;
}

/** A field of the `alerts` measurement. */
export function alertField(name: AlertField): string {
  return name;
}

export function alertUnit(name: AlertField): string {
  return ALERT_FIELDS[name].grafanaUnit;
}

/** A field of the `notifications` measurement. */
export function notificationField(name: NotificationField): string {
  return name;
}

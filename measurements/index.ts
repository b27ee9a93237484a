// The InfluxDB schema's one public entry: every measurement the platform writes, with its tags and its
// fields' types and units. The bottom layer: every writer and the dashboards import it; it imports
// nothing of the project.
import { ALERTS } from './alerts.ts';
import { AQI } from './aqi.ts';
import { COMMANDS } from './commands.ts';
import { NOTIFICATIONS } from './notifications.ts';
import { HEALTH_MEASUREMENTS } from './platform.ts';
import { KINDS, type KindName } from './readings.ts';

export * from './alerts.ts';
export * from './aqi.ts';
export * from './commands.ts';
export * from './notifications.ts';
export * from './platform.ts';
export * from './readings.ts';
export * from './spec.ts';

/** Every measurement's name: one per kind of device, the alert events, the notifications' delivery
 * attempts, the air-quality indices and the platform's own. */
export const MEASUREMENTS = {
  ...(Object.fromEntries(KINDS.map((k) => [k, k])) as { readonly [K in KindName]: K }),
  alerts: ALERTS.name,
  aqi: AQI.name,
  commands: COMMANDS.name,
  notifications: NOTIFICATIONS.name,
  platform: HEALTH_MEASUREMENTS.platform.name,
  rejections: HEALTH_MEASUREMENTS.rejections.name,
  device_status: HEALTH_MEASUREMENTS.device_status.name,
} as const;

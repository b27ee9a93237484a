// Names of the measurements the platform writes about itself (platform/health-points.ts): its health
// every few seconds and each device's status every minute.
import { HEALTH_MEASUREMENTS } from '../../measurements/index.ts';

type Health = typeof HEALTH_MEASUREMENTS;
type FieldOf<M extends keyof Health> = keyof Health[M]['fields'] & string;

export const PLATFORM_MEASUREMENT = HEALTH_MEASUREMENTS.platform.name;
export const REJECTIONS_MEASUREMENT = HEALTH_MEASUREMENTS.rejections.name;
export const STATUS_MEASUREMENT = HEALTH_MEASUREMENTS.device_status.name;

export function platformField(name: FieldOf<'platform'>): string {
  return name;
}

export function platformUnit(name: FieldOf<'platform'>): string {
  const fields: Readonly<Record<string, { grafanaUnit: string }>> = HEALTH_MEASUREMENTS.platform.fields;
  return fields[name]!.grafanaUnit;
}

export function rejectionsField(name: FieldOf<'rejections'>): string {
  return name;
}

export function statusField(name: FieldOf<'device_status'>): string {
  return name;
}

export function statusTag(name: Health['device_status']['tags'][number]): string {
  return name;
}

export function rejectionsTag(name: Health['rejections']['tags'][number]): string {
  return name;
}

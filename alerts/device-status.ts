// A device's state as an operator reads it off the map and the dashboards: `alerting` while an alert of it
// is open (or acknowledged), `silent` when one of those is an absence rule's (it stopped reporting), `ok`
// otherwise. One definition for the `device_status` measurement and for GET /api/status/devices.
import { DEVICE_STATUSES, type DeviceStatusName } from '../measurements/index.ts';
import type { Alert } from './types.ts';

export interface DeviceAlertState {
  readonly status: DeviceStatusName;
  /** Its alerts open or acknowledged. */
  readonly open: number;
}

/** Each device's state from the open alerts and the ids of the absence rules. */
export function deviceAlertStates(
  openAlerts: ReadonlyArray<Pick<Alert, 'device' | 'rule'>>,
  silenceRules: ReadonlySet<string>,
): (device: string) => DeviceAlertState {
  const byDevice = new Map<string, { open: number; silent: boolean }>();
  for (const a of openAlerts) {
    const seen = byDevice.get(a.device) ?? { open: 0, silent: false };
    byDevice.set(a.device, { open: seen.open + 1, silent: seen.silent || silenceRules.has(a.rule) });
  }
  return (device) => {
    const a = byDevice.get(device);
    if (a === undefined) return { status: DEVICE_STATUSES[0], open: 0 };
    return { status: a.silent ? 'silent' : 'alerting', open: a.open };
  };
}

// The decoded readings the platform publishes for flows on `<prefix>/readings/<kind>/<deviceId>`: one
// message per reading, derived fields included, at QoS 0 and only while a service account subscribes.
import type { Logger } from 'pino';
import type { DeviceRecord, Reading, Topics } from '../devices/index.ts';

/** A decoded reading as flows receive it on `<prefix>/readings/<kind>/<deviceId>`. */
export interface FlowReading {
  readonly device: string;
  readonly kind: Reading['kind'];
  readonly district: string;
  /** RFC 3339, UTC. */
  readonly time: string;
  /** The kind's fields in their contract units (devices/kinds.ts). */
  readonly fields: Reading['fields'];
}

export function flowReading(reading: Reading, device: Pick<DeviceRecord, 'district'>): FlowReading {
  return {
    device: reading.device,
    kind: reading.kind,
    district: device.district,
    time: new Date(reading.time).toISOString(),
    fields: reading.fields,
  };
}

export interface FlowReadingsDeps {
  readonly topics: Topics;
  /** The broker's platform publish; readings go out at QoS 0, not retained. */
  readonly publish: (topic: string, payload: string) => Promise<void>;
  /** Fields the platform derives from the registry (a gauge's level from its distance and datum). */
  readonly derive: (reading: Reading, device: DeviceRecord) => Reading;
  readonly onPublished: (count: number) => void;
  readonly log: Logger;
}

/**
 * Publishes durable readings for flows, one message per reading (a gateway's pack gives one per child).
 * The caller calls it only while someone subscribes: the broker tracks that, so when nobody does, the
 * per-reading path pays one flag test and nothing else.
 */
export function createFlowReadings(
  deps: FlowReadingsDeps,
): (readings: readonly Reading[], device: DeviceRecord) => void {
  const { topics, log } = deps;
  const failed = (err: unknown) => log.warn({ err }, 'decoded reading not published');
  return (readings, device) => {
    for (const r of readings) {
      const payload = JSON.stringify(flowReading(deps.derive(r, device), device));
      deps.publish(topics.readings(r.kind, r.device), payload).catch(failed);
    }
    deps.onPublished(readings.length);
  };
}

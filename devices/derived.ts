// Fields a device does not send but its physics gives: a flood gauge's water level from the distance it
// measures and the datum it is mounted at (registry metadata).
import type { Reading } from './kinds.ts';
import type { DeviceRecord } from './schemas.ts';

/**
 * A radar or ultrasonic gauge reports the distance down to the water; the level is the gauge's datum
 * elevation minus that distance (docs/domain.md, "Flood"). Derived by ingest, where the registry's datum is known.
 */
export function withDerivedFields(reading: Reading, device: DeviceRecord): Reading {
  if (reading.kind !== 'flood') return reading;
  const distance = reading.fields.distance_m;
  const datum = (device.meta as { datum_m?: unknown }).datum_m;
  if (typeof distance !== 'number' || typeof datum !== 'number' || 'water_level_m' in reading.fields) {
    return reading;
  }
  const level = Math.round((datum - distance) * 1e4) / 1e4;
  return { ...reading, fields: { ...reading.fields, water_level_m: level } };
}

/**
 * The registry's facts written on each of a device's readings (REGISTRY_FIELDS): a river gauge's alarm
 * levels, a lamp's rated power and the power above which lamp-power-too-high fires. Empty for others.
 */
export function registryFields(device: DeviceRecord): Record<string, number> {
  if (device.kind === 'streetlight') {
    const { rated_w, tolerance_pct } = device.meta;
    return { rated_w, power_limit_w: Math.round(rated_w * (1 + tolerance_pct / 100) * 1e3) / 1e3 };
  }
  if (device.kind === 'flood' && device.meta.alarm_levels_m !== undefined) {
    const [alarm_1_m, alarm_2_m, alarm_3_m] = device.meta.alarm_levels_m;
    return { alarm_1_m, alarm_2_m, alarm_3_m };
  }
  return {};
}

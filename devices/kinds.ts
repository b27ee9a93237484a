// The three kinds of device, their fields, units and physical ranges: the one definition that the payload
// schemas, the InfluxDB line encoder, the API and the Grafana dashboards all read, so they cannot drift.
import { z } from 'zod';

export const KINDS = ['air_quality', 'flood', 'streetlight'] as const;
export const Kind = z.enum(KINDS);
export type Kind = z.infer<typeof Kind>;

export interface FieldSpec {
  /** `number` fields are stored as InfluxDB floats, `boolean` as booleans. */
  readonly type: 'number' | 'boolean';
  /** The fixed unit of the field in the public contract (ARCHITECTURE.md, "Payloads"). */
  readonly unit: string;
  /** Grafana's unit id for panels showing this field (`suffix: m` where Grafana's SI unit would turn
   * 0.85 m into 850 mm next to alarm levels in metres). */
  readonly grafanaUnit: string;
  /** Physically possible range; a value outside it is rejected as `INGEST_ERR_RANGE`. */
  readonly min?: number;
  readonly max?: number;
  /** SenML units (RFC 8428 §12.1, RFC 8798) accepted for this field, with the factor to the contract unit. */
  readonly senml: Readonly<Record<string, number>>;
  readonly description: string;
}

const num = (
  unit: string,
  grafanaUnit: string,
  min: number,
  max: number,
  senml: Record<string, number>,
  description: string,
): FieldSpec => ({ type: 'number', unit, grafanaUnit, min, max, senml, description });

// Ranges are what a working sensor can physically report, wide enough never to reject a real extreme
// (Huế's 96 mm in one hour, Kim Long's 5.81 m record) and narrow enough to catch a unit mistake
// (CO in mg/m³ instead of µg/m³ still passes; 10⁶ does not).
export const FIELDS = {
  air_quality: {
    pm25: num('µg/m³', 'conμgm3', 0, 1000, { 'ug/m3': 1 }, 'PM2.5 mass concentration'),
    pm10: num('µg/m³', 'conμgm3', 0, 2000, { 'ug/m3': 1 }, 'PM10 mass concentration'),
    no2: num('µg/m³', 'conμgm3', 0, 10_000, { 'ug/m3': 1 }, 'Nitrogen dioxide'),
    o3: num('µg/m³', 'conμgm3', 0, 5_000, { 'ug/m3': 1 }, 'Ozone'),
    so2: num('µg/m³', 'conμgm3', 0, 10_000, { 'ug/m3': 1 }, 'Sulphur dioxide'),
    // CO in µg/m³, as VN_AQI's breakpoints are (Decision 1459); 200 000 µg/m³ is far past its top row.
    co: num('µg/m³', 'conμgm3', 0, 200_000, { 'ug/m3': 1 }, 'Carbon monoxide'),
    temperature: num('°C', 'celsius', -40, 70, { Cel: 1 }, 'Air temperature'),
    humidity: num('%RH', 'humidity', 0, 100, { '%RH': 1 }, 'Relative humidity'),
  },
  flood: {
    water_level_m: num('m', 'suffix: m', -20, 50, { m: 1 }, 'Water level above the gauge datum'),
    distance_m: num('m', 'suffix: m', 0, 100, { m: 1 }, 'Distance from the gauge down to the water'),
    rain_mm: num('mm', 'lengthmm', 0, 500, { mm: 1, m: 1000 }, 'Rain since the previous report'),
    battery_v: num('V', 'volt', 0, 60, { V: 1 }, 'Battery voltage'),
  },
  streetlight: {
    lamp_on: {
      type: 'boolean',
      unit: '',
      grafanaUnit: 'bool_on_off',
      senml: { '': 1 },
      description: 'Lamp switched on',
    },
    dim_pct: num('%', 'percent', 0, 100, { '%': 1 }, 'Dimming level (TALQ actualLightState)'),
    power_w: num('W', 'watt', 0, 5_000, { W: 1 }, 'Active power'),
    voltage_v: num('V', 'volt', 0, 500, { V: 1 }, 'Supply voltage'),
    current_a: num('A', 'amp', 0, 50, { A: 1 }, 'Supply current'),
    energy_kwh: num('kWh', 'kwatth', 0, 1e9, { kWh: 1, 'kW.h': 1, J: 1 / 3.6e6 }, 'Cumulative active energy'),
    power_factor: num('', 'none', 0, 1, { '/': 1, '': 1 }, 'Power factor'),
  },
} as const satisfies Record<Kind, Record<string, FieldSpec>>;

export type FieldName<K extends Kind> = keyof (typeof FIELDS)[K] & string;
export type FieldValue = number | boolean;

/** A reading in canonical form: one device, one instant, the kind's fields in their contract units. */
export interface Reading {
  readonly kind: Kind;
  readonly device: string;
  /** Milliseconds since the Unix epoch. */
  readonly time: number;
  readonly fields: Readonly<Record<string, FieldValue>>;
}

/** Fields of which a reading must carry at least one (ARCHITECTURE.md, "Payloads"). */
export const REQUIRED_ONE_OF: Readonly<Record<Kind, readonly string[]>> = {
  air_quality: ['pm25', 'pm10'],
  flood: ['water_level_m', 'distance_m', 'rain_mm'],
  streetlight: Object.keys(FIELDS.streetlight),
};

/** InfluxDB names: one measurement per kind, the alert transitions in their own. */
export const MEASUREMENTS = { ...Object.fromEntries(KINDS.map((k) => [k, k])), alerts: 'alerts' } as {
  readonly [K in Kind]: K;
} & { readonly alerts: 'alerts' };

/** Tags written on every reading: bounded sets that dashboards group and filter by. */
export const TAGS = { device: 'device', district: 'district', gateway: 'gateway' } as const;

export function fieldSpec(kind: Kind, field: string): FieldSpec | undefined {
  const fields: Readonly<Record<string, FieldSpec>> = FIELDS[kind];
  return Object.hasOwn(fields, field) ? fields[field] : undefined;
}

export function fieldNames(kind: Kind): string[] {
  return Object.keys(FIELDS[kind]);
}

// The three kinds of device and the fields of their readings, with units and physical ranges: the one
// definition that the payload schemas, the line encoder, the API and the dashboards read. One measurement
// per kind, named as the kind.
import { numberField, type FieldSpec } from './spec.ts';

export const KINDS = ['air_quality', 'flood', 'streetlight'] as const;
export type KindName = (typeof KINDS)[number];

/** A reading's field: a number or boolean with the SenML units (RFC 8428 §12.1, RFC 8798) accepted for
 * it, each with the factor to the contract unit. */
export interface ReadingFieldSpec extends FieldSpec {
  readonly type: 'number' | 'boolean';
  readonly senml: Readonly<Record<string, number>>;
}

const num = (
  unit: string,
  grafanaUnit: string,
  min: number,
  max: number,
  senml: Record<string, number>,
  description: string,
): ReadingFieldSpec => ({ type: 'number', unit, grafanaUnit, min, max, senml, description });

// Ranges are what a working sensor can physically report, wide enough never to refuse a real extreme
// (Huế's 96 mm in one hour, Kim Long's 5.81 m record: docs/domain.md, "Flood") and narrow enough to catch
// a unit mistake (CO in mg/m³ instead of µg/m³ still passes; 10⁶ does not).
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
} as const satisfies Record<KindName, Record<string, ReadingFieldSpec>>;

/**
 * Fields ingest adds to a reading from its device's registry record; a device cannot send them (they are
 * not among its kind's `FIELDS`). They are the limits the dashboards draw beside the readings, as they
 * stood when each reading was stored, so a panel's limits follow the registry without regenerating it.
 * A river gauge carries its alarm levels, a lamp its rated power and the power above which the rule
 * lamp-power-too-high fires (rated × (1 + tolerance)).
 */
export const REGISTRY_FIELDS = {
  air_quality: {},
  flood: {
    alarm_1_m: numberField('m', 'suffix: m', 'Alarm level 1 (BĐ1) of the river gauge, from the registry'),
    alarm_2_m: numberField('m', 'suffix: m', 'Alarm level 2 (BĐ2) of the river gauge, from the registry'),
    alarm_3_m: numberField('m', 'suffix: m', 'Alarm level 3 (BĐ3) of the river gauge, from the registry'),
  },
  streetlight: {
    rated_w: numberField('W', 'watt', 'Rated power of the lamp, from the registry'),
    power_limit_w: numberField('W', 'watt', 'Rated power plus the tolerance, from the registry'),
  },
} as const satisfies Record<KindName, Record<string, FieldSpec>>;

/**
 * Tags written on readings: bounded sets that dashboards group and filter by. `device`, `district` and
 * `gateway` (when it has one) on every reading; from the registry's metadata, `street` on a streetlight's,
 * `gauge` (river, street or rain) and `station` and `river` (when set) on a flood gauge's, so panels
 * grouped by them follow the registry without being regenerated.
 */
export const TAGS = {
  device: 'device',
  district: 'district',
  gateway: 'gateway',
  street: 'street',
  gauge: 'gauge',
  station: 'station',
  river: 'river',
} as const;

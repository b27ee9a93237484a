// The three kinds of device and the canonical reading. The kinds' fields, units and physical ranges are
// defined with the InfluxDB schema (measurements/readings.ts), the one definition that the payload
// schemas, the line encoder, the API and the dashboards all read, so they cannot drift.
import { z } from 'zod';
import { FIELDS, KINDS, type ReadingFieldSpec } from '../measurements/index.ts';

export { FIELDS, KINDS };
export type { ReadingFieldSpec as FieldSpec } from '../measurements/index.ts';

export const Kind = z.enum(KINDS);
export type Kind = z.infer<typeof Kind>;

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

/** Fields of which a reading must carry at least one (docs/architecture.md, "Payloads"). */
export const REQUIRED_ONE_OF: Readonly<Record<Kind, readonly string[]>> = {
  air_quality: ['pm25', 'pm10'],
  flood: ['water_level_m', 'distance_m', 'rain_mm'],
  streetlight: Object.keys(FIELDS.streetlight),
};

export function fieldSpec(kind: Kind, field: string): ReadingFieldSpec | undefined {
  const fields: Readonly<Record<string, ReadingFieldSpec>> = FIELDS[kind];
  return Object.hasOwn(fields, field) ? fields[field] : undefined;
}

export function fieldNames(kind: Kind): string[] {
  return Object.keys(FIELDS[kind]);
}

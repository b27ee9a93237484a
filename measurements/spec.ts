// What every measurement the platform writes to InfluxDB is made of: its name, its tags and its fields,
// each field with its type and unit. The writers build their lines from these specs and the dashboards
// their queries, so a renamed field breaks the compile of both instead of an empty panel.
//
// Tags are what a panel groups or filters by, and every tag's values are a bounded set (device ids,
// districts, reason codes); ids that grow without bound (alert ids, message ids) are fields.

export interface FieldSpec {
  /** `number` fields are stored as InfluxDB floats (counts too), `boolean` as booleans, `string` as strings. */
  readonly type: 'number' | 'boolean' | 'string';
  /** The field's fixed unit ('' for none): the public contract's unit for readings (docs/architecture.md). */
  readonly unit: string;
  /** Grafana's unit id for panels showing the field (`suffix: m` where Grafana's SI unit would turn 0.85 m
   * into 850 mm next to alarm levels in metres). */
  readonly grafanaUnit: string;
  readonly description: string;
  /** Physically possible range of a reading's field; a value outside it is refused as `INGEST_ERR_RANGE`. */
  readonly min?: number;
  readonly max?: number;
}

export interface MeasurementSpec {
  readonly name: string;
  readonly tags: readonly string[];
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

// The builders keep each field's literal `type`, which decides the value type a line builder accepts.
export const numberField = (unit: string, grafanaUnit: string, description: string) => ({
  type: 'number' as const,
  unit,
  grafanaUnit,
  description,
});

export const textField = (description: string, grafanaUnit = 'string') => ({
  type: 'string' as const,
  unit: '',
  grafanaUnit,
  description,
});

/** The value a line carries for a field of the given spec. */
export type FieldValueOf<F> = F extends { readonly type: 'string' }
  ? string
  : F extends { readonly type: 'boolean' }
    ? boolean
    : number;

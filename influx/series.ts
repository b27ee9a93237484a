// What a query answers: InfluxDB's v1 JSON result, one series per measurement and tag set.

export type InfluxValue = string | number | boolean | null;

/** One series of a statement's result, as InfluxDB's JSON returns it. */
export interface Series {
  readonly name: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly columns: readonly string[];
  readonly values: readonly (readonly InfluxValue[])[];
}

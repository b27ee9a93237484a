// Reading queries for the API: which fields a request may name, the InfluxQL for each question (built only
// through influx/'s builders), and InfluxDB's series turned into the API's shapes.
import { z } from 'zod';
import { fieldNames, fieldSpec, type Kind } from '../devices/index.ts';
import {
  selectHistory,
  selectLast,
  selectRaw,
  whereTags,
  type InfluxClient,
  type Series,
} from '../influx/index.ts';
import { ApiError } from './errors.ts';
import type { TimeRange } from './time-range.ts';
import { MEASUREMENTS, TAGS } from '../measurements/index.ts';

export const FieldValue = z.union([z.number(), z.boolean(), z.null()]);
export type FieldValue = z.infer<typeof FieldValue>;

export const Point = z.object({
  time: z.iso.datetime().describe('RFC 3339, UTC'),
  values: z
    .record(z.string(), FieldValue)
    .describe('field name → value; null where the field was not reported'),
});
export type Point = z.infer<typeof Point>;

/**
 * The fields a request names (`fields=pm25,pm10`), checked against the kind; all of them when none is
 * named. With `every`, means are asked for, so only numeric fields qualify (InfluxQL has no mean of a
 * boolean): asked for by name that is a 400, by default they are left out.
 */
export function resolveFields(
  kind: Kind,
  requested: readonly string[] | undefined,
  numericOnly: boolean,
): string[] {
  if (requested === undefined || requested.length === 0) {
    return fieldNames(kind).filter((f) => !numericOnly || fieldSpec(kind, f)?.type === 'number');
  }
  const unknown = requested.filter((f) => fieldSpec(kind, f) === undefined);
  if (unknown.length > 0) {
    throw new ApiError('API_ERR_UNKNOWN_FIELD', `${unknown.join(', ')}: not a field of ${kind}`, {
      details: { unknown, fields: fieldNames(kind) },
    });
  }
  const booleans = requested.filter((f) => fieldSpec(kind, f)?.type !== 'number');
  if (numericOnly && booleans.length > 0) {
    throw new ApiError('API_ERR_UNKNOWN_FIELD', `${booleans.join(', ')}: not numeric, so it has no mean`, {
      details: { unknown: booleans, fields: fieldNames(kind) },
    });
  }
  return [...new Set(requested)];
}

/** `fields=pm25, pm10` → ['pm25', 'pm10']; empty entries dropped. */
export function splitFields(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  return list.length === 0 ? undefined : list;
}

function cell(value: unknown): FieldValue {
  return typeof value === 'number' || typeof value === 'boolean' ? value : null;
}

/** Rows of one series as points; `time` must be epoch ms (queries run with epoch=ms). */
export function seriesPoints(series: Series, fields: readonly string[]): Point[] {
  const timeAt = series.columns.indexOf('time');
  const at = fields.map((f) => [f, series.columns.indexOf(f)] as const);
  const points: Point[] = [];
  for (const row of series.values) {
    const time = row[timeAt];
    if (typeof time !== 'number') continue;
    const values: Record<string, FieldValue> = {};
    for (const [f, i] of at) values[f] = i < 0 ? null : cell(row[i]);
    points.push({ time: new Date(time).toISOString(), values });
  }
  return points;
}

export const LatestField = z.object({
  value: z.union([z.number(), z.boolean()]),
  time: z.iso.datetime(),
  unit: z.string().describe("the field's fixed unit ('' for none): µg/m³, m, mm, W…"),
});
export type LatestField = z.infer<typeof LatestField>;

/**
 * The last value of each field of one device, each with its own time. One statement per field: a row
 * query over all fields returns only the newest row, where a field the device reports less often is null.
 */
export async function latestOfDevice(
  influx: Pick<InfluxClient, 'query'>,
  device: { id: string; kind: Kind },
): Promise<Record<string, LatestField>> {
  const where = whereTags({ [TAGS.device]: device.id });
  const fields = fieldNames(device.kind);
  const answers = await Promise.all(
    fields.map((field) =>
      influx.query(selectLast({ measurement: MEASUREMENTS[device.kind], fields: [field], where }), {
        epoch: 'ms',
      }),
    ),
  );
  const latest: Record<string, LatestField> = {};
  answers.forEach((statements, i) => {
    const field = fields[i] ?? '';
    const series = statements[0]?.[0];
    const point = series === undefined ? undefined : seriesPoints(series, [field])[0];
    const value = point?.values[field];
    if (point !== undefined && value !== undefined && value !== null)
      latest[field] = { value, time: point.time, unit: fieldSpec(device.kind, field)?.unit ?? '' };
  });
  return latest;
}

/** The newest row of each listed device of a kind, keyed by device id. */
export async function latestByDevice(
  influx: Pick<InfluxClient, 'query'>,
  kind: Kind,
  devices: readonly string[] | undefined,
): Promise<Map<string, Point>> {
  const fields = fieldNames(kind);
  const where = devices === undefined ? undefined : whereTags({ [TAGS.device]: devices });
  const q = selectLast({ measurement: MEASUREMENTS[kind], fields, where, groupBy: [TAGS.device] });
  const [statement = []] = await influx.query(q, { epoch: 'ms' });
  const byDevice = new Map<string, Point>();
  for (const series of statement) {
    const id = series.tags?.[TAGS.device];
    const point = seriesPoints(series, fields)[0];
    if (id !== undefined && point !== undefined) byDevice.set(id, point);
  }
  return byDevice;
}

/** Means of `fields` per `every` bucket over the range; empty buckets are left out. */
export async function bucketMeans(
  influx: Pick<InfluxClient, 'query'>,
  device: { id: string; kind: Kind },
  fields: readonly string[],
  range: TimeRange,
  every: string,
): Promise<Point[]> {
  const q = selectHistory({
    measurement: MEASUREMENTS[device.kind],
    fields,
    device: device.id,
    from: range.from,
    to: range.to,
    every,
    fn: 'mean',
  });
  const [statement = []] = await influx.query(q, { epoch: 'ms' });
  return statement.flatMap((series) => seriesPoints(series, fields));
}

/** Raw points of `fields` in the range, oldest first, at most `limit`. */
export async function rawPoints(
  influx: Pick<InfluxClient, 'query'>,
  device: { id: string; kind: Kind },
  fields: readonly string[],
  range: TimeRange,
  limit: number,
): Promise<Point[]> {
  const q = selectRaw({
    measurement: MEASUREMENTS[device.kind],
    fields,
    device: device.id,
    from: range.from,
    to: range.to,
    limit,
  });
  const [statement = []] = await influx.query(q, { epoch: 'ms' });
  return statement.flatMap((series) => seriesPoints(series, fields));
}

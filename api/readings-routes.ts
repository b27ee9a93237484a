// Readings from InfluxDB: the latest of one device, the latest of every device of a kind, and the history
// of one device (bucket means with `every`, raw points without). Device ids, kinds and districts are taken
// from the registry; field names are checked against the kind; every query is built by influx/'s builders.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Kind, type DeviceRecord } from '../devices/index.ts';
import { DeviceIdParam } from './devices-routes.ts';
import { ApiError } from './errors.ts';
import {
  bucketMeans,
  latestByDevice,
  latestOfDevice,
  LatestField,
  Point,
  rawPoints,
  resolveFields,
  splitFields,
} from './readings.ts';
import { AUTH_ERRORS, BEARER, errorResponses, wholeNumber, type RouteDeps } from './route-kit.ts';
import { checkBuckets, Every, rangeQuery, resolveRange } from './time-range.ts';

/** Raw points per answer unless `limit` says otherwise, and the most it may say. */
export const DEFAULT_RAW_LIMIT = 1_000;
export const MAX_RAW_LIMIT = 10_000;

const Fields = z
  .string()
  .max(1000)
  .optional()
  .describe("comma-separated field names of the device's kind; all when omitted");

const historyQuery = (clock: () => number) =>
  z.object({
    ...rangeQuery(clock, {
      from: 'start, inclusive; default `to` minus 24 h',
      to: 'end, exclusive; default now',
    }),
    every: Every.optional(),
    fields: Fields,
    limit: wholeNumber(1, MAX_RAW_LIMIT)
      .default(DEFAULT_RAW_LIMIT)
      .describe('raw points only: the most returned, oldest first'),
  });

const History = z.object({
  device: z.string(),
  kind: Kind,
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  every: z.string().optional().describe('present when the points are means per bucket'),
  fields: z.array(z.string()),
  points: z.array(Point),
  truncated: z.boolean().describe('raw points: `limit` was reached; ask again from the last time + 1 ms'),
});

const DeviceLatest = z.object({
  device: z.string(),
  kind: Kind,
  fields: z.record(z.string(), LatestField).describe('field → its last value and the time it was reported'),
});

const KindLatestQuery = z.object({ kind: Kind, district: z.string().min(1).max(100).optional() });

const KindLatest = z.object({
  kind: Kind,
  devices: z.array(
    z.object({
      device: z.string(),
      name: z.string(),
      district: z.string(),
      time: z.iso.datetime().nullable().describe('time of the newest reading; null if none was stored'),
      values: Point.shape.values,
    }),
  ),
});

const READ_ERRORS = [...AUTH_ERRORS, 'API_ERR_INFLUX_UNAVAILABLE'] as const;

export function readingsRoutes(deps: RouteDeps): FastifyPluginAsyncZod {
  const { auth, registry, influx } = deps;
  const tags = ['readings'];
  const HistoryQuery = historyQuery(deps.clock);

  function device(id: string): DeviceRecord {
    const found = registry.getDevice(id);
    if (found === undefined) throw new ApiError('API_ERR_NOT_FOUND', `no device ${JSON.stringify(id)}`);
    return found;
  }

  return (app) => {
    app.get('/devices/:id/readings/latest', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'The last value of each field of a device',
        security: BEARER,
        params: DeviceIdParam,
        response: { 200: DeviceLatest, ...errorResponses(...READ_ERRORS, 'API_ERR_NOT_FOUND') },
      },
      handler: async (request) => {
        const d = device(request.params.id);
        return { device: d.id, kind: d.kind, fields: await latestOfDevice(influx, d) };
      },
    });

    app.get('/readings/latest', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'The newest reading of every active device of a kind, optionally in one district',
        security: BEARER,
        querystring: KindLatestQuery,
        response: { 200: KindLatest, ...errorResponses(...READ_ERRORS) },
      },
      handler: async (request) => {
        const { kind, district } = request.query;
        // The registry says which devices are in the district now; the district tag on stored points is
        // what it was when they were written.
        const devices = registry.listDevices({ kind, district });
        if (devices.length === 0) return { kind, devices: [] };
        const ids = district === undefined ? undefined : devices.map((d) => d.id);
        const latest = await latestByDevice(influx, kind, ids);
        return {
          kind,
          devices: devices.map((d) => {
            const point = latest.get(d.id);
            return {
              device: d.id,
              name: d.name,
              district: d.district,
              time: point?.time ?? null,
              values: point?.values ?? {},
            };
          }),
        };
      },
    });

    app.get('/devices/:id/readings', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'History of a device: means per `every` bucket, or raw points without `every`',
        security: BEARER,
        params: DeviceIdParam,
        querystring: HistoryQuery,
        response: {
          200: History,
          ...errorResponses(
            ...READ_ERRORS,
            'API_ERR_NOT_FOUND',
            'API_ERR_UNKNOWN_FIELD',
            'API_ERR_TOO_MANY_POINTS',
          ),
        },
      },
      handler: async (request) => {
        const d = device(request.params.id);
        const q = request.query;
        const range = resolveRange(q, deps.clock());
        const fields = resolveFields(d.kind, splitFields(q.fields), q.every !== undefined);
        const base = {
          device: d.id,
          kind: d.kind,
          from: new Date(range.from).toISOString(),
          to: new Date(range.to).toISOString(),
          fields,
        };
        if (q.every !== undefined) {
          checkBuckets(range, q.every);
          if (fields.length === 0) return { ...base, every: q.every, points: [], truncated: false };
          const points = await bucketMeans(influx, d, fields, range, q.every);
          return { ...base, every: q.every, points, truncated: false };
        }
        const points = await rawPoints(influx, d, fields, range, q.limit);
        return { ...base, points, truncated: points.length >= q.limit };
      },
    });

    return Promise.resolve();
  };
}

// The readings routes against the real influxd of the integration tier: line protocol is written into a
// fresh database and read back through the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_ERRORS, ErrorBody } from './index.ts';
import {
  HUNG_VUONG,
  KIM_LONG,
  LE_LOI_LAMP,
  NOW,
  startHarness,
  type Harness,
} from '../test/kits/api-harness.ts';

const MIN = 60_000;
let h: Harness;

const Point = z.object({
  time: z.string(),
  values: z.record(z.string(), z.union([z.number(), z.boolean(), z.null()])),
});
const History = z.object({
  fields: z.array(z.string()),
  points: z.array(Point),
  truncated: z.boolean(),
  every: z.string().optional(),
});

function errorCode(res: { status: number; body: unknown }): string {
  const { error } = ErrorBody.parse(res.body);
  expect(res.status).toBe(API_ERRORS[error.code].status);
  return error.code;
}

// Kim Long rising toward its 27 Oct 2025 peak (about 5.05 m, docs/hue-places.md): one level a minute from
// 11:30 to 11:39 UTC, 4.90 m to 4.99 m.
const levels = Array.from({ length: 10 }, (_, i) => [NOW - 30 * MIN + i * MIN, 4.9 + 0.01 * i] as const);

beforeAll(async () => {
  h = await startHarness('readings');
  for (const device of [
    KIM_LONG,
    HUNG_VUONG,
    LE_LOI_LAMP,
    { ...HUNG_VUONG, id: 'aq-silent', district: 'Phú Xuân' },
  ]) {
    await h.registry.provisionDevice(device);
  }
  await h.write(
    'flood',
    { device: KIM_LONG.id, district: 'Kim Long' },
    levels.map(([t, level]) => [t, { water_level_m: level, rain_mm: 0.2 }]),
  );
  // PM2.5 at 11:00, then a report with PM10 only at 11:10: the latest of each field has its own time.
  await h.write('air_quality', { device: HUNG_VUONG.id, district: 'Thuận Hóa' }, [
    [NOW - 60 * MIN, { pm25: 17, pm10: 30 }],
    [NOW - 50 * MIN, { pm10: 34 }],
  ]);
  await h.write('streetlight', { device: LE_LOI_LAMP.id, district: 'Thuận Hóa' }, [
    [NOW - 10 * MIN, { lamp_on: true, dim_pct: 100, power_w: 148.5 }],
  ]);
});
afterAll(async () => {
  await h.close();
});

describe('latest readings', () => {
  it('gives the last value of each field of a device, each with its time', async () => {
    const res = await h.request({ url: `/api/devices/${HUNG_VUONG.id}/readings/latest`, as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      device: HUNG_VUONG.id,
      kind: 'air_quality',
      fields: {
        pm25: { value: 17, time: new Date(NOW - 60 * MIN).toISOString(), unit: 'µg/m³' },
        pm10: { value: 34, time: new Date(NOW - 50 * MIN).toISOString(), unit: 'µg/m³' },
      },
    });
  });

  it('keeps booleans as booleans', async () => {
    const res = await h.request({ url: `/api/devices/${LE_LOI_LAMP.id}/readings/latest`, as: 'viewer' });
    expect(res.body).toMatchObject({ fields: { lamp_on: { value: true }, power_w: { value: 148.5 } } });
  });

  it('gives the newest reading per device of a kind, null for a device that never reported', async () => {
    const res = await h.request({ url: '/api/readings/latest?kind=air_quality', as: 'viewer' });
    const body = z
      .object({
        devices: z.array(
          z.object({
            device: z.string(),
            time: z.string().nullable(),
            values: z.record(z.string(), z.unknown()),
          }),
        ),
      })
      .parse(res.body);
    expect(body.devices.map((d) => [d.device, d.time])).toEqual([
      [HUNG_VUONG.id, new Date(NOW - 50 * MIN).toISOString()],
      ['aq-silent', null],
    ]);
    expect(body.devices[0]?.values).toMatchObject({ pm10: 34, pm25: null });
  });

  it('narrows to a district, the one the registry holds', async () => {
    const res = await h.request({
      url: `/api/readings/latest?kind=air_quality&district=${encodeURIComponent('Phú Xuân')}`,
      as: 'viewer',
    });
    expect(res.body).toMatchObject({ devices: [{ device: 'aq-silent', time: null }] });
  });

  it('answers 404 for a device that does not exist', async () => {
    expect(errorCode(await h.request({ url: '/api/devices/nope/readings/latest', as: 'viewer' }))).toBe(
      'API_ERR_NOT_FOUND',
    );
  });
});

describe('history', () => {
  const url = (query: string) => `/api/devices/${KIM_LONG.id}/readings?${query}`;

  it('gives the mean of each bucket with `every`', async () => {
    const from = new Date(NOW - 30 * MIN).toISOString();
    const res = await h.request({
      url: url(`from=${from}&to=${NOW - 20 * MIN}&every=5m&fields=water_level_m`),
      as: 'viewer',
    });
    expect(res.status).toBe(200);
    const body = History.parse(res.body);
    expect(body.every).toBe('5m');
    expect(body.points.map((p) => p.time)).toEqual([from, new Date(NOW - 25 * MIN).toISOString()]);
    expect(body.points[0]?.values.water_level_m).toBeCloseTo(4.92, 9);
    expect(body.points[1]?.values.water_level_m).toBeCloseTo(4.97, 9);
  });

  it('takes times relative to the API clock, as Grafana writes them', async () => {
    const relative = await h.request({
      url: url('from=now-30m&to=now-20m&every=5m&fields=water_level_m'),
      as: 'viewer',
    });
    const absolute = await h.request({
      url: url(`from=${NOW - 30 * MIN}&to=${NOW - 20 * MIN}&every=5m&fields=water_level_m`),
      as: 'viewer',
    });
    expect(relative.status).toBe(200);
    expect(History.parse(relative.body)).toEqual(History.parse(absolute.body));
    const bad = await h.request({ url: url('from=1h-ago'), as: 'viewer' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('now-1h');
  });

  it('gives raw points in the last 24 h by default, oldest first, capped by `limit`', async () => {
    const all = History.parse((await h.request({ url: url('fields=water_level_m'), as: 'viewer' })).body);
    expect(all.points.map((p) => p.values.water_level_m)).toEqual(levels.map(([, l]) => l));
    expect(all.truncated).toBe(false);
    const capped = History.parse((await h.request({ url: url('limit=3'), as: 'viewer' })).body);
    expect(capped.points.map((p) => p.time)).toEqual(
      levels.slice(0, 3).map(([t]) => new Date(t).toISOString()),
    );
    expect(capped.truncated).toBe(true);
    expect(capped.fields).toEqual(['water_level_m', 'distance_m', 'rain_mm', 'battery_v']);
  });

  it('refuses a field of another kind, a mean of a boolean, a bad duration, and an inverted range (400)', async () => {
    expect(errorCode(await h.request({ url: url('fields=pm25'), as: 'viewer' }))).toBe(
      'API_ERR_UNKNOWN_FIELD',
    );
    const lamp = `/api/devices/${LE_LOI_LAMP.id}/readings?every=1h&fields=lamp_on`;
    expect(errorCode(await h.request({ url: lamp, as: 'viewer' }))).toBe('API_ERR_UNKNOWN_FIELD');
    expect(errorCode(await h.request({ url: url('every=5 minutes'), as: 'viewer' }))).toBe(
      'API_ERR_VALIDATION',
    );
    expect(errorCode(await h.request({ url: url(`from=${NOW}&to=${NOW - MIN}`), as: 'viewer' }))).toBe(
      'API_ERR_VALIDATION',
    );
    expect(errorCode(await h.request({ url: url('from=yesterday'), as: 'viewer' }))).toBe(
      'API_ERR_VALIDATION',
    );
    expect(errorCode(await h.request({ url: url(`from=0&to=${NOW}&every=1s`), as: 'viewer' }))).toBe(
      'API_ERR_TOO_MANY_POINTS',
    );
  });
});

describe('times and durations InfluxDB cannot hold', () => {
  const url = (query: string) => `/api/devices/${KIM_LONG.id}/readings?${query}`;
  // InfluxDB keeps time as int64 nanoseconds: nothing after 2262-04-11, and GROUP BY time() overflows
  // on buckets of a few centuries. Such values are the client's mistake: 400 with the error shape.
  it.each([
    ['to at the end of JavaScript time (year 275760)', 'to=8640000000000000'],
    ['to in the year 10000', 'to=253402300800000'],
    ['from past 2262', 'from=9300000000000&to=9300000000001'],
    ['a bucket of 999,999 weeks', 'every=999999w'],
  ])('refuses %s (400, not 500)', async (_what, query) => {
    expect(errorCode(await h.request({ url: url(query), as: 'viewer' }))).toBe('API_ERR_VALIDATION');
  });

  it('takes the last day InfluxDB can hold, and a bucket of ten years', async () => {
    const to = Date.UTC(2262, 3, 11);
    const res = await h.request({ url: url(`from=${to - 1440 * MIN}&to=${to}&every=520w`), as: 'viewer' });
    expect(res.status).toBe(200);
  });
});

describe('hostile parameters', () => {
  const hostile = [`x' OR ''='`, `x\\' OR 1=1 --`, `"; DROP DATABASE "x`, `a\\`, `pm25") FROM "flood" --`];

  it('cannot break out of the InfluxQL: answers 400, 404 or empty, never 500, and the data is intact', async () => {
    for (const text of hostile) {
      const q = encodeURIComponent(text);
      const statuses = await Promise.all([
        h.request({ url: `/api/devices/${q}/readings/latest`, as: 'viewer' }),
        h.request({ url: `/api/devices/${q}/readings?every=5m`, as: 'viewer' }),
        h.request({ url: `/api/devices/${KIM_LONG.id}/readings?fields=${q}`, as: 'viewer' }),
        h.request({ url: `/api/devices/${KIM_LONG.id}/readings?every=${q}`, as: 'viewer' }),
        h.request({ url: `/api/readings/latest?kind=flood&district=${q}`, as: 'viewer' }),
      ]);
      expect(statuses.map((r) => r.status)).toEqual([404, 404, 400, 400, 200]);
      expect(statuses[4]?.body).toEqual({ kind: 'flood', devices: [] });
    }
    const still = History.parse(
      (await h.request({ url: `/api/devices/${KIM_LONG.id}/readings`, as: 'viewer' })).body,
    );
    expect(still.points).toHaveLength(levels.length);
  });
});

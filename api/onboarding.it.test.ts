// POST /api/devices/bulk through app.inject(), over a real registry: a CSV of lamps onboarded at once with
// the secrets in the answer (as JSON, or as CSV for the installer), behind a gateway; a file with bad rows
// refused whole with every problem at its line and field; the same file sent again creating nothing; a dry
// run creating nothing; a JSON list; and the roles.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorOf, startHarness, type Harness } from '../test/kits/api-harness.ts';
import { lampCsv } from '../test/kits/onboarding.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('onboarding');
  await h.registry.provisionGateway({
    id: 'gw-le-loi',
    name: 'Gateway chiếu sáng Lê Lợi',
    district: 'Thuận Hóa',
    location: { lat: 16.46225, lon: 107.5835 },
  });
});
afterAll(async () => {
  await h.close();
});

const Result = z.object({
  created: z.number(),
  unchanged: z.number(),
  dryRun: z.boolean(),
  devices: z.array(z.object({ id: z.string(), status: z.string(), secret: z.string().optional() })),
});
const Problems = z.object({
  problems: z.array(
    z.object({ row: z.number(), line: z.number().optional(), field: z.string(), code: z.string() }),
  ),
});

async function send(
  csv: string,
  options: { accept?: string; query?: string; as?: 'engineer' | 'operator' } = {},
) {
  const res = await h.api.app.inject({
    method: 'POST',
    url: `/api/devices/bulk${options.query ?? ''}`,
    headers: {
      authorization: `Bearer ${h.tokens[options.as ?? 'engineer']}`,
      'content-type': 'text/csv',
      ...(options.accept === undefined ? {} : { accept: options.accept }),
    },
    payload: csv,
  });
  return { status: res.statusCode, text: res.body, type: String(res.headers['content-type']) };
}

describe('POST /api/devices/bulk', () => {
  it('refuses a file with bad rows whole, listing every problem at its line and field', async () => {
    const lines = lampCsv(300, 0, 'gw-le-loi').trimEnd().split('\n');
    lines[11] = lines[11]!.replace(/,\d+$/, ',-5'); // line 12: a negative wattage
    lines[200] = lines[200]!.replace('streetlight', 'lamp'); // line 201: an unknown kind
    const res = await send(lines.join('\n'));
    const error = errorOf({ status: res.status, body: JSON.parse(res.text) as unknown });
    expect(error.code).toBe('API_ERR_VALIDATION');
    expect(error.message).toContain('2 problem(s) in the list, nothing was created: line 12 (sl-bulk-00010)');
    expect(Problems.parse(error.details).problems.map((p) => [p.line, p.field])).toEqual([
      [12, 'meta.rated_w'],
      [201, 'kind'],
    ]);
    expect(h.registry.listDevices()).toEqual([]);
  });

  it('creates 300 lamps behind a gateway at once, each secret in the answer once, as CSV when asked', async () => {
    const res = await send(lampCsv(300, 0, 'gw-le-loi'), { accept: 'text/csv' });
    expect(res.status).toBe(201);
    expect(res.type).toContain('text/csv');
    const rows = parse<{ id: string; status: string; secret: string }>(res.text, { columns: true });
    expect(rows).toHaveLength(300);
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['created']));
    expect(await h.registry.authenticate(rows[42]!.id, rows[42]!.secret)).toMatchObject({ type: 'device' });
    expect(h.registry.getGateway('gw-le-loi')?.children).toHaveLength(300);
    expect(h.registry.getDevice('sl-bulk-00007')).toMatchObject({
      kind: 'streetlight',
      name: 'Đèn Trần Hưng Đạo 7',
      tags: ['led', 'hepco'],
      meta: { street: 'Trần Hưng Đạo', rated_w: 150, tolerance_pct: 10 },
    });
  });

  it('creates nothing when the same file comes again, and only what is new when it grew', async () => {
    const same = Result.parse(JSON.parse((await send(lampCsv(300, 0, 'gw-le-loi'))).text));
    expect([same.created, same.unchanged, same.devices.some((d) => d.secret !== undefined)]).toEqual([
      0,
      300,
      false,
    ]);
    const grown = await send(lampCsv(310, 0, 'gw-le-loi'));
    expect(grown.status).toBe(201);
    const result = Result.parse(JSON.parse(grown.text));
    expect([result.created, result.unchanged]).toEqual([10, 300]);
    expect(result.devices.filter((d) => d.status === 'created').map((d) => d.id)).toEqual(
      Array.from({ length: 10 }, (_, k) => `sl-bulk-00${300 + k}`),
    );
  });

  it('checks without creating on a dry run', async () => {
    const res = await send(lampCsv(5, 1000), { query: '?dry_run=true' });
    expect(res.status).toBe(200);
    const result = Result.parse(JSON.parse(res.text));
    expect(result).toMatchObject({ created: 0, dryRun: true });
    expect(result.devices.map((d) => d.status)).toEqual(Array(5).fill('would be created'));
    expect(h.registry.getDevice('sl-bulk-01000')).toBeUndefined();
  });

  it('takes a JSON list, numbering its rows', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/devices/bulk',
      as: 'engineer',
      body: {
        devices: [
          {
            id: 'aq-bulk-1',
            kind: 'air_quality',
            name: 'Trạm quan trắc Đại Nội',
            district: 'Thuận Hóa',
            location: { lat: 16.4697, lon: 107.5778 },
          },
          { id: 'aq-bulk-2', kind: 'air_quality', name: 'x', district: 'Thuận Hóa' },
        ],
      },
    });
    const error = errorOf(res);
    expect(Problems.parse(error.details).problems).toEqual([
      expect.objectContaining({ row: 2, field: 'location', code: 'REGISTRY_ERR_INVALID' }),
    ]);
    expect(h.registry.getDevice('aq-bulk-1')).toBeUndefined();
  });

  it('is for engineers: an operator is refused (403), and a file that is not CSV says why', async () => {
    const res = await send(lampCsv(1, 2000), { as: 'operator' });
    expect(res.status).toBe(403);
    const garbled = await send('id,kind,name,district,lat,lon\n"unclosed,flood,x,y,1,2\n');
    const error = errorOf({ status: garbled.status, body: JSON.parse(garbled.text) as unknown });
    expect(error.code).toBe('API_ERR_VALIDATION');
    expect(Problems.parse(error.details).problems[0]).toMatchObject({ row: 0, field: 'file' });
  });
});

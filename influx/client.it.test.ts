import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '../test/kits/influx.ts';
import { createInfluxClient } from './client.ts';
import { isInfluxError } from './errors.ts';
import { dropDatabase, selectHistory, selectLast, whereTags } from './influxql.ts';
import { encodeLine, encodeReading, encodeTags } from './line-protocol.ts';
import { freePort } from './local-influxd.ts';

/** The InfluxError code a promise rejects with. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isInfluxError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('InfluxDB client against influxd', () => {
  let fresh: FreshDatabase;
  beforeAll(async () => {
    fresh = await freshDatabase('client');
  });
  afterAll(async () => {
    await fresh.drop();
  });

  it('writes readings and reads them back', async () => {
    const { client } = fresh;
    const tags = encodeTags({ device: 'sl-01', district: 'Phú Hội' });
    await client.write(
      [
        encodeReading(
          { kind: 'streetlight', device: 'sl-01', time: 1000, fields: { power_w: 12, lamp_on: true } },
          tags,
        ),
        encodeReading(
          { kind: 'streetlight', device: 'sl-01', time: 2000, fields: { power_w: 80.5, lamp_on: false } },
          tags,
        ),
        encodeReading(
          { kind: 'streetlight', device: 'sl-01', time: 301_000, fields: { power_w: 60, lamp_on: true } },
          tags,
        ),
      ].join('\n'),
    );
    const [latest] = await client.query(
      selectLast({
        measurement: 'streetlight',
        where: whereTags({ district: 'Phú Hội' }),
        groupBy: ['device'],
      }),
    );
    expect(latest).toEqual([
      {
        name: 'streetlight',
        tags: { device: 'sl-01' },
        columns: ['time', 'district', 'lamp_on', 'power_w'],
        values: [[301_000, 'Phú Hội', true, 60]],
      },
    ]);
    const [history] = await client.query(
      selectHistory({
        measurement: 'streetlight',
        fields: ['power_w'],
        device: 'sl-01',
        from: 0,
        to: 600_000,
        every: '5m',
        fn: 'mean',
      }),
    );
    expect(history?.[0]?.values).toEqual([
      [0, 46.25],
      [300_000, 60],
    ]);
    // 12 was written as a float: the field is a float, so 80.5 did not conflict with it.
    const [fieldKeys] = await client.query('SHOW FIELD KEYS FROM "streetlight"');
    expect(fieldKeys?.[0]?.values).toContainEqual(['power_w', 'float']);
  });

  it('refuses a bad line with INFLUX_ERR_BAD_REQUEST and the server message', async () => {
    await fresh.client.write(encodeLine('conflict', '', { v: 1 }, 1));
    const conflict = fresh.client.write('conflict v=1i 2');
    await expect(conflict).rejects.toMatchObject({
      code: 'INFLUX_ERR_BAD_REQUEST',
      retryable: false,
      status: 400,
    });
    await expect(conflict).rejects.toThrow(/field type conflict/);
    await expect(fresh.client.write('this is not line protocol')).rejects.toThrow(/unable to parse/);
  });

  it('reports query errors', async () => {
    expect(await codeOf(fresh.client.query('SELECT FROM WHERE'))).toBe('INFLUX_ERR_BAD_REQUEST');
    expect(await codeOf(fresh.client.query(`SELECT * FROM "x" WHERE time > 'not a time'`))).toBe(
      'INFLUX_ERR_QUERY',
    );
  });

  it('reports a missing database as INFLUX_ERR_DATABASE_NOT_FOUND, retryable', async () => {
    const client = createInfluxClient({ url: fresh.url, db: `${fresh.db}_missing` });
    await expect(client.write('m v=1 1')).rejects.toMatchObject({
      code: 'INFLUX_ERR_DATABASE_NOT_FOUND',
      retryable: true,
    });
  });

  it('ensureDatabase is idempotent and reports a retention it did not apply', async () => {
    const db = `${fresh.db}_ensure`;
    const client = createInfluxClient({ url: fresh.url, db });
    try {
      expect(await client.ensureDatabase({ retention: '90d' })).toEqual({ status: 'created' });
      expect(await client.ensureDatabase({ retention: '90d' })).toEqual({ status: 'exists' });
      expect(await client.ensureDatabase()).toEqual({ status: 'exists' });
      const changed = await client.ensureDatabase({ retention: '30d' });
      expect(changed.status).toBe('exists');
      expect(changed.warning).toMatch(/2160h0m0s, not 30d/);
    } finally {
      await client.query(dropDatabase(db));
    }
  });

  it('pings', async () => {
    const ping = await fresh.client.ping();
    expect(ping.ok).toBe(true);
    expect(ping.version).toMatch(/^1\./);
  });

  it('reports an unreachable server as INFLUX_ERR_UNREACHABLE, retryable', async () => {
    const client = createInfluxClient({ url: `http://127.0.0.1:${await freePort()}`, db: 'x' });
    await expect(client.write('m v=1 1')).rejects.toMatchObject({
      code: 'INFLUX_ERR_UNREACHABLE',
      retryable: true,
    });
    const ping = await client.ping();
    expect(ping.ok).toBe(false);
    expect(ping.error?.code).toBe('INFLUX_ERR_UNREACHABLE');
  });
});

describe('InfluxDB client against a scripted server', () => {
  let server: Server;
  let url: string;
  let reply: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  const seen: IncomingMessage[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      reply(req, res);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  const answer =
    (status: number, body = '') =>
    (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    };

  it.each([
    [401, '{"code":"unauthorized","message":"unauthorized access"}', 'INFLUX_ERR_AUTH', false],
    [403, '{"error":"forbidden"}', 'INFLUX_ERR_AUTH', false],
    [413, '', 'INFLUX_ERR_TOO_LARGE', false],
    [429, '', 'INFLUX_ERR_THROTTLED', true],
    [500, '{"error":"timeout"}', 'INFLUX_ERR_SERVER', true],
    [503, 'upstream down', 'INFLUX_ERR_SERVER', true],
  ])('maps HTTP %i to its code', async (status, body, code, retryable) => {
    reply = answer(status, body);
    const client = createInfluxClient({ url, db: 'city', token: 'secret-token' });
    await expect(client.write('m v=1 1')).rejects.toMatchObject({ code, retryable, status });
    expect(seen.at(-1)?.headers.authorization).toBe('Token secret-token');
    expect(seen.at(-1)?.url).toBe('/write?db=city&precision=ms');
  });

  it('keeps the server message of a 2.x error body', async () => {
    reply = answer(401, '{"code":"unauthorized","message":"unauthorized access"}');
    await expect(createInfluxClient({ url, db: 'city' }).query('SHOW DATABASES')).rejects.toThrow(
      /unauthorized access/,
    );
  });

  it('times out as INFLUX_ERR_TIMEOUT, retryable', async () => {
    reply = () => undefined; // never answers
    const client = createInfluxClient({ url, db: 'city', timeoutMs: 100 });
    await expect(client.write('m v=1 1')).rejects.toMatchObject({
      code: 'INFLUX_ERR_TIMEOUT',
      retryable: true,
    });
  });

  it('reports a body that is not v1 JSON as INFLUX_ERR_BAD_RESPONSE', async () => {
    reply = answer(200, '<html>proxy</html>');
    expect(await codeOf(createInfluxClient({ url, db: 'city' }).query('SHOW DATABASES'))).toBe(
      'INFLUX_ERR_BAD_RESPONSE',
    );
  });

  it('returns unsupported when the server refuses CREATE DATABASE, as 2.x does', async () => {
    reply = (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const q = new URLSearchParams(body).get('q') ?? '';
        const result = q.startsWith('SHOW')
          ? { statement_id: 0, series: [{ name: 'databases', columns: ['name'], values: [['other']] }] }
          : { statement_id: 0, error: 'not implemented: CREATE DATABASE' };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: [result] }));
      });
    };
    const result = await createInfluxClient({ url, db: 'city', token: 't' }).ensureDatabase({
      retention: '90d',
    });
    expect(result.status).toBe('unsupported');
    expect(result.warning).toMatch(/DBRP/);
  });

  it('sends basic auth for a 1.x user and refuses calls after close()', async () => {
    reply = answer(204);
    const client = createInfluxClient({ url, db: 'city', username: 'writer', password: 'pw' });
    await client.write('m v=1 1');
    expect(seen.at(-1)?.headers.authorization).toBe(`Basic ${Buffer.from('writer:pw').toString('base64')}`);
    await client.close();
    await client.close();
    expect(await codeOf(client.write('m v=1 1'))).toBe('INFLUX_ERR_CLOSED');
  });
});

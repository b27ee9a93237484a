// The API over a real socket (listen on 127.0.0.1 port 0, then fetch), its public routes (/health,
// /metrics, /docs), dead letters, and the answer when InfluxDB cannot be reached.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openRegistry } from '../devices/index.ts';
import { createInfluxClient, freePort } from '../influx/index.ts';
import { API_ERRORS, createApi, ErrorBody, METRICS_CONTENT_TYPE } from './index.ts';
import { ADMIN_TOKEN, HUNG_VUONG, NOW, startHarness, type Harness } from '../test/kits/api-harness.ts';

let h: Harness;
let base: string;
let spoolDepth = 0;

beforeAll(async () => {
  h = await startHarness('server', {
    health: async () => ({
      ok: spoolDepth < 100,
      influx: await h.db.client.ping(),
      spool: { depth: spoolDepth },
    }),
    metricsText: () => Promise.resolve('# TYPE city_readings_total counter\ncity_readings_total 42\n'),
  });
  const { port } = await h.api.listen();
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await h.close();
});

/** Sends `request` as raw bytes; the status line and the body of the answer. */
function rawRequest(request: string): Promise<{ status: string; body: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(base).port), '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => undefined); // the server may reset after answering; 'close' follows
    socket.on('close', () => {
      const split = answer.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no answer: ${JSON.stringify(answer)}`));
      resolve({ status: answer.slice(0, answer.indexOf('\r\n')), body: JSON.parse(answer.slice(split + 4)) });
    });
  });
}

describe("what Fastify and Node's HTTP parser refuse, in the documented shape", () => {
  const close = 'Host: x\r\nConnection: close\r\n\r\n';
  it.each([
    [
      'a path parameter longer than any id',
      `GET /api/devices/${'a'.repeat(200)} HTTP/1.1\r\n${close}`,
      414,
      'API_ERR_URI_TOO_LONG',
    ],
    [
      'a malformed percent-encoding',
      `GET /api/devices/%E0%A4%A HTTP/1.1\r\n${close}`,
      400,
      'API_ERR_BAD_REQUEST',
    ],
    [
      'headers over 16 KiB',
      `GET /health HTTP/1.1\r\nX-Pad: ${'a'.repeat(20_000)}\r\n${close}`,
      431,
      'API_ERR_HEADERS_TOO_LARGE',
    ],
    [
      'a URL over 16 KiB',
      `GET /api/readings/latest?kind=${'a'.repeat(20_000)} HTTP/1.1\r\n${close}`,
      431,
      'API_ERR_HEADERS_TOO_LARGE',
    ],
    ['a request line that is not HTTP', `GARBAGE\r\n\r\n`, 400, 'API_ERR_BAD_REQUEST'],
  ])('%s: %i %s', async (_what, request, status, code) => {
    const answer = await rawRequest(request);
    expect(answer.status).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(ErrorBody.parse(answer.body).error.code).toBe(code);
    expect(API_ERRORS[code as keyof typeof API_ERRORS].status).toBe(status);
  });
});

describe('over a real socket', () => {
  it('serves an authenticated request and the error body for a refused one', async () => {
    await h.registry.provisionDevice(HUNG_VUONG);
    const ok = await fetch(`${base}/api/devices/${HUNG_VUONG.id}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ id: HUNG_VUONG.id, kind: 'air_quality' });
    const refused = await fetch(`${base}/api/devices`);
    expect(refused.status).toBe(401);
    expect(ErrorBody.parse(await refused.json()).error.code).toBe('API_ERR_UNAUTHORIZED');
  });

  it('answers /health with 200 while healthy and 503 when not, the report as the body', async () => {
    const healthy = await fetch(`${base}/health`);
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toMatchObject({ ok: true, influx: { ok: true }, spool: { depth: 0 } });
    spoolDepth = 500;
    const unhealthy = await fetch(`${base}/health`);
    spoolDepth = 0;
    expect(unhealthy.status).toBe(503);
    expect(await unhealthy.json()).toMatchObject({ ok: false, spool: { depth: 500 } });
  });

  it('serves Prometheus text at /metrics without a token', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(METRICS_CONTENT_TYPE);
    expect(await res.text()).toBe('# TYPE city_readings_total counter\ncity_readings_total 42\n');
  });

  it('serves the OpenAPI document generated from the zod schemas, and the UI', async () => {
    const res = await fetch(`${base}/docs/json`);
    expect(res.status).toBe(200);
    const doc = z
      .object({ openapi: z.string(), paths: z.record(z.string(), z.record(z.string(), z.unknown())) })
      .parse(await res.json());
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/devices',
        '/api/devices/{id}',
        '/api/devices/{id}/readings',
        '/api/dead-letters',
        '/health',
      ]),
    );
    const post = z
      .object({ requestBody: z.object({ content: z.record(z.string(), z.object({ schema: z.unknown() })) }) })
      .parse(doc.paths['/api/devices']?.post);
    expect(JSON.stringify(post.requestBody.content['application/json']?.schema)).toContain('alarm_levels_m');
    expect((await fetch(`${base}/docs`)).status).toBeLessThan(400);
  });

  it("lists in the README's HTTP API table exactly the routes of the OpenAPI document", async () => {
    const doc = z
      .object({ paths: z.record(z.string(), z.record(z.string(), z.unknown())) })
      .parse(await (await fetch(`${base}/docs/json`)).json());
    const served = Object.entries(doc.paths)
      .filter(([route]) => route === '/health' || route === '/metrics' || route.startsWith('/api/'))
      .flatMap(([route, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${route}`))
      .sort();
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(
      readme.indexOf('## HTTP API'),
      readme.indexOf('\n## ', readme.indexOf('## HTTP API') + 3),
    );
    const documented = [...section.matchAll(/^\| `(GET|POST|PATCH|PUT|DELETE) ([^`?]+)(?:\?[^`]*)?` +\|/gm)]
      .map(([, method, route]) => `${method} ${route!.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    expect(documented).toEqual(served);
  });
});

describe('dead letters', () => {
  it('lists them for engineers, newest first, payload as base64 and a UTF-8 preview, filtered and paged', async () => {
    const bad = Buffer.from('{"pm25": "mười bảy"}');
    h.deadLetters.record({
      at: NOW - 2000,
      source: 'aq-a',
      topic: 'city/air_quality/aq-a/telemetry',
      code: 'INGEST_ERR_SCHEMA',
      detail: 'pm25: expected number',
      payload: bad,
    });
    h.deadLetters.record({
      at: NOW - 1000,
      source: 'aq-b',
      topic: 'city/air_quality/aq-b/telemetry',
      code: 'INGEST_ERR_JSON',
      detail: 'not JSON',
      payload: Buffer.from([0xff, 0x7b]),
    });
    h.deadLetters.record({
      at: NOW,
      source: 'aq-a',
      topic: 'city/air_quality/aq-a/telemetry',
      code: 'INGEST_ERR_JSON',
      detail: 'not JSON',
      payload: Buffer.from('{'),
    });
    const viewer = await h.request({ url: '/api/dead-letters', as: 'operator' });
    expect(ErrorBody.parse(viewer.body).error.code).toBe('API_ERR_FORBIDDEN');

    const List = z.object({
      total: z.number(),
      nextBefore: z.number().optional(),
      deadLetters: z.array(
        z.object({
          id: z.number(),
          source: z.string(),
          code: z.string(),
          payloadBase64: z.string(),
          payloadPreview: z.string(),
        }),
      ),
    });
    const all = List.parse((await h.request({ url: '/api/dead-letters', as: 'engineer' })).body);
    expect(all.total).toBe(3);
    expect(all.deadLetters.map((d) => d.source)).toEqual(['aq-a', 'aq-b', 'aq-a']);
    expect(Buffer.from(all.deadLetters[2]?.payloadBase64 ?? '', 'base64').equals(bad)).toBe(true);
    expect(all.deadLetters[2]?.payloadPreview).toBe('{"pm25": "mười bảy"}');
    expect(all.deadLetters[1]?.payloadPreview).toBe('\uFFFD{');

    const json = List.parse(
      (await h.request({ url: '/api/dead-letters?code=INGEST_ERR_JSON&limit=1', as: 'engineer' })).body,
    );
    expect(json.deadLetters.map((d) => d.source)).toEqual(['aq-a']);
    const older = List.parse(
      (
        await h.request({
          url: `/api/dead-letters?code=INGEST_ERR_JSON&before=${json.nextBefore}`,
          as: 'engineer',
        })
      ).body,
    );
    expect(older.deadLetters.map((d) => d.source)).toEqual(['aq-b']);
    const unknown = await h.request({ url: '/api/dead-letters?code=NOT_A_CODE', as: 'engineer' });
    expect(ErrorBody.parse(unknown.body).error.code).toBe('API_ERR_VALIDATION');
  });
});

describe('when InfluxDB cannot be reached', () => {
  it('answers readings with 503 API_ERR_INFLUX_UNAVAILABLE', async () => {
    const registry = await openRegistry({ file: ':memory:' });
    const influx = createInfluxClient({
      url: `http://127.0.0.1:${await freePort()}`,
      db: 'none',
      timeoutMs: 2000,
    });
    const api = await createApi(
      { host: '127.0.0.1', port: 0, adminToken: ADMIN_TOKEN },
      {
        log: pino({ level: 'silent' }),
        registry,
        influx,
        deadLetters: { list: () => Promise.resolve([]), count: () => Promise.resolve(0) },
        health: async () => ({ ok: (await influx.ping()).ok }),
        metricsText: () => Promise.resolve(''),
      },
    );
    try {
      await registry.provisionDevice(HUNG_VUONG);
      const res = await api.app.inject({
        url: `/api/devices/${HUNG_VUONG.id}/readings/latest`,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const { error } = ErrorBody.parse(res.json());
      expect([res.statusCode, error.code]).toEqual([
        API_ERRORS.API_ERR_INFLUX_UNAVAILABLE.status,
        'API_ERR_INFLUX_UNAVAILABLE',
      ]);
      expect((await api.app.inject({ url: '/health' })).statusCode).toBe(503);
    } finally {
      await api.close();
      await api.close();
      await influx.close();
      await registry.close();
    }
  });
});

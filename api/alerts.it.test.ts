// /api/alerts over a real alert store (SQLite in a temporary folder) and the real alert service: listing
// with filters, one alert with its history, acknowledge and resolve with their state checks and roles,
// and the server-sent event stream over a real socket.
import { get, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

import { API_ERRORS, ErrorBody } from './index.ts';
import { NOW, startHarness, type Harness } from '../test/kits/api-harness.ts';
import { Alert, AlertEvent, type TriggerInput } from '../alerts/index.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('alerts');
});
afterAll(async () => {
  await h.close();
});

const HOUR = 3_600_000;

/** Asserts the error body and returns its code. */
function errorCode(res: { status: number; body: unknown }): string {
  const { error } = ErrorBody.parse(res.body);
  expect(res.status).toBe(API_ERRORS[error.code].status);
  return error.code;
}

// Rules and owners of the Huế rule files (rules/hue), devices of the harness's fleet.
const FLOOD: TriggerInput = {
  type: 'raise',
  rule: 'river-kim-long-alarm',
  device: 'flood-kim-long',
  kind: 'flood',
  district: 'Kim Long',
  owner: 'flood control',
  title: 'River above alarm level',
  severity: 'warning',
  message: 'Kim Long gauge: 2.4 m, above alarm level II (2.0 m)',
  value: 2.4,
  threshold: 2.0,
  level: 0,
  at: NOW - 3 * HOUR,
  source: 'rule',
};
const AIR: TriggerInput = {
  ...FLOOD,
  rule: 'pm25-unhealthy',
  device: 'aq-hung-vuong',
  kind: 'air_quality',
  district: 'Thuận Hóa',
  owner: 'environment department',
  title: 'PM2.5 unhealthy',
  severity: 'critical',
  message: 'Air station 83 Hùng Vương: PM2.5 62 µg/m³',
  value: 62,
  threshold: 55.5,
  at: NOW - 2 * HOUR,
};
const LAMP: TriggerInput = {
  ...FLOOD,
  rule: 'lamp-power-high',
  device: 'sl-le-loi-001',
  kind: 'streetlight',
  district: 'Thuận Hóa',
  owner: 'HEPCO',
  title: 'Lamp drawing too much power',
  severity: 'info',
  message: 'Lê Lợi lamp 1: 190 W',
  value: 190,
  threshold: 172.5,
  at: NOW - HOUR,
};

async function raise(input: TriggerInput): Promise<Alert> {
  const change = await h.alerts.trigger(input);
  if (change === undefined) throw new Error('the trigger changed nothing');
  return change.alert;
}

const AlertList = z.object({ alerts: z.array(Alert) });
const AlertChanged = z.object({ alert: Alert, event: AlertEvent });
const AlertWithHistory = z.object({ alert: Alert, events: z.array(AlertEvent) });

async function listed(query: string): Promise<string[]> {
  const res = await h.request({ url: `/api/alerts${query}`, as: 'viewer' });
  expect(res.status).toBe(200);
  return AlertList.parse(res.body).alerts.map((a) => a.rule);
}

describe('GET /api/alerts', () => {
  it('lists alerts newest raised first, filtered by state, severity, owner, kind, place, rule and time', async () => {
    await raise(FLOOD);
    await raise(AIR);
    const lamp = await raise(LAMP);
    await h.alerts.acknowledge(lamp.id, 'ops desk');
    const all = ['lamp-power-high', 'pm25-unhealthy', 'river-kim-long-alarm'];

    expect(await listed('')).toEqual(all);
    expect(await listed('?state=acknowledged')).toEqual(['lamp-power-high']);
    expect(await listed('?state=open,acknowledged')).toEqual(all);
    expect(await listed('?state=open&state=resolved')).toEqual(['pm25-unhealthy', 'river-kim-long-alarm']);
    expect(await listed('?severity=critical,warning')).toEqual(['pm25-unhealthy', 'river-kim-long-alarm']);
    expect(await listed(`?owner=${encodeURIComponent('flood control')}`)).toEqual(['river-kim-long-alarm']);
    expect(await listed('?kind=streetlight')).toEqual(['lamp-power-high']);
    expect(await listed(`?district=${encodeURIComponent('Thuận Hóa')}`)).toEqual(all.slice(0, 2));
    expect(await listed('?device=aq-hung-vuong')).toEqual(['pm25-unhealthy']);
    expect(await listed('?rule=river-kim-long-alarm')).toEqual(['river-kim-long-alarm']);
    const twoHoursAgo = new Date(NOW - 2 * HOUR).toISOString();
    expect(await listed(`?from=${twoHoursAgo}`)).toEqual(all.slice(0, 2));
    expect(await listed(`?to=${NOW - 2 * HOUR}`)).toEqual(['river-kim-long-alarm']);
    expect(await listed('?from=now-2h')).toEqual(all.slice(0, 2));
    expect(await listed('?to=now-2h')).toEqual(['river-kim-long-alarm']);
    expect(await listed('?limit=1')).toEqual(['lamp-power-high']);
  });

  it('refuses an unknown state or severity, a bad time or limit with 400 API_ERR_VALIDATION, saying what is expected', async () => {
    const expected: Record<string, RegExp> = {
      '?state=closed': /expected one of "open"\|"acknowledged"\|"resolved"/,
      '?severity=open,critical': /expected one of "info"\|"warning"\|"critical"/,
      '?from=yesterday': /expected RFC 3339 .*now-1h/,
      '?limit=0': /expected a whole number from 1 to 1000, such as 100/,
      '?limit=abc': /expected a whole number from 1 to 1000, such as 100/,
      '?limit=2.5': /expected a whole number from 1 to 1000, such as 100/,
    };
    for (const [query, message] of Object.entries(expected)) {
      const res = await h.request({ url: `/api/alerts${query}`, as: 'viewer' });
      expect(errorCode(res), query).toBe('API_ERR_VALIDATION');
      expect(ErrorBody.parse(res.body).error.message, query).toMatch(message);
    }
  });

  it('needs a token (401)', async () => {
    expect(errorCode(await h.request({ url: '/api/alerts' }))).toBe('API_ERR_UNAUTHORIZED');
  });
});

describe('GET /api/alerts/:id', () => {
  it('answers the alert with its history, oldest first', async () => {
    const first = await raise({ ...FLOOD, device: 'flood-bach-ho', at: NOW - 50 * 60_000 });
    await raise({ ...FLOOD, device: 'flood-bach-ho', value: 2.7, at: NOW - 40 * 60_000 });
    await raise({
      ...FLOOD,
      device: 'flood-bach-ho',
      type: 'escalate',
      severity: 'critical',
      level: 1,
      value: 3.6,
      at: NOW - 30 * 60_000,
    });
    await h.alerts.acknowledge(first.id, 'ops desk', 'team sent to Bạch Hổ bridge');
    const res = await h.request({ url: `/api/alerts/${first.id}`, as: 'viewer' });
    expect(res.status).toBe(200);
    const { alert, events } = AlertWithHistory.parse(res.body);
    expect(alert).toMatchObject({ id: first.id, state: 'acknowledged', severity: 'critical', level: 1 });
    expect(events.map((e) => e.type)).toEqual(['raised', 'updated', 'escalated', 'acknowledged']);
    expect(events[3]).toMatchObject({ by: 'ops desk', note: 'team sent to Bạch Hổ bridge' });
  });

  it('answers 404 API_ERR_ALERT_NOT_FOUND for an unknown id and for a path that cannot be one', async () => {
    for (const id of ['999999', 'abc', '0', '1.5']) {
      expect(errorCode(await h.request({ url: `/api/alerts/${id}`, as: 'viewer' })), id).toBe(
        'API_ERR_ALERT_NOT_FOUND',
      );
    }
  });
});

describe('acknowledge and resolve', () => {
  it('acknowledges in the name of the token, then refuses a second acknowledge with 409', async () => {
    const { id } = await raise({ ...AIR, device: 'aq-kim-long' });
    const res = await h.request({
      method: 'POST',
      url: `/api/alerts/${id}/acknowledge`,
      as: 'operator',
      body: { note: 'checking the station' },
    });
    expect(res.status).toBe(200);
    const { alert, event } = AlertChanged.parse(res.body);
    expect(alert).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'test operator' });
    expect(event).toMatchObject({ type: 'acknowledged', by: 'test operator', note: 'checking the station' });
    expect(alert.acknowledgedAt).toBe(new Date(NOW).toISOString());

    const again = await h.request({ method: 'POST', url: `/api/alerts/${id}/acknowledge`, as: 'operator' });
    expect(errorCode(again)).toBe('API_ERR_ALERT_STATE');
    expect((await h.alerts.get(id))?.events.map((e) => e.type)).toEqual(['raised', 'acknowledged']);
  });

  it('resolves an open alert without a body, then refuses to resolve or acknowledge it again', async () => {
    const { id } = await raise({ ...LAMP, device: 'sl-le-loi-002' });
    const res = await h.request({ method: 'POST', url: `/api/alerts/${id}/resolve`, as: 'engineer' });
    expect(res.status).toBe(200);
    expect(AlertChanged.parse(res.body).alert).toMatchObject({
      state: 'resolved',
      resolvedBy: 'test engineer',
      resolution: 'operator',
    });
    for (const action of ['resolve', 'acknowledge']) {
      const again = await h.request({ method: 'POST', url: `/api/alerts/${id}/${action}`, as: 'operator' });
      expect(errorCode(again), action).toBe('API_ERR_ALERT_STATE');
    }
  });

  it('answers 404 for an alert that does not exist', async () => {
    const res = await h.request({ method: 'POST', url: '/api/alerts/424242/resolve', as: 'operator' });
    expect(errorCode(res)).toBe('API_ERR_ALERT_NOT_FOUND');
  });

  it('refuses a viewer (403), a caller without a token (401), and a bad body (400)', async () => {
    const { id } = await raise({ ...FLOOD, device: 'flood-phu-oc' });
    const url = `/api/alerts/${id}/acknowledge`;
    expect(errorCode(await h.request({ method: 'POST', url, as: 'viewer' }))).toBe('API_ERR_FORBIDDEN');
    expect(errorCode(await h.request({ method: 'POST', url }))).toBe('API_ERR_UNAUTHORIZED');
    const long = { note: 'x'.repeat(1001) };
    expect(errorCode(await h.request({ method: 'POST', url, as: 'operator', body: long }))).toBe(
      'API_ERR_VALIDATION',
    );
    const typo = { notes: 'on it' };
    expect(errorCode(await h.request({ method: 'POST', url, as: 'operator', body: typo }))).toBe(
      'API_ERR_VALIDATION',
    );
    expect((await h.alerts.get(id))?.alert.state).toBe('open');
  });
});

describe('GET /api/alerts/response-times', () => {
  it('answers, per owner, the mean time to acknowledge and to resolve of the alerts raised in the range', async () => {
    const owner = 'water utility';
    const old = await raise({ ...FLOOD, owner, device: 'flood-old', at: NOW - 5 * HOUR });
    const a = await raise({ ...FLOOD, owner, device: 'flood-a', at: NOW - 20 * 60_000 });
    const b = await raise({ ...FLOOD, owner, device: 'flood-b', at: NOW - 10 * 60_000 });
    for (const { id } of [old, a, b]) await h.alerts.acknowledge(id, 'ops desk'); // the service's clock: NOW
    await h.alerts.resolve(a.id, 'ops desk');

    const Times = z.object({
      owners: z.array(
        z.object({
          owner: z.string(),
          acknowledged: z.number(),
          meanAckMs: z.number().nullable(),
          resolved: z.number(),
          meanResolveMs: z.number().nullable(),
        }),
      ),
    });
    const from = new Date(NOW - HOUR).toISOString();
    const res = await h.request({ url: `/api/alerts/response-times?from=${from}`, as: 'viewer' });
    expect(res.status).toBe(200);
    const times = Times.parse(res.body).owners.find((o) => o.owner === owner);
    expect(times).toEqual({
      owner,
      acknowledged: 2,
      meanAckMs: 15 * 60_000,
      resolved: 1,
      // The resolve follows the acknowledgement in the same millisecond of the frozen clock; the store
      // keeps an alert's events in strictly increasing time, so it is recorded 1 ms later.
      meanResolveMs: 20 * 60_000 + 1,
    });
    expect(errorCode(await h.request({ url: '/api/alerts/response-times?to=soon', as: 'viewer' }))).toBe(
      'API_ERR_VALIDATION',
    );
  });
});

/** A server-sent event stream read over a real socket, block by block (blocks end with a blank line). */
interface SseClient {
  readonly response: IncomingMessage;
  /** The next block that is an event (comments skipped), parsed into its fields. */
  nextEvent(): Promise<{ event: string; id: string; data: string }>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

function connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      response.setEncoding('utf8');
      let buffer = '';
      const blocks: string[] = [];
      let wake: (() => void) | undefined;
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          blocks.push(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        wake?.();
      });
      const ended = new Promise<void>((done) => response.on('close', done));
      async function nextBlock(): Promise<string> {
        while (blocks.length === 0) await new Promise<void>((r) => (wake = r));
        return blocks.shift() ?? '';
      }
      resolve({
        response,
        ended,
        close: () => request.destroy(),
        async nextEvent() {
          for (;;) {
            const block = await nextBlock();
            if (block.startsWith(':')) continue;
            const fields = Object.fromEntries(
              block
                .split('\n')
                .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
            );
            return { event: fields.event ?? '', id: fields.id ?? '', data: fields.data ?? '' };
          }
        },
      });
    });
    request.on('error', reject);
  });
}

describe('GET /api/alerts/stream (server-sent events over a real socket)', () => {
  let base: string;
  beforeAll(async () => {
    base = `http://127.0.0.1:${(await h.api.listen()).port}/api/alerts/stream`;
  });

  it('sends each matching change as an `alert` event and drops its listener when the client goes', async () => {
    const before = h.alertListeners();
    const stream = await connect(`${base}?kind=flood`, { authorization: `Bearer ${h.tokens.viewer}` });
    expect(stream.response.statusCode).toBe(200);
    expect(stream.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await vi.waitFor(() => expect(h.alertListeners()).toBe(before + 1));

    await raise({ ...LAMP, device: 'sl-le-loi-003' }); // another kind: not sent on this stream
    const raised = await raise({ ...FLOOD, device: 'flood-kim-long-2' });
    const event = await stream.nextEvent();
    expect(event.event).toBe('alert');
    const change = AlertChanged.parse(JSON.parse(event.data));
    expect(change.alert).toMatchObject({ id: raised.id, device: 'flood-kim-long-2', state: 'open' });
    expect(change.event.type).toBe('raised');
    expect(event.id).toBe(String(change.event.id));

    await h.alerts.acknowledge(raised.id, 'ops desk');
    const acknowledged = AlertChanged.parse(JSON.parse((await stream.nextEvent()).data));
    expect([acknowledged.alert.id, acknowledged.event.type]).toEqual([raised.id, 'acknowledged']);

    stream.close();
    await vi.waitFor(() => expect(h.alertListeners()).toBe(before));
  });

  it('takes the token as ?access_token= on this route, and refuses a stream without a valid one (401)', async () => {
    const stream = await connect(`${base}?access_token=${h.tokens.viewer}&severity=critical`);
    expect(stream.response.statusCode).toBe(200);
    await vi.waitFor(() => expect(h.alertListeners()).toBeGreaterThan(0));
    const raised = await raise({ ...AIR, device: 'aq-thuan-an' });
    expect(AlertChanged.parse(JSON.parse((await stream.nextEvent()).data)).alert.id).toBe(raised.id);
    stream.close();

    expect(errorCode(await h.request({ url: '/api/alerts/stream' }))).toBe('API_ERR_UNAUTHORIZED');
    const wrong = await h.request({ url: '/api/alerts/stream?access_token=not-a-token' });
    expect(errorCode(wrong)).toBe('API_ERR_UNAUTHORIZED');
    // Only the stream takes a token from the URL.
    const elsewhere = await h.request({ url: `/api/alerts?access_token=${h.tokens.viewer}` });
    expect(errorCode(elsewhere)).toBe('API_ERR_UNAUTHORIZED');
  });

  it('ends open streams when the API closes, so closing does not wait for the clients', async () => {
    const other = await startHarness('alerts_close');
    try {
      const { port } = await other.api.listen();
      const stream = await connect(`http://127.0.0.1:${port}/api/alerts/stream`, {
        authorization: `Bearer ${other.tokens.viewer}`,
      });
      await vi.waitFor(() => expect(other.alertListeners()).toBe(1));
      await other.api.close();
      await stream.ended;
      expect(other.alertListeners()).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe('the OpenAPI document', () => {
  it('lists the alert routes, the stream as text/event-stream', async () => {
    const res = await h.api.app.inject({ url: '/docs/json' });
    const doc = z
      .object({ paths: z.record(z.string(), z.record(z.string(), z.unknown())) })
      .parse(res.json());
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/alerts',
        '/api/alerts/{id}',
        '/api/alerts/{id}/acknowledge',
        '/api/alerts/{id}/resolve',
        '/api/alerts/stream',
        '/api/alerts/response-times',
      ]),
    );
    expect(JSON.stringify(doc.paths['/api/alerts/stream'])).toContain('text/event-stream');
  });
});

// Delivery to real HTTP receivers on loopback: a signed webhook that fails then succeeds is delivered on
// the retry after its backoff, every attempt recorded; a receiver that hangs times out without holding up
// another's delivery; a receiver that keeps failing is dead after the last attempt.
import { createHmac } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AgencyInput, type AgencyRecord } from '../devices/index.ts';
import { createDeliverer, webhookSender } from './delivery.ts';
import type { NotifyStore } from './outbox.ts';
import { openNotifyStore } from './store-sqlite.ts';
import { KIM_LONG_NOTIFICATION } from '../test/kits/notifications.ts';

const SECRET = 'whsec-flood-0123456789';
const T0 = Date.UTC(2025, 9, 27, 1, 0, 0);
let now = T0;
let dir: string;
let store: NotifyStore;
let server: http.Server;
let base: string;
/** What each path answers, in turn; `hang` never answers. */
const script = new Map<string, Array<number | 'hang'>>();
const received: Array<{ path: string; headers: http.IncomingHttpHeaders; body: string }> = [];
const hanging: http.ServerResponse[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      const next = script.get(req.url ?? '')?.shift() ?? 200;
      if (next === 'hang') hanging.push(res);
      else res.writeHead(next).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const res of hanging) res.destroy();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  now = T0;
  received.length = 0;
  script.clear();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'delivery-'));
  store = openNotifyStore(path.join(dir, 'notify.db'));
});
afterEach(async () => {
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

function agencyWith(paths: string[]): AgencyRecord {
  return {
    ...AgencyInput.parse({
      id: 'flood-control',
      name: { vi: 'PCTT', en: 'Flood control' },
      receivers: paths.map((p) => ({ id: p.slice(1), type: 'webhook', url: `${base}${p}`, secret: SECRET })),
    }),
    created_at: '',
    updated_at: '',
  };
}

function deliverer(agency: AgencyRecord, over: { maxAttempts?: number; timeoutMs?: number } = {}) {
  return createDeliverer({
    store,
    agency: (id) => (id === agency.id ? agency : undefined),
    senders: { webhook: webhookSender(() => now) },
    clock: () => now,
    random: () => 0.5,
    baseBackoffMs: 5_000,
    log: pino({ level: 'silent' }),
    ...over,
  });
}

const queue = (receiver: string, key = `g#1/flood-control/${receiver}`) =>
  store.commit([
    {
      kind: 'deliver',
      delivery: {
        key,
        groupKey: 'g',
        agency: 'flood-control',
        receiver,
        type: 'webhook',
        payload: KIM_LONG_NOTIFICATION,
      },
      at: now,
    },
  ]);

describe('delivery', () => {
  it('retries a webhook that fails after its backoff, and records every attempt; the delivery is signed', async () => {
    script.set('/duty', [500, 200]);
    await queue('duty');
    const d = deliverer(agencyWith(['/duty']));
    expect((await d.deliverDue()).map((o) => o.status)).toEqual(['pending']);
    expect(await d.deliverDue()).toEqual([]);
    now += 4_999;
    expect(await d.deliverDue()).toEqual([]);
    now += 1;
    expect((await d.deliverDue()).map((o) => o.status)).toEqual(['delivered']);
    const [delivery] = await store.deliveries();
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 2, lastError: null });
    expect((await store.attempts([delivery!.id])).get(delivery!.id)!.map((a) => [a.ok, a.detail])).toEqual([
      [false, 'HTTP 500'],
      [true, 'HTTP 200'],
    ]);
    // Both attempts carry the same key, and a signature over the timestamp and the body.
    const last = received.at(-1)!;
    expect(received.map((r) => r.headers['idempotency-key'])).toEqual([delivery!.key, delivery!.key]);
    const [t, v1] = String(last.headers['x-city-signature'])
      .split(',')
      .map((p) => p.split('=')[1]);
    expect(v1).toBe(createHmac('sha256', SECRET).update(`${t}.${last.body}`).digest('hex'));
    // The notification, each alert with its latest event and its link, and its words in the agency's language.
    expect(JSON.parse(last.body)).toEqual({
      delivery: delivery!.key,
      notification: KIM_LONG_NOTIFICATION,
      message: {
        subject: '[NGHIÊM TRỌNG] River above alarm level (Kim Long)',
        text: expect.stringContaining('http://localhost:8080/console/#/alerts/12') as unknown,
      },
    });
  });

  it("times out a receiver that hangs without holding up another receiver's delivery", async () => {
    script.set('/slow', ['hang']);
    await queue('slow');
    await queue('fast');
    const d = deliverer(agencyWith(['/slow', '/fast']), { timeoutMs: 300 });
    const outcomes = await d.deliverDue();
    expect(outcomes.map((o) => [o.delivery.receiver, o.status])).toEqual([
      ['slow', 'pending'],
      ['fast', 'delivered'],
    ]);
    const slow = (await store.deliveries()).find((x) => x.receiver === 'slow')!;
    expect(slow.lastError).toMatch(/abort|timeout/i);
  });

  it('gives up after the last attempt: the delivery is dead, its attempts kept', async () => {
    script.set('/down', [503, 503, 503]);
    await queue('down');
    const d = deliverer(agencyWith(['/down']), { maxAttempts: 3 });
    for (let i = 0; i < 3; i++) {
      await d.deliverDue();
      now += 60_000;
    }
    const [dead] = await store.deliveries({ status: 'dead' });
    expect(dead).toMatchObject({ attempts: 3, lastError: 'HTTP 503' });
    expect(await d.deliverDue()).toEqual([]);
  });

  it('fails a delivery whose receiver is no longer in the registry, saying so', async () => {
    await queue('gone');
    const [outcome] = await deliverer(agencyWith(['/other'])).deliverDue();
    expect(outcome?.status).toBe('pending');
    expect((await store.deliveries())[0]?.lastError).toBe('no receiver flood-control/gone in the registry');
  });
});

// Chat receivers against a local HTTP server that speaks their APIs: Telegram's Bot API (sendMessage,
// `{ ok, result }` or `{ ok: false, error_code, description }`) and a Zalo Official Account's v3.0
// customer-service message (the token in an `access_token` header, `{ error: 0 }` or a negative error
// with HTTP 200). Each gets the notification's text in the agency's language, or its receiver's own
// template; a refusal is a failed attempt with the API's own words, and never the bot's token.
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AgencyInput } from '../devices/index.ts';
import { floodControl, KIM_LONG_ALERT, KIM_LONG_NOTIFICATION } from '../test/kits/notifications.ts';
import { createDeliverer, telegramSender, ZALO_MAX_TEXT, zaloSender } from './delivery.ts';
import type { Notification } from './notifier.ts';
import type { NotifyStore } from './outbox.ts';
import { openNotifyStore } from './store-sqlite.ts';

const BOT_TOKEN = '7301234567:AAF-huế-flood-bot-token';
const OA_TOKEN = 'zalo-oa-access-token-0123456789';
let server: http.Server;
let base: string;
let dir: string;
let store: NotifyStore;
const received: Array<{ path: string; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }> =
  [];
/** The next answers of the Telegram API, in turn, before the normal one. */
const telegramScript: Array<{ status: number; body: unknown }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      received.push({ path: decodeURIComponent(req.url ?? ''), headers: req.headers, body });
      const answer = (status: number, json: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      if (req.url?.startsWith('/bot')) {
        const scripted = telegramScript.shift();
        if (scripted !== undefined) return answer(scripted.status, scripted.body);
        if (decodeURIComponent(req.url) !== `/bot${BOT_TOKEN}/sendMessage`)
          return answer(401, { ok: false, error_code: 401, description: 'Unauthorized' });
        return answer(200, { ok: true, result: { message_id: received.length, chat: { id: body.chat_id } } });
      }
      if (req.url === '/v3.0/oa/message/cs') {
        if (req.headers.access_token !== OA_TOKEN)
          return answer(200, { error: -216, message: 'Access token is invalid' });
        return answer(200, {
          error: 0,
          message: 'Success',
          data: { message_id: 'zmsg-1', user_id: '84123' },
        });
      }
      return answer(404, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(async () => {
  received.length = 0;
  telegramScript.length = 0;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chat-'));
  store = openNotifyStore(path.join(dir, 'notify.db'));
});
afterEach(async () => {
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

type ReceiverInput = AgencyInput['receivers'] extends Array<infer R> | undefined ? R : never;

/** Queues `notification` for the receiver and sends what is due once. */
async function send(
  receiver: ReceiverInput,
  notification: Notification = KIM_LONG_NOTIFICATION,
  language: 'vi' | 'en' = 'vi',
) {
  const agency = floodControl(language, [receiver]);
  const key = `${notification.key}/flood-control/${receiver.id}`;
  await store.commit([
    {
      kind: 'deliver',
      delivery: {
        key,
        groupKey: 'g',
        agency: 'flood-control',
        receiver: receiver.id,
        type: receiver.type,
        payload: notification,
      },
      at: Date.now(),
    },
  ]);
  const deliverer = createDeliverer({
    store,
    agency: () => agency,
    senders: { telegram: telegramSender(), zalo: zaloSender() },
    clock: Date.now,
    log: pino({ level: 'silent' }),
  });
  const [outcome] = await deliverer.deliverDue();
  const delivery = (await store.deliveries())[0]!;
  return { outcome, attempts: (await store.attempts([delivery.id])).get(delivery.id)!, delivery };
}

const telegram = (over: Partial<Extract<ReceiverInput, { type: 'telegram' }>> = {}): ReceiverInput => ({
  id: 'duty-chat',
  type: 'telegram',
  chat_id: '-1001234567890',
  bot_token: BOT_TOKEN,
  api_url: base,
  ...over,
});
const zalo = (over: Partial<Extract<ReceiverInput, { type: 'zalo' }>> = {}): ReceiverInput => ({
  id: 'truc-ban',
  type: 'zalo',
  user_id: '84123',
  access_token: OA_TOKEN,
  api_url: base,
  ...over,
});

describe('Telegram receivers', () => {
  it("send the notification's text to the chat through the bot, in the agency's language, as plain text", async () => {
    const { outcome, attempts } = await send(telegram());
    expect(outcome?.status).toBe('delivered');
    expect(attempts.map((a) => a.detail)).toEqual(['Telegram message 1']);
    const [req] = received;
    expect(req!.path).toBe(`/bot${BOT_TOKEN}/sendMessage`);
    expect(req!.body).toMatchObject({
      chat_id: '-1001234567890',
      link_preview_options: { is_disabled: true },
    });
    expect(req!.body).not.toHaveProperty('parse_mode');
    const text = String(req!.body.text);
    expect(text.split('\n')[0]).toBe('[NGHIÊM TRỌNG] River above alarm level (Kim Long)');
    expect(text).toContain('past alarm level 3 <3.5 m> (thiết bị rg-kim-long, đang mở');
    expect(text).toContain('http://localhost:8080/console/#/alerts/12');
  });

  it("word it with the receiver's own template for the agency's language", async () => {
    const templates = { en: { text: 'FLOOD {{severity}}: {{title}} at {{place}} ({{count}})\n{{links}}' } };
    await send(telegram({ templates }), KIM_LONG_NOTIFICATION, 'en');
    expect(received[0]!.body.text).toBe(
      'FLOOD CRITICAL: River above alarm level at Kim Long (1)\nhttp://localhost:8080/console/#/alerts/12',
    );
  });

  it("fail with Telegram's own words when it refuses, keeping the token out of the record", async () => {
    telegramScript.push({
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 3',
        parameters: { retry_after: 3 },
      },
    });
    const limited = await send(telegram());
    expect(limited.outcome?.status).toBe('pending');
    expect(limited.attempts[0]!.detail).toBe(
      'Telegram 429: Too Many Requests: retry after 3, retry after 3 s',
    );
    await store.close();
    store = openNotifyStore(path.join(dir, 'other.db'));
    const wrong = await send(telegram({ bot_token: '7301234567:not-the-bot-token-at-all' }));
    expect(wrong.delivery.lastError).toBe('Telegram 401: Unauthorized');
    expect(JSON.stringify([limited, wrong])).not.toContain('not-the-bot-token');
    expect(JSON.stringify([limited, wrong])).not.toContain(BOT_TOKEN);
  });

  it('fail, saying so, when no bot token is stored', async () => {
    const { delivery } = await send(telegram({ bot_token: undefined }));
    expect(delivery.lastError).toBe('no bot_token is stored for this receiver');
    expect(received).toEqual([]);
  });
});

describe('Zalo receivers', () => {
  it("send the notification's text to the follower from the Official Account, the token in its header", async () => {
    const { outcome, attempts } = await send(zalo());
    expect(outcome?.status).toBe('delivered');
    expect(attempts[0]!.detail).toBe('Zalo message zmsg-1');
    const [req] = received;
    expect(req!.path).toBe('/v3.0/oa/message/cs');
    expect(req!.headers.access_token).toBe(OA_TOKEN);
    expect(req!.body).toEqual({
      recipient: { user_id: '84123' },
      message: {
        text: expect.stringContaining('[NGHIÊM TRỌNG] River above alarm level (Kim Long)') as unknown,
      },
    });
  });

  it('fail on an error answered with HTTP 200, in its own words', async () => {
    const { outcome, delivery } = await send(zalo({ access_token: 'an-expired-access-token-0000' }));
    expect(outcome?.status).toBe('pending');
    expect(delivery.lastError).toBe('Zalo -216: Access token is invalid');
  });

  it("cut a district's long notification to Zalo's 2000 characters", async () => {
    const alerts = Array.from({ length: 40 }, (_, i) => ({
      ...KIM_LONG_ALERT,
      id: i + 1,
      device: `sf-${i}`,
    }));
    await send(zalo(), { ...KIM_LONG_NOTIFICATION, alerts });
    const text = String((received[0]!.body.message as { text: string }).text);
    expect([...text]).toHaveLength(ZALO_MAX_TEXT);
    expect(text.endsWith('…')).toBe(true);
  });
});

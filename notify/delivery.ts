// Delivery: the queued deliveries sent to their receivers, each attempt recorded (time, outcome, latency).
// A failure is tried again after an exponential backoff with jitter, up to a number of attempts, then
// the delivery is dead (kept, with its attempts, for an operator to see). A receiver that hangs or
// fails holds up only its own deliveries: one in flight per receiver, every send bounded by a timeout.
// What each kind of receiver expects (signatures, Telegram's and Zalo's APIs), with sources:
// docs/receivers.md.
import { createHash, createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { AgencyRecord, Receiver } from '../devices/index.ts';
import type { Notification } from './notifier.ts';
import type { Delivery, NotifyStore } from './outbox.ts';
import { clip, renderNotification, type RenderedMessage } from './templates.ts';

/** What a sender is told: the delivery, and the receiver's configuration (secrets included). */
export interface SendJob {
  readonly delivery: Delivery;
  readonly receiver: Receiver;
  readonly agency: AgencyRecord;
  readonly signal: AbortSignal;
  /** The city's time zone: the times a message gives people. */
  readonly timeZone: string;
}

/** Resolves with a short detail of the success; throws (or rejects) with why it failed. */
export type Sender = (job: SendJob) => Promise<string>;

export interface DeliveryOptions {
  /** Attempts before a delivery is dead. Default 8. */
  readonly maxAttempts?: number;
  /** The first retry's delay; it doubles each attempt, up to `maxBackoffMs`. Defaults 5 s and 10 min. */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A send taking longer fails. Default 10 s. */
  readonly timeoutMs?: number;
}

export interface DeliveryDeps extends DeliveryOptions {
  readonly store: NotifyStore;
  readonly agency: (id: string) => AgencyRecord | undefined;
  readonly senders: Partial<Record<Receiver['type'], Sender>>;
  /** The city's time zone, for the times in messages; Huế's (Asia/Ho_Chi_Minh) unless given. */
  readonly timeZone?: string;
  readonly clock: () => number;
  /** [0, 1): the backoff's jitter. */
  readonly random?: () => number;
  readonly log: Logger;
}

export interface DeliveryOutcome {
  /** The delivery as it was before this attempt. */
  readonly delivery: Delivery;
  readonly ok: boolean;
  /** When the attempt started, ms since the epoch. */
  readonly at: number;
  readonly latencyMs: number;
  /** What the receiver answered, or why the attempt failed. */
  readonly detail: string;
  readonly status: 'delivered' | 'pending' | 'dead';
}

export interface Deliverer {
  /** Sends what is due now, one delivery at a time per receiver; resolves when those sends are settled. */
  deliverDue(): Promise<DeliveryOutcome[]>;
}

/** The delay before attempt `attempt + 1`: doubled each time, capped, with ±20 % jitter. */
export function backoffMs(attempt: number, base: number, cap: number, random: () => number): number {
  const plain = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(plain * (0.8 + 0.4 * random()));
}

export function createDeliverer(deps: DeliveryDeps): Deliverer {
  const { store, clock, log } = deps;
  const maxAttempts = deps.maxAttempts ?? 8;
  const base = deps.baseBackoffMs ?? 5_000;
  const cap = deps.maxBackoffMs ?? 10 * 60_000;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const random = deps.random ?? Math.random;
  const timeZone = deps.timeZone ?? 'Asia/Ho_Chi_Minh';
  /** Receivers with a send in flight: the next of theirs waits. */
  const busy = new Set<string>();

  async function attempt(d: Delivery): Promise<DeliveryOutcome> {
    const started = clock();
    const t0 = performance.now();
    let ok = false;
    let detail: string;
    try {
      const agency = deps.agency(d.agency);
      const receiver = agency?.receivers.find((r) => r.id === d.receiver && r.type === d.type);
      const sender = deps.senders[d.type as Receiver['type']];
      if (agency === undefined || receiver === undefined)
        throw new Error(`no receiver ${d.agency}/${d.receiver} in the registry`);
      if (sender === undefined) throw new Error(`no sender for ${d.type} receivers`);
      const signal = AbortSignal.timeout(timeoutMs);
      detail = await sender({ delivery: d, receiver, agency, signal, timeZone });
      ok = true;
    } catch (err) {
      detail = err instanceof Error ? err.message : String(err);
    }
    const latencyMs = performance.now() - t0;
    const attempts = d.attempts + 1;
    const status = ok ? 'delivered' : attempts >= maxAttempts ? 'dead' : 'pending';
    const retryAt = status === 'pending' ? started + backoffMs(attempts, base, cap, random) : undefined;
    await store.recordAttempt(
      d,
      { at: started, ok, latencyMs, detail: detail.slice(0, 500) },
      { status, ...(retryAt === undefined ? {} : { retryAt }) },
    );
    if (status === 'dead')
      log.warn({ delivery: d.key, attempts, detail }, 'notification dead after its last attempt');
    else if (!ok)
      log.info({ delivery: d.key, attempts, retryAt, detail }, 'notification not delivered; will retry');
    return { delivery: d, ok, at: started, latencyMs, detail, status };
  }

  return {
    async deliverDue() {
      const due = await store.dueDeliveries(clock(), 200);
      const sends: Promise<DeliveryOutcome>[] = [];
      for (const d of due) {
        const receiver = `${d.agency}/${d.receiver}`;
        if (busy.has(receiver)) continue;
        busy.add(receiver);
        sends.push(attempt(d).finally(() => busy.delete(receiver)));
      }
      return Promise.all(sends);
    },
  };
}

/** The notification worded for people, in the agency's language, with the receiver's template if it has one. */
function messageOf({ delivery, receiver, agency, timeZone }: SendJob) {
  const templates = 'templates' in receiver ? receiver.templates : undefined;
  return renderNotification(
    delivery.payload as Notification,
    agency.language,
    templates?.[agency.language],
    timeZone,
  );
}

/** What machines get: the delivery's key, the notification, and its words for a screen or a log. */
function machineBody(job: SendJob): string {
  const { subject, text }: RenderedMessage = messageOf(job);
  return JSON.stringify({
    delivery: job.delivery.key,
    notification: job.delivery.payload,
    message: { subject, text },
  });
}

/** Headers of a signed webhook delivery, as GitHub and Stripe sign theirs: `t=<unix s>,v1=<hex HMAC>`. */
export function webhookSignature(secret: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex');
  return `t=${timestampS},v1=${mac}`;
}

/**
 * Webhook receivers: a JSON POST of `{ delivery, notification }`, with the delivery's key (for the receiver
 * to drop a repeat) and, when the receiver has a secret, a signature over the timestamp and the body.
 * 2xx is delivered; anything else, or no answer in time, is a failure.
 */
export function webhookSender(clock: () => number): Sender {
  return async (job) => {
    const { delivery, receiver, signal } = job;
    if (receiver.type !== 'webhook') throw new Error(`${receiver.type} receiver given to the webhook sender`);
    const body = machineBody(job);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'city-telemetry-notifier',
      'idempotency-key': delivery.key,
    };
    if (receiver.secret !== undefined)
      headers['x-city-signature'] = webhookSignature(receiver.secret, Math.floor(clock() / 1000), body);
    const res = await fetch(receiver.url, { method: 'POST', headers, body, signal, redirect: 'manual' });
    await res.body?.cancel();
    if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}`);
    return `HTTP ${res.status}`;
  };
}

/** MQTT receivers: the notification published on city/notifications/<agency> (QoS 1, not retained). */
export function mqttSender(
  publish: (topic: string, payload: string) => Promise<void>,
  topic: (agency: string) => string,
): Sender {
  return async (job) => {
    await publish(topic(job.delivery.agency), machineBody(job));
    return 'published';
  };
}

/** What the e-mail sender needs of nodemailer's transport. */
export interface MailTransport {
  sendMail(message: {
    from: string;
    to: string[];
    subject: string;
    text: string;
    html: string;
    messageId: string;
    headers: Record<string, string>;
  }): Promise<unknown>;
}

/**
 * E-mail receivers: the notification written for people, in the agency's language, as plain text and
 * HTML. The Message-ID comes from the delivery's key, so a repeat is the same message to a mail system.
 */
export function emailSender(transport: MailTransport | undefined, from: string): Sender {
  return async (job) => {
    const { delivery, receiver } = job;
    if (receiver.type !== 'email') throw new Error(`${receiver.type} receiver given to the e-mail sender`);
    if (transport === undefined) throw new Error('no SMTP server is configured (CITY_SMTP_URL)');
    const message = messageOf(job);
    const id = createHash('sha256').update(delivery.key).digest('hex').slice(0, 32);
    await transport.sendMail({
      from,
      to: [...receiver.to],
      ...message,
      messageId: `<${id}@city-telemetry>`,
      headers: { 'X-City-Delivery': delivery.key },
    });
    return `sent to ${receiver.to.length} address(es)`;
  };
}

/** POSTs JSON and reads a JSON answer (a chat API answers JSON on success and failure alike). */
async function postJson(
  url: string,
  headers: Record<string, string>,
  body: unknown,
  signal: AbortSignal,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'city-telemetry-notifier', ...headers },
    body: JSON.stringify(body),
    signal,
    redirect: 'manual',
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status}, not JSON: ${text.slice(0, 120)}`);
  }
  if (typeof json !== 'object' || json === null) throw new Error(`HTTP ${res.status}, not a JSON object`);
  return { status: res.status, json: json as Record<string, unknown> };
}

/** A string or number of a chat API's answer as text; `fallback` for anything else. */
const say = (value: unknown, fallback: string): string =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : fallback;

/** Telegram's Bot API: a message is at most 4096 characters. */
export const TELEGRAM_MAX_TEXT = 4096;
/** A Zalo Official Account text message is at most 2000 characters. */
export const ZALO_MAX_TEXT = 2000;

/**
 * Telegram receivers: the text of the notification sent by the agency's bot to a chat (sendMessage of the
 * Bot API, plain text, so nothing in an alert is read as markup). Telegram answers `{ ok, result }` or
 * `{ ok: false, error_code, description }`; the bot's token is in the URL, so it never goes into a detail.
 */
export function telegramSender(): Sender {
  return async (job) => {
    const { receiver, signal } = job;
    if (receiver.type !== 'telegram')
      throw new Error(`${receiver.type} receiver given to the Telegram sender`);
    if (receiver.bot_token === undefined) throw new Error('no bot_token is stored for this receiver');
    const base = (receiver.api_url ?? 'https://api.telegram.org').replace(/\/+$/, '');
    const { text } = messageOf(job);
    const { status, json } = await postJson(
      `${base}/bot${receiver.bot_token}/sendMessage`,
      {},
      {
        chat_id: receiver.chat_id,
        text: clip(text, TELEGRAM_MAX_TEXT),
        link_preview_options: { is_disabled: true },
      },
      signal,
    );
    if (json.ok !== true) {
      const retry = (json.parameters as { retry_after?: unknown } | undefined)?.retry_after;
      const after = typeof retry === 'number' ? `, retry after ${retry} s` : '';
      throw new Error(
        `Telegram ${say(json.error_code, `HTTP ${status}`)}: ${say(json.description, 'no description')}${after}`,
      );
    }
    const id = (json.result as { message_id?: unknown } | undefined)?.message_id;
    return `Telegram message ${say(id, '?')}`;
  };
}

/**
 * Zalo receivers: the text of the notification sent from the agency's Official Account to a follower
 * (the OA API's customer-service message, v3.0, the access token in the `access_token` header). Zalo
 * answers HTTP 200 with `error: 0` on success and a negative `error` with a `message` otherwise.
 */
export function zaloSender(): Sender {
  return async (job) => {
    const { receiver, signal } = job;
    if (receiver.type !== 'zalo') throw new Error(`${receiver.type} receiver given to the Zalo sender`);
    if (receiver.access_token === undefined) throw new Error('no access_token is stored for this receiver');
    const base = (receiver.api_url ?? 'https://openapi.zalo.me').replace(/\/+$/, '');
    const { text } = messageOf(job);
    const { status, json } = await postJson(
      `${base}/v3.0/oa/message/cs`,
      { access_token: receiver.access_token },
      { recipient: { user_id: receiver.user_id }, message: { text: clip(text, ZALO_MAX_TEXT) } },
      signal,
    );
    if (json.error !== 0)
      throw new Error(`Zalo ${say(json.error, `HTTP ${status}`)}: ${say(json.message, 'no message')}`);
    const id = (json.data as { message_id?: unknown } | undefined)?.message_id;
    return `Zalo message ${say(id, '?')}`;
  };
}

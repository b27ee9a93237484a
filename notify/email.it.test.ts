// E-mail receivers against a real SMTP server in the test (smtp-server on loopback), through nodemailer:
// one message per delivery, to the receiver's addresses, in the agency's language, as text and HTML, with
// the alert's text escaped in the HTML and a Message-ID from the delivery's key.
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { floodControl, KIM_LONG_NOTIFICATION } from '../test/kits/notifications.ts';
import { createDeliverer, emailSender, type MailTransport } from './delivery.ts';
import type { NotifyStore } from './outbox.ts';
import { openNotifyStore } from './store-sqlite.ts';

let smtp: SMTPServer;
let port: number;
const mails: ParsedMail[] = [];
let dir: string;
let store: NotifyStore;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          mails.push(mail);
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  port = (smtp.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});
beforeEach(async () => {
  mails.length = 0;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'email-'));
  store = openNotifyStore(path.join(dir, 'notify.db'));
});
afterEach(async () => {
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const notification = KIM_LONG_NOTIFICATION;
const agency = (language: 'vi' | 'en') =>
  floodControl(language, [
    { id: 'duty-officer', type: 'email', to: ['truc-ban@example.org', 'chi-huy@example.org'] },
  ]);

/** Queues the notification for the agency's e-mail receiver and sends it through `transport`. */
async function deliver(language: 'vi' | 'en', transport: MailTransport | undefined) {
  const key = `${notification.key}/flood-control/duty-officer`;
  const queued = { key, groupKey: 'g', agency: 'flood-control', receiver: 'duty-officer', type: 'email' };
  await store.commit([{ kind: 'deliver', delivery: { ...queued, payload: notification }, at: Date.now() }]);
  const deliverer = createDeliverer({
    store,
    agency: () => agency(language),
    senders: { email: emailSender(transport, 'Nền tảng đô thị <canh-bao@example.org>') },
    clock: Date.now,
    log: pino({ level: 'silent' }),
  });
  return deliverer.deliverDue();
}

/** Through the SMTP server of the test. */
async function deliverBySmtp(language: 'vi' | 'en') {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    return await deliver(language, transport);
  } finally {
    transport.close();
  }
}

describe('e-mail receivers', () => {
  it("send one message to the receiver's addresses, in Vietnamese, the alert's text escaped in the HTML", async () => {
    expect((await deliverBySmtp('vi')).map((o) => o.status)).toEqual(['delivered']);
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail!.subject).toBe('[NGHIÊM TRỌNG] River above alarm level (Kim Long)');
    expect(
      (Array.isArray(mail!.to) ? mail!.to : [mail!.to]).flatMap((t) => t?.value.map((v) => v.address)),
    ).toEqual(['truc-ban@example.org', 'chi-huy@example.org']);
    expect(mail!.text).toContain('water level 3.62 m, past alarm level 3 <3.5 m>');
    expect(mail!.text).toContain('thiết bị rg-kim-long, đang mở');
    expect(mail!.html).toContain('past alarm level 3 &#60;3.5 m&#62;');
    expect(mail!.html).not.toContain('<3.5 m>');
    expect(mail!.headers.get('x-city-delivery')).toBe(`${notification.key}/flood-control/duty-officer`);
    expect(mail!.messageId).toMatch(/^<[0-9a-f]{32}@city-telemetry>$/);
  });

  it('write in English for an agency whose language is English', async () => {
    await deliverBySmtp('en');
    expect(mails[0]!.subject).toBe('[CRITICAL] River above alarm level (Kim Long)');
    expect(mails[0]!.text).toContain('device rg-kim-long, open, raised at');
  });

  it('fail, saying so, when no SMTP server is configured', async () => {
    await deliver('vi', undefined);
    expect((await store.deliveries())[0]?.lastError).toBe('no SMTP server is configured (CITY_SMTP_URL)');
  });
});

// What a notification says to people (e-mail today; chat next), in the agency's language: Vietnamese or
// English. Alert messages, device names and notes are text from rules and operators: they are escaped in
// HTML, never trusted as markup.
import type { Alert } from '../alerts/index.ts';
import type { Language } from '../devices/index.ts';
import type { Notification } from './notifier.ts';

const WORDS = {
  vi: {
    severity: { info: 'THÔNG TIN', warning: 'CẢNH BÁO', critical: 'NGHIÊM TRỌNG' },
    resolved: 'ĐÃ XỬ LÝ',
    referred: 'CHUYỂN CẤP',
    notAcknowledged: (minutes: number, step: number, steps: number) =>
      `Chưa được tiếp nhận sau ${minutes} phút: chuyển cấp (bước ${step}/${steps}).`,
    alerts: (n: number) => `${n} cảnh báo`,
    state: { open: 'đang mở', acknowledged: 'đã tiếp nhận', resolved: 'đã xử lý' },
    raised: 'phát sinh lúc',
    device: 'thiết bị',
    footer: 'Nền tảng giám sát đô thị thông minh. Mã thông báo',
  },
  en: {
    severity: { info: 'INFO', warning: 'WARNING', critical: 'CRITICAL' },
    resolved: 'RESOLVED',
    referred: 'ESCALATED',
    notAcknowledged: (minutes: number, step: number, steps: number) =>
      `Not acknowledged after ${minutes} min: escalated (step ${step} of ${steps}).`,
    alerts: (n: number) => `${n} alert${n === 1 ? '' : 's'}`,
    state: { open: 'open', acknowledged: 'acknowledged', resolved: 'resolved' },
    raised: 'raised at',
    device: 'device',
    footer: 'City telemetry platform. Notification',
  },
} as const;

export interface RenderedMessage {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const RANK = { info: 1, warning: 2, critical: 3 } as const;

function worst(alerts: readonly Alert[]): Alert['severity'] {
  return alerts.reduce<Alert['severity']>((w, a) => (RANK[a.severity] > RANK[w] ? a.severity : w), 'info');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A time as the city reads it: Huế's (UTC+7, no daylight saving), or the given zone. */
function localTime(iso: string, language: Language, timeZone: string): string {
  return new Intl.DateTimeFormat(language === 'vi' ? 'vi-VN' : 'en-GB', {
    timeZone,
    dateStyle: 'short',
    timeStyle: 'short',
  }).format(new Date(iso));
}

/** The subject, plain text and HTML of a notification, in `language`, times in `timeZone`. */
export function renderNotification(
  n: Notification,
  language: Language,
  timeZone = 'Asia/Ho_Chi_Minh',
): RenderedMessage {
  const w = WORDS[language];
  const severity = n.status === 'resolved' ? w.resolved : w.severity[worst(n.alerts)];
  const head = n.referral === undefined ? severity : `${w.referred} · ${severity}`;
  const first = n.alerts[0];
  const place = Object.entries(n.group)
    .filter(([k]) => k === 'district' || k === 'device')
    .map(([, v]) => v)
    .join(', ');
  const title = n.alerts.length === 1 && first !== undefined ? first.title : w.alerts(n.alerts.length);
  const subject = `[${head}] ${title}${place === '' ? '' : ` (${place})`}`;
  const line = (a: Alert) =>
    `${a.message} (${w.device} ${a.device}, ${w.state[a.state]}, ${w.raised} ${localTime(a.raisedAt, language, timeZone)})`;
  const r = n.referral;
  const why = r === undefined ? [] : [w.notAcknowledged(Math.round(r.afterMs / 60_000), r.step, r.steps)];
  const text = [subject, '', ...why, ...n.alerts.map((a) => `- ${line(a)}`), '', `${w.footer} ${n.key}`].join(
    '\n',
  );
  const html = [
    `<h2>${escapeHtml(subject)}</h2>`,
    ...why.map((p) => `<p>${escapeHtml(p)}</p>`),
    '<ul>',
    ...n.alerts.map((a) => `<li>${escapeHtml(line(a))}</li>`),
    '</ul>',
    `<p><small>${escapeHtml(`${w.footer} ${n.key}`)}</small></p>`,
  ].join('\n');
  return { subject, text, html };
}

// What a notification says to people (e-mail, Telegram, Zalo), in the agency's language: Vietnamese or
// English. A receiver may word it itself with a template per language (devices/message-templates.ts: text
// with {{field}} placeholders); the defaults below are written in that same form. Alert messages, device
// names and notes are text from rules and operators: the HTML escapes them, never trusting them as markup.
import type { Alert } from '../alerts/index.ts';
import { fillTemplate, type Language, type MessageTemplate, type TemplateField } from '../devices/index.ts';
import type { Notification } from './notifier.ts';

const WORDS = {
  vi: {
    severity: { info: 'THÔNG TIN', warning: 'CẢNH BÁO', critical: 'NGHIÊM TRỌNG' },
    resolved: 'ĐÃ XỬ LÝ',
    referred: 'CHUYỂN CẤP',
    status: { firing: 'đang diễn ra', resolved: 'đã xử lý' },
    notAcknowledged: (minutes: number, step: number, steps: number) =>
      `Chưa được tiếp nhận sau ${minutes} phút: chuyển cấp (bước ${step}/${steps}).`,
    alerts: (n: number) => `${n} cảnh báo`,
    state: { open: 'đang mở', acknowledged: 'đã tiếp nhận', resolved: 'đã xử lý' },
    raised: 'phát sinh lúc',
    device: 'thiết bị',
  },
  en: {
    severity: { info: 'INFO', warning: 'WARNING', critical: 'CRITICAL' },
    resolved: 'RESOLVED',
    referred: 'ESCALATED',
    status: { firing: 'firing', resolved: 'resolved' },
    notAcknowledged: (minutes: number, step: number, steps: number) =>
      `Not acknowledged after ${minutes} min: escalated (step ${step} of ${steps}).`,
    alerts: (n: number) => `${n} alert${n === 1 ? '' : 's'}`,
    state: { open: 'open', acknowledged: 'acknowledged', resolved: 'resolved' },
    raised: 'raised at',
    device: 'device',
  },
} as const;

/** The platform's own templates: what a receiver without one gets. */
export const DEFAULT_TEMPLATES: Readonly<Record<Language, Required<MessageTemplate>>> = {
  vi: {
    subject: '{{headline}}',
    text: '{{headline}}\n\n{{escalation}}\n\n{{alerts}}\n\n{{links}}\n\nNền tảng giám sát đô thị. Mã thông báo {{key}}',
  },
  en: {
    subject: '{{headline}}',
    text: '{{headline}}\n\n{{escalation}}\n\n{{alerts}}\n\n{{links}}\n\nCity telemetry platform. Notification {{key}}',
  },
};

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

/** The text of every template field for a notification, in `language`, times in `timeZone`. */
export function templateFields(
  n: Notification,
  language: Language,
  timeZone = 'Asia/Ho_Chi_Minh',
): Record<TemplateField, string> {
  const w = WORDS[language];
  const severity = w.severity[worst(n.alerts)];
  const status = n.status === 'resolved' ? w.resolved : severity;
  const head = n.referral === undefined ? status : `${w.referred} · ${status}`;
  const first = n.alerts[0];
  const place = Object.entries(n.group)
    .filter(([k]) => k === 'district' || k === 'device')
    .map(([, v]) => v)
    .join(', ');
  const title = n.alerts.length === 1 && first !== undefined ? first.title : w.alerts(n.alerts.length);
  const r = n.referral;
  return {
    headline: `[${head}] ${title}${place === '' ? '' : ` (${place})`}`,
    status: w.status[n.status],
    severity,
    title,
    count: String(n.alerts.length),
    place,
    alerts: n.alerts
      .map(
        (a) =>
          `- ${a.message} (${w.device} ${a.device}, ${w.state[a.state]}, ${w.raised} ${localTime(a.raisedAt, language, timeZone)})`,
      )
      .join('\n'),
    escalation: r === undefined ? '' : w.notAcknowledged(Math.round(r.afterMs / 60_000), r.step, r.steps),
    links: n.alerts.flatMap((a) => (a.link === undefined ? [] : [a.link])).join('\n'),
    key: n.key,
  };
}

/** Blank lines left by empty fields close up; no more than one blank line in a row, none at the ends. */
const tidy = (text: string) => text.replace(/\n{3,}/g, '\n\n').trim();

/** Text as HTML, escaped: a paragraph per blank-line block, a list where every line starts with "- ". */
function textToHtml(subject: string, text: string): string {
  const blocks = text.split('\n\n').map((block) => {
    const lines = block.split('\n');
    if (block === subject) return `<h2>${escapeHtml(block)}</h2>`;
    if (lines.every((l) => l.startsWith('- ')))
      return `<ul>\n${lines.map((l) => `<li>${escapeHtml(l.slice(2))}</li>`).join('\n')}\n</ul>`;
    return `<p>${lines.map(escapeHtml).join('<br>\n')}</p>`;
  });
  return blocks.join('\n');
}

/**
 * The subject, plain text and HTML of a notification, in `language`, worded by the receiver's template
 * for that language if it has one (the subject from the default when the template gives none).
 */
export function renderNotification(
  n: Notification,
  language: Language,
  template?: MessageTemplate,
  timeZone?: string,
): RenderedMessage {
  const fields = templateFields(n, language, timeZone);
  const chosen = { ...DEFAULT_TEMPLATES[language], ...template };
  const subject = tidy(fillTemplate(chosen.subject, fields)).replace(/\s+/g, ' ');
  const text = tidy(fillTemplate(chosen.text, fields));
  return { subject, text, html: textToHtml(subject, text) };
}

/** A message cut to a chat's limit, ending with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

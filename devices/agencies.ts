// Agencies: the bodies an alert is routed to until it is handled (in Huế the flood steering committee, the
// lighting company, the environment department and the operations centre itself: docs/domain.md, "The
// operations centre"). A registry record like a device: an id that rules' `owner` and flows' alert
// requests name, a name in Vietnamese and in English, the language its messages are written in, how it
// is reached (receivers) and how soon it should acknowledge an alert of each severity.
import { z } from 'zod';
import { parseInput, RegistryError } from './errors.ts';
import { MessageTemplate } from './message-templates.ts';

/** An agency's id: what a rule's `owner` names, an InfluxDB tag value and a URL segment. */
export const AGENCY_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;
export const AgencyId = z
  .string()
  .regex(
    AGENCY_ID_PATTERN,
    'lower-case letters, digits and - (1–40, first a letter or digit), such as flood-control',
  );

export const LANGUAGES = ['vi', 'en'] as const;
export const Language = z.enum(LANGUAGES);
export type Language = z.infer<typeof Language>;

const Name = z.string().trim().min(1).max(200);
const ReceiverId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lower-case letters, digits and - (1–40), such as duty-officer');
const HttpUrl = z.url({
  protocol: /^https?$/,
  error: 'expected an http or https URL, such as https://ops.example.org/alerts',
});
/** A receiver's secret (a signing key, a bot's token): never shown again once stored. */
const Secret = z.string().min(16, 'at least 16 characters').max(512);

/** How a receiver people read words its messages, per language; the defaults where none is given. */
const Templates = z
  .strictObject({ vi: MessageTemplate.optional(), en: MessageTemplate.optional() })
  .optional()
  .describe("message templates by language ({{field}} placeholders); the platform's own where left out");

const WebhookReceiver = z.strictObject({
  id: ReceiverId,
  type: z.literal('webhook'),
  url: HttpUrl,
  /** Signs each delivery (HMAC-SHA256 of the timestamp and the body). */
  secret: Secret.optional(),
});
const EmailReceiver = z.strictObject({
  id: ReceiverId,
  type: z.literal('email'),
  to: z
    .array(z.email({ error: 'expected an e-mail address, such as duty@example.org' }))
    .min(1)
    .max(20),
  templates: Templates,
});
/** Published on city/notifications/<agency> for control-room screens and sirens. */
const MqttReceiver = z.strictObject({ id: ReceiverId, type: z.literal('mqtt') });
const TelegramReceiver = z.strictObject({
  id: ReceiverId,
  type: z.literal('telegram'),
  chat_id: z.string().trim().min(1).max(64),
  bot_token: Secret.optional(),
  /** The Bot API's address; Telegram's own when left out. */
  api_url: HttpUrl.optional(),
  templates: Templates,
});
const ZaloReceiver = z.strictObject({
  id: ReceiverId,
  type: z.literal('zalo'),
  /** The follower of the agency's Official Account the message goes to. */
  user_id: z.string().trim().min(1).max(64),
  access_token: Secret.optional(),
  /** The Official Account API's address; Zalo's own when left out. */
  api_url: HttpUrl.optional(),
  templates: Templates,
});

/**
 * How an agency is reached. Secrets (`secret`, `bot_token`, `access_token`) are write-only: reads leave
 * them out, and a replacement that leaves one out keeps the stored one.
 */
export const Receiver = z.discriminatedUnion('type', [
  WebhookReceiver,
  EmailReceiver,
  MqttReceiver,
  TelegramReceiver,
  ZaloReceiver,
]);
export type Receiver = z.infer<typeof Receiver>;
export type ReceiverType = Receiver['type'];

const SecretSet = { secret_set: z.boolean().describe('whether a secret is stored (it is never shown)') };

/** A receiver as anyone may read it: its secret left out, `secret_set` saying whether one is kept. */
export const PublicReceiver = z.discriminatedUnion('type', [
  WebhookReceiver.omit({ secret: true }).extend(SecretSet),
  EmailReceiver,
  MqttReceiver,
  TelegramReceiver.omit({ bot_token: true }).extend(SecretSet),
  ZaloReceiver.omit({ access_token: true }).extend(SecretSet),
]);
export type PublicReceiver = z.infer<typeof PublicReceiver>;

/** The fields of a receiver that hold a secret, by type. */
const SECRET_FIELDS = { webhook: 'secret', telegram: 'bot_token', zalo: 'access_token' } as const;

const Minutes = z
  .number()
  .int()
  .min(1)
  .max(7 * 24 * 60);
const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM, such as 07:30');

export const AgencyInput = z.strictObject({
  id: AgencyId,
  name: z.strictObject({ vi: Name, en: Name }),
  /** The language of its notifications. */
  language: Language.default('vi'),
  receivers: z
    .array(Receiver)
    .max(20)
    .default([])
    .refine((list) => new Set(list.map((r) => r.id)).size === list.length, 'receiver ids must be unique'),
  /** Minutes within which an alert of each severity should be acknowledged; past it, it is escalated. */
  ack_target_minutes: z
    .strictObject({ critical: Minutes, warning: Minutes, info: Minutes })
    .default({ critical: 15, warning: 120, info: 24 * 60 }),
  /** When the agency is staffed, in the city's time zone; days are ISO weekdays (1 Monday … 7 Sunday). */
  working_hours: z
    .strictObject({
      days: z.array(z.number().int().min(1).max(7)).min(1).max(7),
      from: ClockTime,
      to: ClockTime,
    })
    .optional(),
});
export type AgencyInput = z.input<typeof AgencyInput>;
export type WorkingHours = NonNullable<z.output<typeof AgencyInput>['working_hours']>;

const WEEKDAYS: Readonly<Record<string, number>> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/**
 * Whether `at` (ms) falls in working hours, read in `timeZone`: on one of `days` (ISO weekdays), from
 * `from` up to `to`; a `to` before `from` runs past midnight (a night shift, counted on the day it starts).
 */
export function withinWorkingHours(hours: WorkingHours, at: number, timeZone: string): boolean {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(at))
      .map((p) => [p.type, p.value]),
  );
  const day = WEEKDAYS[parts.weekday ?? ''] ?? 0;
  const minute = Number(parts.hour) * 60 + Number(parts.minute);
  const [from, to] = [hours.from, hours.to].map((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3)));
  if (from! <= to!) return hours.days.includes(day) && minute >= from! && minute < to!;
  // Past midnight: the evening of a working day, or the early hours after one.
  const yesterday = day === 1 ? 7 : day - 1;
  return (hours.days.includes(day) && minute >= from!) || (hours.days.includes(yesterday) && minute < to!);
}

export interface AgencyRecord extends z.output<typeof AgencyInput> {
  readonly created_at: string;
  readonly updated_at: string;
}

/** An agency as anyone may read it: no receiver secret in it. */
export const PublicAgency = z.object({
  ...AgencyInput.shape,
  receivers: z.array(PublicReceiver),
  created_at: z.string(),
  updated_at: z.string(),
});
export type PublicAgency = z.infer<typeof PublicAgency>;

export function publicAgency(a: AgencyRecord): PublicAgency {
  return {
    ...a,
    receivers: a.receivers.map((r): PublicReceiver => {
      if (r.type === 'webhook') {
        const { secret, ...rest } = r;
        return { ...rest, secret_set: secret !== undefined };
      }
      if (r.type === 'telegram') {
        const { bot_token, ...rest } = r;
        return { ...rest, secret_set: bot_token !== undefined };
      }
      if (r.type === 'zalo') {
        const { access_token, ...rest } = r;
        return { ...rest, secret_set: access_token !== undefined };
      }
      return r;
    }),
  };
}

/** Receivers of `next` that leave out a secret keep the one `prev`'s receiver of the same id and type had. */
function keepSecrets(prev: AgencyRecord | undefined, next: z.output<typeof AgencyInput>) {
  if (prev === undefined) return next;
  const before = new Map(prev.receivers.map((r) => [`${r.type}\u0000${r.id}`, r]));
  return {
    ...next,
    receivers: next.receivers.map((r) => {
      if (!(r.type in SECRET_FIELDS)) return r;
      const field = SECRET_FIELDS[r.type as keyof typeof SECRET_FIELDS];
      const own = r as Record<string, unknown>;
      const old = before.get(`${r.type}\u0000${r.id}`) as Record<string, unknown> | undefined;
      return own[field] === undefined && old?.[field] !== undefined ? { ...r, [field]: old[field] } : r;
    }),
  };
}

export interface Agencies {
  list(): AgencyRecord[];
  get(id: string): AgencyRecord | undefined;
  /** REGISTRY_ERR_DUPLICATE when the id is taken. */
  create(input: AgencyInput): Promise<AgencyRecord>;
  /** The whole record replaced (its id kept); receiver secrets left out are kept. REGISTRY_ERR_NOT_FOUND. */
  replace(id: string, input: AgencyInput): Promise<AgencyRecord>;
  /** REGISTRY_ERR_NOT_FOUND when there is none. */
  remove(id: string): Promise<void>;
  /** The stored records read again (another node changed them). */
  reload(rows: readonly unknown[]): void;
}

export interface AgencyStorage {
  insert(record: AgencyRecord): Promise<void>;
  update(record: AgencyRecord): Promise<void>;
  delete(id: string): Promise<void>;
}

/** Agencies served from memory, written through `storage` first. `rows` are the stored records (JSON). */
export function createAgencies(
  rows: readonly unknown[],
  storage: AgencyStorage,
  iso: () => string,
): Agencies {
  const byId = new Map<string, AgencyRecord>();
  const replace = (all: readonly unknown[]) => {
    byId.clear();
    for (const row of all) {
      const r = StoredAgency.parse(row);
      byId.set(r.id, Object.freeze(r));
    }
  };
  replace(rows);
  const sorted = () => [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));

  return {
    list: sorted,
    get: (id) => byId.get(id),
    async create(input) {
      const parsed = parseInput(AgencyInput, input, 'agency');
      if (byId.has(parsed.id))
        throw new RegistryError('REGISTRY_ERR_DUPLICATE', `agency ${parsed.id} already exists`);
      const now = iso();
      const record: AgencyRecord = Object.freeze({ ...parsed, created_at: now, updated_at: now });
      await storage.insert(record);
      byId.set(record.id, record);
      return record;
    },
    async replace(id, input) {
      const prev = byId.get(id);
      if (prev === undefined) throw new RegistryError('REGISTRY_ERR_NOT_FOUND', `no agency ${id}`);
      const parsed = parseInput(AgencyInput, { ...(input as object), id }, 'agency');
      const record: AgencyRecord = Object.freeze({
        ...keepSecrets(prev, parsed),
        created_at: prev.created_at,
        updated_at: iso(),
      });
      await storage.update(record);
      byId.set(id, record);
      return record;
    },
    async remove(id) {
      if (!byId.has(id)) throw new RegistryError('REGISTRY_ERR_NOT_FOUND', `no agency ${id}`);
      await storage.delete(id);
      byId.delete(id);
    },
    reload: replace,
  };
}

/** A stored record: the input's output shape plus its times. */
const StoredAgency = z.object({
  ...AgencyInput.shape,
  created_at: z.string(),
  updated_at: z.string(),
});

// The console speaks only the platform's public API (the OpenAPI document at /docs), with the session
// cookie the browser keeps: same origin, no token in the page.
export type Severity = 'info' | 'warning' | 'critical';
export type AlertState = 'open' | 'acknowledged' | 'resolved';

export interface Alert {
  readonly id: number;
  readonly rule: string;
  readonly device: string;
  readonly kind: string;
  readonly district: string;
  readonly owner: string;
  readonly title: string;
  readonly severity: Severity;
  readonly state: AlertState;
  readonly message: string;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly raisedAt: string;
  readonly acknowledgedBy: string | null;
  readonly acknowledgeNote: string | null;
}

export type AlertEventType = 'raised' | 'updated' | 'escalated' | 'referred' | 'acknowledged' | 'resolved';

export interface AlertEvent {
  readonly id: number;
  readonly type: AlertEventType;
  readonly at: string;
  readonly severity: Severity;
  readonly message: string;
  readonly value: number | null;
  readonly by: string | null;
  readonly note: string | null;
}

export interface Delivery {
  readonly id: number;
  readonly agency: string;
  readonly receiver: string;
  readonly type: string;
  readonly status: 'pending' | 'delivered' | 'dead';
  readonly createdAt: string;
  readonly lastError: string | null;
  readonly attempts: ReadonlyArray<{ at: string; ok: boolean; latencyMs: number; detail: string }>;
}

export type Role = 'viewer' | 'operator' | 'engineer' | 'admin';

export interface User {
  readonly username: string;
  readonly name: string;
  readonly role: Role;
  readonly language: 'vi' | 'en';
}

/** A user as an admin manages them (GET /api/users). */
export interface UserRecord extends User {
  readonly disabled: boolean;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface NewUser {
  readonly username: string;
  readonly name?: string;
  readonly role: Role;
  readonly language: 'vi' | 'en';
  readonly password: string;
}

export type UserChange = Partial<Pick<UserRecord, 'name' | 'role' | 'language' | 'disabled'>> & {
  readonly password?: string;
};

export interface DeviceStatus {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly district: string;
  readonly location: { readonly lat: number; readonly lon: number };
  readonly status: 'ok' | 'alerting' | 'silent';
  readonly openAlerts: number;
}

export interface DeviceRecord {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly district: string;
  readonly location: { readonly lat: number; readonly lon: number };
  readonly gateway?: string;
  readonly tags: readonly string[];
  readonly status: string;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly maintenance?: { readonly until: string; readonly reason: string; readonly by: string };
}

export interface Latest {
  readonly fields: Readonly<Record<string, { value: number | boolean; time: string; unit: string }>>;
}

export interface History {
  readonly fields: readonly string[];
  readonly points: ReadonlyArray<{ time: string; values: Readonly<Record<string, number | boolean | null>> }>;
}

export interface DeadLetter {
  readonly id: number;
  readonly at: string;
  readonly topic: string;
  readonly code: string;
  readonly description: string;
  readonly detail: string;
  readonly payloadPreview: string;
}

export interface Agency {
  readonly id: string;
  readonly name: { readonly vi: string; readonly en: string };
  readonly ack_target_minutes: Readonly<Record<Severity, number>>;
}

export interface ResponseTimes {
  readonly owners: ReadonlyArray<{
    owner: string;
    acknowledged: number;
    meanAckMs: number | null;
    resolved: number;
    meanResolveMs: number | null;
  }>;
}

export interface RuleSummary {
  readonly id: string;
  readonly title: string;
  /** The reading field the rule compares, when it compares one. */
  readonly field?: string;
}

export interface CommandView {
  readonly id: number;
  readonly device: string;
  readonly type: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly state: 'queued' | 'sent' | 'acknowledged' | 'failed' | 'expired';
  readonly check: 'pending' | 'matched' | 'mismatched' | 'unverified' | null;
  readonly detail: string | null;
  readonly by: string;
  readonly createdAt: string;
}

export interface ConsoleSettings {
  readonly map: { readonly tiles: string; readonly attribution: string };
  readonly timeZone: string;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 204) return undefined as T;
  const json = (await res.json()) as unknown;
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } })
      .error;
    throw new ApiFailure(
      res.status,
      error?.code ?? 'unknown',
      error?.message ?? res.statusText,
      error?.details,
    );
  }
  return json as T;
}

export const api = {
  session: () => call<{ user: User }>('GET', '/api/session'),
  signIn: (username: string, password: string) =>
    call<{ user: User }>('POST', '/api/session', { username, password }),
  signOut: () => call<void>('DELETE', '/api/session'),
  openAlerts: () => call<{ alerts: Alert[] }>('GET', '/api/alerts?state=open,acknowledged&limit=1000'),
  settings: () => call<ConsoleSettings>('GET', '/api/console/settings'),
  device: (id: string) => call<DeviceRecord>('GET', `/api/devices/${encodeURIComponent(id)}`),
  latest: (id: string) => call<Latest>('GET', `/api/devices/${encodeURIComponent(id)}/readings/latest`),
  history: (id: string, from: string, to: string | undefined, every: string) =>
    call<History>(
      'GET',
      `/api/devices/${encodeURIComponent(id)}/readings?${new URLSearchParams({ from, every, ...(to === undefined ? {} : { to }) }).toString()}`,
    ),
  rules: () => call<{ rules: RuleSummary[] }>('GET', '/api/rules'),
  alertsOf: (id: string) =>
    call<{ alerts: Alert[] }>('GET', `/api/alerts?device=${encodeURIComponent(id)}&limit=50`),
  deadLetters: (id: string) =>
    call<{ deadLetters: DeadLetter[] }>('GET', `/api/dead-letters?source=${encodeURIComponent(id)}&limit=20`),
  agencies: () => call<{ agencies: Agency[] }>('GET', '/api/agencies'),
  responseTimes: (days: number) => call<ResponseTimes>('GET', `/api/alerts/response-times?from=now-${days}d`),
  deviceStatus: () => call<{ devices: DeviceStatus[] }>('GET', '/api/status/devices'),
  alert: (id: number) => call<{ alert: Alert; events: AlertEvent[] }>('GET', `/api/alerts/${id}`),
  deliveries: (id: number) => call<{ deliveries: Delivery[] }>('GET', `/api/alerts/${id}/deliveries`),
  commandsOf: (id: string) =>
    call<{ commands: CommandView[] }>('GET', `/api/commands?device=${encodeURIComponent(id)}&limit=10`),
  sendCommand: (request: { target: { device: string }; type: string; params: Record<string, unknown> }) =>
    call<{ batch: number; commands: CommandView[] }>('POST', '/api/commands', request),
  users: () => call<{ users: UserRecord[] }>('GET', '/api/users'),
  createUser: (user: NewUser) => call<UserRecord>('POST', '/api/users', user),
  updateUser: (username: string, change: UserChange) =>
    call<UserRecord>('PATCH', `/api/users/${encodeURIComponent(username)}`, change),
  removeUser: (username: string) => call<void>('DELETE', `/api/users/${encodeURIComponent(username)}`),
  acknowledge: (id: number, note: string) =>
    call<{ alert: Alert }>('POST', `/api/alerts/${id}/acknowledge`, note === '' ? {} : { note }),
  resolve: (id: number, note: string) =>
    call<{ alert: Alert }>('POST', `/api/alerts/${id}/resolve`, note === '' ? {} : { note }),
};

/** Server-sent alert changes (`alert` events of `{ alert, event }`); `onState` says whether it is live. */
export function alertStream(onChange: (alert: Alert) => void, onState: (live: boolean) => void): () => void {
  const source = new EventSource('/api/alerts/stream');
  source.addEventListener('open', () => onState(true));
  source.addEventListener('error', () => onState(false));
  source.addEventListener('alert', (e) => {
    const { alert } = JSON.parse((e as MessageEvent<string>).data) as { alert: Alert };
    onChange(alert);
  });
  return () => source.close();
}

// The registry's rows as both of its databases hold them (SQLite alone, PostgreSQL in a cluster), their
// mapping to records, and the storage contract the registry keeps its in-memory view over
// (registry.ts). Rows are parsed with zod on the way out, so a hand-edited database cannot put a malformed
// record in the cache.
import { z } from 'zod';
import { RegistryError } from './errors.ts';
import { ApiRole, DeviceRecord, type GatewayRecord, type ServiceAccountRecord } from './schemas.ts';
import type { SecretKeys } from './secrets.ts';

export const DeviceRow = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  district: z.string(),
  lat: z.number(),
  lon: z.number(),
  gateway: z.string().nullable(),
  meta: z.string(),
  tags: z.string(),
  status: z.string(),
  secret_hash: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  maintenance: z.string().nullable(),
});
export type DeviceRow = z.infer<typeof DeviceRow>;

export const GatewayRow = z.object({
  id: z.string(),
  name: z.string(),
  district: z.string(),
  lat: z.number(),
  lon: z.number(),
  secret_hash: z.string(),
  created_at: z.string(),
});
export type GatewayRow = z.infer<typeof GatewayRow>;

export const ServiceRow = z.object({
  id: z.string(),
  secret_hash: z.string(),
  may_publish_alerts: z.number(),
  created_at: z.string(),
});
export type ServiceRow = z.infer<typeof ServiceRow>;
export const TokenRow = z.object({ token_sha256: z.string(), role: ApiRole, label: z.string() });
export const AgencyRow = z.object({ record: z.string() });
export const UserRow = z.object({ record: z.string(), password_hash: z.string() });
export const SessionRow = z.object({
  token_sha256: z.string(),
  username: z.string(),
  expires_at: z.number(),
});
export const KeyRow = z.object({ id: z.number().int().positive(), key: z.instanceof(Buffer) });

/** The tables the registry reads into memory; a change elsewhere names the one to read again. */
export const REGISTRY_TABLES = [
  'devices',
  'gateways',
  'service_accounts',
  'api_tokens',
  'agencies',
  'users',
  'sessions',
] as const;
export type RegistryTable = (typeof REGISTRY_TABLES)[number];

/** What the registry keeps in memory, table by table. */
export interface RegistryRows {
  readonly devices: readonly DeviceRow[];
  readonly gateways: readonly GatewayRow[];
  readonly service_accounts: readonly ServiceRow[];
  readonly api_tokens: readonly z.infer<typeof TokenRow>[];
  /** The agencies' records, as stored (JSON parsed). */
  readonly agencies: readonly unknown[];
  readonly users: readonly { record: unknown; password_hash: string }[];
  readonly sessions: readonly z.infer<typeof SessionRow>[];
}

/** One write, all or none; each names its table (`RegistryTable`) for the other nodes. */
export type RegistryChange =
  | { readonly op: 'insert-devices'; readonly rows: readonly DeviceRow[] }
  | { readonly op: 'update-device'; readonly row: DeviceRow }
  | { readonly op: 'insert-gateway'; readonly row: GatewayRow }
  | {
      readonly op: 'update-gateway';
      readonly row: Pick<GatewayRow, 'id' | 'name' | 'district' | 'lat' | 'lon'>;
    }
  /** Decommissioned devices keep their history, not a link to a gateway that is gone. */
  | { readonly op: 'delete-gateway'; readonly id: string }
  | {
      readonly op: 'set-secret';
      readonly table: 'gateways' | 'service_accounts';
      readonly id: string;
      readonly hash: string;
    }
  | { readonly op: 'insert-service'; readonly row: ServiceRow }
  | { readonly op: 'set-service-rights'; readonly id: string; readonly mayPublishAlerts: boolean }
  | { readonly op: 'delete-service'; readonly id: string }
  | {
      readonly op: 'upsert-token';
      readonly digest: string;
      readonly role: ApiRole;
      readonly label: string;
      readonly createdAt: string;
    }
  | {
      readonly op: 'insert-user' | 'update-user';
      readonly username: string;
      readonly record: string;
      readonly hash: string;
      readonly createdAt: string;
      readonly updatedAt: string;
    }
  | { readonly op: 'delete-user'; readonly username: string }
  | {
      readonly op: 'insert-session';
      readonly digest: string;
      readonly username: string;
      readonly createdAt: number;
      readonly expiresAt: number;
    }
  | { readonly op: 'delete-session'; readonly digest: string }
  | { readonly op: 'delete-sessions-of'; readonly username: string }
  | { readonly op: 'delete-sessions-before'; readonly at: number }
  | {
      readonly op: 'insert-agency' | 'update-agency';
      readonly id: string;
      readonly record: string;
      readonly createdAt: string;
      readonly updatedAt: string;
    }
  | { readonly op: 'delete-agency'; readonly id: string };

/**
 * What a change touched, as the other nodes are told: its tables, and for the devices table the ids when
 * they are named (then only those rows are read again: a country's million devices are not read for one).
 */
export interface RegistryTouch {
  readonly tables: readonly RegistryTable[];
  readonly devices?: readonly string[];
}

/** A notice's payload is at most 8,000 bytes (PostgreSQL's NOTIFY): beyond this, the whole table. */
const MAX_TOUCH_TEXT = 7_000;

export function touchOf(change: RegistryChange): RegistryTouch {
  const tables = tablesOf(change);
  if (change.op === 'update-device') return { tables, devices: [change.row.id] };
  if (change.op === 'insert-devices') return { tables, devices: change.rows.map((r) => r.id) };
  return { tables };
}

/** `devices,gateways` or `devices|id1 id2`: device ids hold neither `,` nor `|` nor spaces. */
export function encodeTouch(touch: RegistryTouch): string {
  const tables = touch.tables.join(',');
  if (touch.devices === undefined) return tables;
  const text = `${tables}|${touch.devices.join(' ')}`;
  return text.length > MAX_TOUCH_TEXT ? tables : text;
}

export function decodeTouch(text: string): RegistryTouch {
  const [tables = '', ids] = text.split('|');
  const known = new Set<string>(REGISTRY_TABLES);
  const named = tables.split(',').filter((t): t is RegistryTable => known.has(t));
  return ids === undefined ? { tables: named } : { tables: named, devices: ids.split(' ').filter(Boolean) };
}

/** The tables a change writes: the ones other nodes read again. */
export function tablesOf(change: RegistryChange): readonly RegistryTable[] {
  switch (change.op) {
    case 'insert-devices':
    case 'update-device':
      return ['devices'];
    case 'insert-gateway':
    case 'update-gateway':
      return ['gateways'];
    case 'delete-gateway':
      return ['gateways', 'devices'];
    case 'set-secret':
      return [change.table];
    case 'insert-service':
    case 'set-service-rights':
    case 'delete-service':
      return ['service_accounts'];
    case 'upsert-token':
      return ['api_tokens'];
    case 'insert-user':
    case 'update-user':
    case 'delete-user':
      return ['users', 'sessions'];
    case 'insert-session':
    case 'delete-session':
    case 'delete-sessions-of':
    case 'delete-sessions-before':
      return ['sessions'];
    case 'insert-agency':
    case 'update-agency':
    case 'delete-agency':
      return ['agencies'];
  }
}

/**
 * The registry's storage: SQLite on one node (registry-sqlite.ts), PostgreSQL shared by the nodes of a
 * cluster (registry-postgres.ts). The same tests run against both (registry.it.test.ts).
 */
export interface RegistryBackend {
  /** The HMAC keys of the secrets. */
  readonly keys: SecretKeys;
  /** The rows of these tables (all when not given). */
  load(tables?: readonly RegistryTable[]): Promise<Partial<RegistryRows>>;
  /** These devices' rows (the ids without one are gone). */
  loadDevices(ids: readonly string[]): Promise<DeviceRow[]>;
  /** Writes one change in one transaction; throws what the database said (see `storageError`). */
  apply(change: RegistryChange): Promise<void>;
  /** Replaces `id`'s legacy hash `prev` by `next` if it still holds it; whether it did. */
  rehash(id: string, prev: string, next: string): Promise<boolean>;
  /** Told what another node changed, after its commit (never on a single node). */
  onRemoteChange(listener: (touch: RegistryTouch) => void): void;
  /** Whether the database answers now (within 2 s); why not. */
  ping(): Promise<{ readonly ok: boolean; readonly problem?: string }>;
  close(): Promise<void>;
}

export function deviceFromRow(row: DeviceRow): DeviceRecord {
  return DeviceRecord.parse({
    id: row.id,
    kind: row.kind,
    name: row.name,
    district: row.district,
    location: { lat: row.lat, lon: row.lon },
    gateway: row.gateway ?? undefined,
    meta: JSON.parse(row.meta) as unknown,
    tags: JSON.parse(row.tags) as unknown,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.maintenance === null ? {} : { maintenance: JSON.parse(row.maintenance) as unknown }),
  });
}

export function deviceToRow(d: DeviceRecord, secretHash: string): DeviceRow {
  return {
    id: d.id,
    kind: d.kind,
    name: d.name,
    district: d.district,
    lat: d.location.lat,
    lon: d.location.lon,
    gateway: d.gateway ?? null,
    meta: JSON.stringify(d.meta),
    tags: JSON.stringify(d.tags),
    status: d.status,
    secret_hash: secretHash,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    maintenance: d.maintenance === undefined ? null : JSON.stringify(d.maintenance),
  };
}

export type GatewayBase = Omit<GatewayRecord, 'children'>;

export function gatewayFromRow(row: GatewayRow): GatewayBase {
  return {
    id: row.id,
    name: row.name,
    district: row.district,
    location: { lat: row.lat, lon: row.lon },
    createdAt: row.created_at,
  };
}

export type ServiceAccount = ServiceAccountRecord;

/** The keys, newest last, as the registry uses them. */
export function secretKeysOf(rows: readonly unknown[]): SecretKeys {
  const keys = rows.map((r) => KeyRow.parse(r));
  const last = keys.at(-1);
  if (last === undefined) throw new RegistryError('REGISTRY_ERR_STORAGE', 'the registry has no secret key');
  return { current: { id: last.id, key: last.key }, byId: new Map(keys.map((r) => [r.id, r.key])) };
}

/** A failed write as the registry reports it: a taken id (either database's words for it) or storage. */
export function storageError(err: unknown, id: string): RegistryError {
  if (err instanceof RegistryError) return err;
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  // SQLite's primary key, PostgreSQL's unique_violation (SQLSTATE 23505).
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505')
    return new RegistryError('REGISTRY_ERR_DUPLICATE', `${id} already exists`, { cause: err });
  return new RegistryError('REGISTRY_ERR_STORAGE', `registry write for ${id} failed`, { cause: err });
}

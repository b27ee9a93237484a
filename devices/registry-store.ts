// The registry's SQLite schema and row mapping (better-sqlite3 12; docs/architecture.md decision 5). Rows are
// parsed with zod on the way out, so a hand-edited database cannot put a malformed record in the cache.
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/index.ts';
import { z } from 'zod';
import { RegistryError } from './errors.ts';
import { ApiRole, DeviceRecord, type GatewayRecord, type ServiceAccountRecord } from './schemas.ts';
import { newSecretKey, type SecretKeys } from './secrets.ts';

// STRICT tables (SQLite 3.37) refuse values of the wrong type instead of silently storing them. A step is
// SQL, or a function for what SQL cannot make (a random key); each runs in the migration's transaction.
const MIGRATIONS: ReadonlyArray<string | ((db: Database.Database) => void)> = [
  `CREATE TABLE gateways (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     district TEXT NOT NULL,
     lat REAL NOT NULL,
     lon REAL NOT NULL,
     secret_hash TEXT NOT NULL,
     created_at TEXT NOT NULL
   ) STRICT;
   CREATE TABLE devices (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('air_quality', 'flood', 'streetlight')),
     name TEXT NOT NULL,
     district TEXT NOT NULL,
     lat REAL NOT NULL,
     lon REAL NOT NULL,
     gateway TEXT REFERENCES gateways (id),
     meta TEXT NOT NULL CHECK (json_valid(meta)),
     tags TEXT NOT NULL CHECK (json_valid(tags)),
     status TEXT NOT NULL CHECK (status IN ('active', 'decommissioned')),
     secret_hash TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   ) STRICT;
   CREATE INDEX devices_by_gateway ON devices (gateway);
   CREATE TABLE service_accounts (
     id TEXT PRIMARY KEY,
     secret_hash TEXT NOT NULL,
     may_publish_alerts INTEGER NOT NULL CHECK (may_publish_alerts IN (0, 1)),
     created_at TEXT NOT NULL
   ) STRICT;
   CREATE TABLE api_tokens (
     token_sha256 TEXT PRIMARY KEY,
     role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'engineer', 'admin')),
     label TEXT NOT NULL,
     created_at TEXT NOT NULL
   ) STRICT;`,
  // 2: secrets are stored as HMACs under a key of the registry's own (secrets.ts), made here.
  (db) => {
    db.exec(`CREATE TABLE secret_keys (
       id INTEGER PRIMARY KEY,
       key BLOB NOT NULL CHECK (length(key) = 32),
       created_at TEXT NOT NULL
     ) STRICT;`);
    db.prepare('INSERT INTO secret_keys (id, key, created_at) VALUES (1, ?, ?)').run(
      newSecretKey(),
      new Date().toISOString(),
    );
  },
  // 3: agencies (agencies.ts), each kept whole as JSON: it is read and written as one record.
  `CREATE TABLE agencies (
     id TEXT PRIMARY KEY,
     record TEXT NOT NULL CHECK (json_valid(record)),
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   ) STRICT;`,
  // 4: a device's maintenance window (schemas.ts, Maintenance), as JSON; NULL when it is in service.
  `ALTER TABLE devices ADD COLUMN maintenance TEXT CHECK (maintenance IS NULL OR json_valid(maintenance));`,
  // 5: people who sign in (users.ts), each kept whole as JSON beside the password's scrypt hash, and their
  // sessions by the SHA-256 of the cookie's token.
  `CREATE TABLE users (
     username TEXT PRIMARY KEY,
     record TEXT NOT NULL CHECK (json_valid(record)),
     password_hash TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   ) STRICT;
   CREATE TABLE sessions (
     token_sha256 TEXT PRIMARY KEY,
     username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX sessions_by_user ON sessions (username);`,
];

export function openDatabase(file: string): Database.Database {
  try {
    // Provisioning returns a secret shown once: the row holding its hash must be on disk before that.
    return openSqlite({ file, what: 'the registry', migrations: MIGRATIONS });
  } catch (err) {
    throw new RegistryError('REGISTRY_ERR_STORAGE', `cannot open the registry at ${file}`, { cause: err });
  }
}

export function storageError(err: unknown, id: string): RegistryError {
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
    return new RegistryError('REGISTRY_ERR_DUPLICATE', `${id} already exists`, { cause: err });
  return new RegistryError('REGISTRY_ERR_STORAGE', `registry write for ${id} failed`, { cause: err });
}

const DeviceRow = z.object({
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

const GatewayRow = z.object({
  id: z.string(),
  name: z.string(),
  district: z.string(),
  lat: z.number(),
  lon: z.number(),
  secret_hash: z.string(),
  created_at: z.string(),
});
export type GatewayRow = z.infer<typeof GatewayRow>;

const ServiceRow = z.object({
  id: z.string(),
  secret_hash: z.string(),
  may_publish_alerts: z.number(),
  created_at: z.string(),
});
const TokenRow = z.object({ token_sha256: z.string(), role: ApiRole, label: z.string() });
const AgencyRow = z.object({ record: z.string() });
const UserRow = z.object({ record: z.string(), password_hash: z.string() });
const SessionRow = z.object({ token_sha256: z.string(), username: z.string(), expires_at: z.number() });
const KeyRow = z.object({ id: z.number().int().positive(), key: z.instanceof(Buffer) });

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

/** Everything the registry keeps in memory, read once at open. */
export function loadAll(db: Database.Database) {
  const devices = db
    .prepare('SELECT * FROM devices')
    .all()
    .map((r) => DeviceRow.parse(r));
  const gateways = db
    .prepare('SELECT * FROM gateways')
    .all()
    .map((r) => GatewayRow.parse(r));
  const services = db
    .prepare('SELECT id, secret_hash, may_publish_alerts, created_at FROM service_accounts')
    .all()
    .map((r) => ServiceRow.parse(r));
  const tokens = db
    .prepare('SELECT token_sha256, role, label FROM api_tokens')
    .all()
    .map((r) => TokenRow.parse(r));
  const agencies = db
    .prepare('SELECT record FROM agencies')
    .all()
    .map((r) => JSON.parse(AgencyRow.parse(r).record) as unknown);
  const users = db
    .prepare('SELECT record, password_hash FROM users')
    .all()
    .map((r) => {
      const row = UserRow.parse(r);
      return { record: JSON.parse(row.record) as unknown, password_hash: row.password_hash };
    });
  const sessions = db
    .prepare('SELECT token_sha256, username, expires_at FROM sessions')
    .all()
    .map((r) => SessionRow.parse(r));
  return { devices, gateways, services, tokens, agencies, users, sessions };
}

/** The registry's HMAC keys for secrets (the first is made by migration 2). */
export function loadSecretKeys(db: Database.Database): SecretKeys {
  const rows = db
    .prepare('SELECT id, key FROM secret_keys ORDER BY id')
    .all()
    .map((r) => KeyRow.parse(r));
  const last = rows.at(-1);
  if (last === undefined) throw new RegistryError('REGISTRY_ERR_STORAGE', 'the registry has no secret key');
  return { current: { id: last.id, key: last.key }, byId: new Map(rows.map((r) => [r.id, r.key])) };
}

/** The prepared statements of every write; prepared once at open. */
export function prepareWrites(db: Database.Database) {
  const insertDevice = db.prepare<[DeviceRow]>(
    `INSERT INTO devices (id, kind, name, district, lat, lon, gateway, meta, tags, status, secret_hash, created_at,
       updated_at, maintenance)
     VALUES (@id, @kind, @name, @district, @lat, @lon, @gateway, @meta, @tags, @status, @secret_hash, @created_at,
       @updated_at, @maintenance)`,
  );
  return {
    insertDevice,
    /** All or none: one transaction (and one sync to disk) for a whole list. */
    insertDevices: db.transaction((rows: readonly DeviceRow[]) => {
      for (const row of rows) insertDevice.run(row);
    }),
    updateDevice: db.prepare<[DeviceRow]>(
      `UPDATE devices SET name = @name, district = @district, lat = @lat, lon = @lon, gateway = @gateway, meta = @meta,
       tags = @tags, status = @status, secret_hash = @secret_hash, updated_at = @updated_at,
       maintenance = @maintenance WHERE id = @id`,
    ),
    insertGateway: db.prepare<[GatewayRow]>(
      `INSERT INTO gateways (id, name, district, lat, lon, secret_hash, created_at)
       VALUES (@id, @name, @district, @lat, @lon, @secret_hash, @created_at)`,
    ),
    setGatewaySecret: db.prepare<[string, string]>('UPDATE gateways SET secret_hash = ? WHERE id = ?'),
    updateGateway: db.prepare<[{ id: string; name: string; district: string; lat: number; lon: number }]>(
      'UPDATE gateways SET name = @name, district = @district, lat = @lat, lon = @lon WHERE id = @id',
    ),
    // Decommissioned devices keep their history, not a link to a gateway that is gone.
    deleteGateway: db.transaction((id: string) => {
      db.prepare('UPDATE devices SET gateway = NULL WHERE gateway = ?').run(id);
      db.prepare('DELETE FROM gateways WHERE id = ?').run(id);
    }),
    insertService: db.prepare<[string, string, number, string]>(
      'INSERT INTO service_accounts (id, secret_hash, may_publish_alerts, created_at) VALUES (?, ?, ?, ?)',
    ),
    setServiceSecret: db.prepare<[string, string]>(
      'UPDATE service_accounts SET secret_hash = ? WHERE id = ?',
    ),
    setServiceRights: db.prepare<[number, string]>(
      'UPDATE service_accounts SET may_publish_alerts = ? WHERE id = ?',
    ),
    deleteService: db.prepare<[string]>('DELETE FROM service_accounts WHERE id = ?'),
    // A legacy hash replaced by its HMAC, only if the row still holds it (a rotation may have come between).
    rehash: (['devices', 'gateways', 'service_accounts'] as const).map((table) =>
      db.prepare<[string, string, string]>(
        `UPDATE ${table} SET secret_hash = ? WHERE id = ? AND secret_hash = ?`,
      ),
    ),
    upsertToken: db.prepare<[string, string, string, string]>(
      `INSERT INTO api_tokens (token_sha256, role, label, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (token_sha256) DO UPDATE SET role = excluded.role, label = excluded.label`,
    ),
    insertUser: db.prepare<[string, string, string, string, string]>(
      'INSERT INTO users (username, record, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    ),
    updateUser: db.prepare<[string, string, string, string]>(
      'UPDATE users SET record = ?, password_hash = ?, updated_at = ? WHERE username = ?',
    ),
    deleteUser: db.prepare<[string]>('DELETE FROM users WHERE username = ?'),
    insertSession: db.prepare<[string, string, number, number]>(
      'INSERT INTO sessions (token_sha256, username, created_at, expires_at) VALUES (?, ?, ?, ?)',
    ),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE token_sha256 = ?'),
    deleteSessionsOf: db.prepare<[string]>('DELETE FROM sessions WHERE username = ?'),
    deleteSessionsBefore: db.prepare<[number]>('DELETE FROM sessions WHERE expires_at <= ?'),
    insertAgency: db.prepare<[string, string, string, string]>(
      'INSERT INTO agencies (id, record, created_at, updated_at) VALUES (?, ?, ?, ?)',
    ),
    updateAgency: db.prepare<[string, string, string]>(
      'UPDATE agencies SET record = ?, updated_at = ? WHERE id = ?',
    ),
    deleteAgency: db.prepare<[string]>('DELETE FROM agencies WHERE id = ?'),
  };
}
export type Writes = ReturnType<typeof prepareWrites>;

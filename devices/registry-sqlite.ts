// The registry in SQLite (better-sqlite3 12; docs/architecture.md decision 5), the single node's storage:
// its schema, and the storage contract (registry-rows.ts) over prepared statements. Every write is one
// transaction synced to disk before it returns.
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/index.ts';
import { RegistryError } from './errors.ts';
import {
  AgencyRow,
  DeviceRow,
  GatewayRow,
  REGISTRY_TABLES,
  ServiceRow,
  SessionRow,
  TokenRow,
  UserRow,
  secretKeysOf,
  type RegistryBackend,
  type RegistryChange,
  type RegistryRows,
  type RegistryTable,
} from './registry-rows.ts';
import { newSecretKey } from './secrets.ts';

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

function openDatabase(file: string): Database.Database {
  try {
    // Provisioning returns a secret shown once: the row holding its hash must be on disk before that.
    return openSqlite({ file, what: 'the registry', migrations: MIGRATIONS });
  } catch (err) {
    throw new RegistryError('REGISTRY_ERR_STORAGE', `cannot open the registry at ${file}`, { cause: err });
  }
}

/** Each table's rows as the registry keeps them. */
function loader(db: Database.Database): { [T in RegistryTable]: () => RegistryRows[T] } {
  const all = (query: string) => db.prepare(query).all();
  return {
    devices: () => all('SELECT * FROM devices').map((r) => DeviceRow.parse(r)),
    gateways: () => all('SELECT * FROM gateways').map((r) => GatewayRow.parse(r)),
    service_accounts: () =>
      all('SELECT id, secret_hash, may_publish_alerts, created_at FROM service_accounts').map((r) =>
        ServiceRow.parse(r),
      ),
    api_tokens: () => all('SELECT token_sha256, role, label FROM api_tokens').map((r) => TokenRow.parse(r)),
    agencies: () =>
      all('SELECT record FROM agencies').map((r) => JSON.parse(AgencyRow.parse(r).record) as unknown),
    users: () =>
      all('SELECT record, password_hash FROM users').map((r) => {
        const row = UserRow.parse(r);
        return { record: JSON.parse(row.record) as unknown, password_hash: row.password_hash };
      }),
    sessions: () =>
      all('SELECT token_sha256, username, expires_at FROM sessions').map((r) => SessionRow.parse(r)),
  };
}

/** The prepared statements of every write; prepared once at open. */
function prepareWrites(db: Database.Database) {
  const insertDevice = db.prepare<[DeviceRow]>(
    `INSERT INTO devices (id, kind, name, district, lat, lon, gateway, meta, tags, status, secret_hash, created_at,
       updated_at, maintenance)
     VALUES (@id, @kind, @name, @district, @lat, @lon, @gateway, @meta, @tags, @status, @secret_hash, @created_at,
       @updated_at, @maintenance)`,
  );
  const deleteSessionsOf = db.prepare<[string]>('DELETE FROM sessions WHERE username = ?');
  const deleteUser = db.prepare<[string]>('DELETE FROM users WHERE username = ?');
  return {
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
    setSecret: {
      gateways: db.prepare<[string, string]>('UPDATE gateways SET secret_hash = ? WHERE id = ?'),
      service_accounts: db.prepare<[string, string]>(
        'UPDATE service_accounts SET secret_hash = ? WHERE id = ?',
      ),
    },
    updateGateway: db.prepare<[{ id: string; name: string; district: string; lat: number; lon: number }]>(
      'UPDATE gateways SET name = @name, district = @district, lat = @lat, lon = @lon WHERE id = @id',
    ),
    deleteGateway: db.transaction((id: string) => {
      db.prepare('UPDATE devices SET gateway = NULL WHERE gateway = ?').run(id);
      db.prepare('DELETE FROM gateways WHERE id = ?').run(id);
    }),
    insertService: db.prepare<[ServiceRow]>(
      `INSERT INTO service_accounts (id, secret_hash, may_publish_alerts, created_at)
       VALUES (@id, @secret_hash, @may_publish_alerts, @created_at)`,
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
    deleteUser: db.transaction((username: string) => {
      deleteSessionsOf.run(username);
      deleteUser.run(username);
    }),
    insertSession: db.prepare<[string, string, number, number]>(
      'INSERT INTO sessions (token_sha256, username, created_at, expires_at) VALUES (?, ?, ?, ?)',
    ),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE token_sha256 = ?'),
    deleteSessionsOf,
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

function write(w: ReturnType<typeof prepareWrites>, c: RegistryChange): void {
  switch (c.op) {
    case 'insert-devices':
      return void w.insertDevices(c.rows);
    case 'update-device':
      return void w.updateDevice.run(c.row);
    case 'insert-gateway':
      return void w.insertGateway.run(c.row);
    case 'update-gateway':
      return void w.updateGateway.run(c.row);
    case 'delete-gateway':
      return void w.deleteGateway(c.id);
    case 'set-secret':
      return void w.setSecret[c.table].run(c.hash, c.id);
    case 'insert-service':
      return void w.insertService.run(c.row);
    case 'set-service-rights':
      return void w.setServiceRights.run(c.mayPublishAlerts ? 1 : 0, c.id);
    case 'delete-service':
      return void w.deleteService.run(c.id);
    case 'upsert-token':
      return void w.upsertToken.run(c.digest, c.role, c.label, c.createdAt);
    case 'insert-user':
      return void w.insertUser.run(c.username, c.record, c.hash, c.createdAt, c.updatedAt);
    case 'update-user':
      return void w.updateUser.run(c.record, c.hash, c.updatedAt, c.username);
    case 'delete-user':
      return void w.deleteUser(c.username);
    case 'insert-session':
      return void w.insertSession.run(c.digest, c.username, c.createdAt, c.expiresAt);
    case 'delete-session':
      return void w.deleteSession.run(c.digest);
    case 'delete-sessions-of':
      return void w.deleteSessionsOf.run(c.username);
    case 'delete-sessions-before':
      return void w.deleteSessionsBefore.run(c.at);
    case 'insert-agency':
      return void w.insertAgency.run(c.id, c.record, c.createdAt, c.updatedAt);
    case 'update-agency':
      return void w.updateAgency.run(c.record, c.updatedAt, c.id);
    case 'delete-agency':
      return void w.deleteAgency.run(c.id);
  }
}

/** The registry's SQLite file (`:memory:` for tests), open and up to date. */
export function openSqliteRegistry(file: string): RegistryBackend {
  const db = openDatabase(file);
  try {
    const writes = prepareWrites(db);
    const load = loader(db);
    const keys = secretKeysOf(db.prepare('SELECT id, key FROM secret_keys ORDER BY id').all());
    let closed = false;
    const settle = <T>(run: () => T): Promise<T> => new Promise((resolve) => resolve(run()));
    return {
      keys,
      load: (tables = REGISTRY_TABLES) =>
        settle(() => Object.fromEntries(tables.map((t) => [t, load[t]()])) as Partial<RegistryRows>),
      loadDevices: (ids) =>
        settle(() => {
          const one = db.prepare<[string]>('SELECT * FROM devices WHERE id = ?');
          return ids.flatMap((id) => {
            const row = one.get(id);
            return row === undefined ? [] : [DeviceRow.parse(row)];
          });
        }),
      apply: (change) => settle(() => write(writes, change)),
      rehash: (id, prev, next) =>
        settle(() => writes.rehash.reduce((n, s) => n + s.run(next, id, prev).changes, 0) === 1),
      onRemoteChange: () => undefined,
      // The file is this process's own: it answers while the process runs (a full disk shows in writes).
      ping: () => Promise.resolve({ ok: true }),
      close() {
        if (!closed) {
          closed = true;
          db.close();
        }
        return Promise.resolve();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

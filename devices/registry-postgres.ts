// The registry in PostgreSQL, shared by the nodes of a cluster (docs/cluster.md): the same tables as in
// SQLite (registry-sqlite.ts), the same storage contract (registry-rows.ts). Each write is one transaction
// that also tells the other nodes which tables changed (postgres/changes.ts); they read those tables again.
// The secrets' HMAC key is made by the first node to start, in the database, so every node checks the
// same secrets.
import { randomUUID } from 'node:crypto';
import { openPostgres, watchChanges, EVERYTHING, type Sql, type TransactionSql } from '../postgres/index.ts';
import { errorText } from '../errors/index.ts';
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
  decodeTouch,
  encodeTouch,
  touchOf,
  type RegistryBackend,
  type RegistryChange,
  type RegistryRows,
  type RegistryTable,
} from './registry-rows.ts';
import { newSecretKey } from './secrets.ts';

const MIGRATIONS = [
  `CREATE TABLE gateways (
     id text PRIMARY KEY,
     name text NOT NULL,
     district text NOT NULL,
     lat double precision NOT NULL,
     lon double precision NOT NULL,
     secret_hash text NOT NULL,
     created_at text NOT NULL
   );
   CREATE TABLE devices (
     id text PRIMARY KEY,
     kind text NOT NULL CHECK (kind IN ('air_quality', 'flood', 'streetlight')),
     name text NOT NULL,
     district text NOT NULL,
     lat double precision NOT NULL,
     lon double precision NOT NULL,
     gateway text REFERENCES gateways (id),
     meta text NOT NULL CHECK (meta::jsonb IS NOT NULL),
     tags text NOT NULL CHECK (tags::jsonb IS NOT NULL),
     status text NOT NULL CHECK (status IN ('active', 'decommissioned')),
     secret_hash text NOT NULL,
     created_at text NOT NULL,
     updated_at text NOT NULL,
     maintenance text CHECK (maintenance IS NULL OR maintenance::jsonb IS NOT NULL)
   );
   CREATE INDEX devices_by_gateway ON devices (gateway);
   CREATE TABLE service_accounts (
     id text PRIMARY KEY,
     secret_hash text NOT NULL,
     may_publish_alerts integer NOT NULL CHECK (may_publish_alerts IN (0, 1)),
     created_at text NOT NULL
   );
   CREATE TABLE api_tokens (
     token_sha256 text PRIMARY KEY,
     role text NOT NULL CHECK (role IN ('viewer', 'operator', 'engineer', 'admin')),
     label text NOT NULL,
     created_at text NOT NULL
   );
   CREATE TABLE secret_keys (
     id integer PRIMARY KEY,
     key bytea NOT NULL CHECK (length(key) = 32),
     created_at text NOT NULL
   );
   CREATE TABLE agencies (
     id text PRIMARY KEY,
     record text NOT NULL CHECK (record::jsonb IS NOT NULL),
     created_at text NOT NULL,
     updated_at text NOT NULL
   );
   CREATE TABLE users (
     username text PRIMARY KEY,
     record text NOT NULL CHECK (record::jsonb IS NOT NULL),
     password_hash text NOT NULL,
     created_at text NOT NULL,
     updated_at text NOT NULL
   );
   CREATE TABLE sessions (
     token_sha256 text PRIMARY KEY,
     username text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
     created_at bigint NOT NULL,
     expires_at bigint NOT NULL
   );
   CREATE INDEX sessions_by_user ON sessions (username);`,
  // 2: devices, gateways and service accounts share one namespace (each id is an MQTT user name), held by
  // the database as a primary key holds one table's. Their inserts take turns on one advisory lock, held to
  // the commit, so two nodes creating a device and a gateway of one id at once cannot both find it free;
  // onboarding is rare next to everything else, and one lock is one entry however many rows a bulk has.
  `CREATE FUNCTION registry_one_id() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_advisory_xact_lock(hashtext('city:registry-ids'));
     IF EXISTS (SELECT 1 FROM devices WHERE id = NEW.id)
        OR EXISTS (SELECT 1 FROM gateways WHERE id = NEW.id)
        OR EXISTS (SELECT 1 FROM service_accounts WHERE id = NEW.id) THEN
       RAISE EXCEPTION '% is already a device, gateway or service account', NEW.id
         USING ERRCODE = 'unique_violation';
     END IF;
     RETURN NEW;
   END $$;
   CREATE TRIGGER devices_one_id BEFORE INSERT ON devices
     FOR EACH ROW EXECUTE FUNCTION registry_one_id();
   CREATE TRIGGER gateways_one_id BEFORE INSERT ON gateways
     FOR EACH ROW EXECUTE FUNCTION registry_one_id();
   CREATE TRIGGER service_accounts_one_id BEFORE INSERT ON service_accounts
     FOR EACH ROW EXECUTE FUNCTION registry_one_id();`,
];

const CHANNEL = 'city_registry';

function loader(sql: Sql): { [T in RegistryTable]: () => Promise<RegistryRows[T]> } {
  return {
    devices: async () => (await sql`SELECT * FROM devices`).map((r) => DeviceRow.parse(r)),
    gateways: async () => (await sql`SELECT * FROM gateways`).map((r) => GatewayRow.parse(r)),
    service_accounts: async () =>
      (await sql`SELECT id, secret_hash, may_publish_alerts, created_at FROM service_accounts`).map((r) =>
        ServiceRow.parse(r),
      ),
    api_tokens: async () =>
      (await sql`SELECT token_sha256, role, label FROM api_tokens`).map((r) => TokenRow.parse(r)),
    agencies: async () =>
      (await sql`SELECT record FROM agencies`).map((r) => JSON.parse(AgencyRow.parse(r).record) as unknown),
    users: async () =>
      (await sql`SELECT record, password_hash FROM users`).map((r) => {
        const row = UserRow.parse(r);
        return { record: JSON.parse(row.record) as unknown, password_hash: row.password_hash };
      }),
    sessions: async () =>
      (await sql`SELECT token_sha256, username, expires_at FROM sessions`).map((r) => SessionRow.parse(r)),
  };
}

async function write(tx: TransactionSql, c: RegistryChange): Promise<void> {
  switch (c.op) {
    case 'insert-devices':
      // In slices: a statement takes at most 65,535 parameters, and a device row has 14.
      for (let i = 0; i < c.rows.length; i += 2_000)
        await tx`INSERT INTO devices ${tx(c.rows.slice(i, i + 2_000))}`;
      return;
    case 'update-device': {
      const r = c.row;
      await tx`UPDATE devices SET name = ${r.name}, district = ${r.district}, lat = ${r.lat}, lon = ${r.lon},
        gateway = ${r.gateway}, meta = ${r.meta}, tags = ${r.tags}, status = ${r.status},
        secret_hash = ${r.secret_hash}, updated_at = ${r.updated_at}, maintenance = ${r.maintenance}
        WHERE id = ${r.id}`;
      return;
    }
    case 'insert-gateway':
      await tx`INSERT INTO gateways ${tx(c.row)}`;
      return;
    case 'update-gateway': {
      const r = c.row;
      await tx`UPDATE gateways SET name = ${r.name}, district = ${r.district}, lat = ${r.lat}, lon = ${r.lon}
        WHERE id = ${r.id}`;
      return;
    }
    case 'delete-gateway':
      await tx`UPDATE devices SET gateway = NULL WHERE gateway = ${c.id}`;
      await tx`DELETE FROM gateways WHERE id = ${c.id}`;
      return;
    case 'set-secret':
      await tx`UPDATE ${tx(c.table)} SET secret_hash = ${c.hash} WHERE id = ${c.id}`;
      return;
    case 'insert-service':
      await tx`INSERT INTO service_accounts ${tx(c.row)}`;
      return;
    case 'set-service-rights':
      await tx`UPDATE service_accounts SET may_publish_alerts = ${c.mayPublishAlerts ? 1 : 0} WHERE id = ${c.id}`;
      return;
    case 'delete-service':
      await tx`DELETE FROM service_accounts WHERE id = ${c.id}`;
      return;
    case 'upsert-token':
      await tx`INSERT INTO api_tokens (token_sha256, role, label, created_at)
        VALUES (${c.digest}, ${c.role}, ${c.label}, ${c.createdAt})
        ON CONFLICT (token_sha256) DO UPDATE SET role = excluded.role, label = excluded.label`;
      return;
    case 'insert-user':
      await tx`INSERT INTO users (username, record, password_hash, created_at, updated_at)
        VALUES (${c.username}, ${c.record}, ${c.hash}, ${c.createdAt}, ${c.updatedAt})`;
      return;
    case 'update-user':
      await tx`UPDATE users SET record = ${c.record}, password_hash = ${c.hash}, updated_at = ${c.updatedAt}
        WHERE username = ${c.username}`;
      return;
    case 'delete-user':
      await tx`DELETE FROM users WHERE username = ${c.username}`;
      return;
    case 'insert-session':
      await tx`INSERT INTO sessions (token_sha256, username, created_at, expires_at)
        VALUES (${c.digest}, ${c.username}, ${c.createdAt}, ${c.expiresAt})`;
      return;
    case 'delete-session':
      await tx`DELETE FROM sessions WHERE token_sha256 = ${c.digest}`;
      return;
    case 'delete-sessions-of':
      await tx`DELETE FROM sessions WHERE username = ${c.username}`;
      return;
    case 'delete-sessions-before':
      await tx`DELETE FROM sessions WHERE expires_at <= ${c.at}`;
      return;
    case 'insert-agency':
      await tx`INSERT INTO agencies (id, record, created_at, updated_at)
        VALUES (${c.id}, ${c.record}, ${c.createdAt}, ${c.updatedAt})`;
      return;
    case 'update-agency':
      await tx`UPDATE agencies SET record = ${c.record}, updated_at = ${c.updatedAt} WHERE id = ${c.id}`;
      return;
    case 'delete-agency':
      await tx`DELETE FROM agencies WHERE id = ${c.id}`;
      return;
  }
}

/** The registry in the database at `url`, its schema up to date, listening for the other nodes' changes. */
export async function openPostgresRegistry(url: string): Promise<RegistryBackend> {
  let sql: Sql;
  try {
    sql = await openPostgres({ url, store: 'registry', what: 'the registry', migrations: MIGRATIONS });
  } catch (err) {
    throw new RegistryError('REGISTRY_ERR_STORAGE', 'cannot open the registry in PostgreSQL', { cause: err });
  }
  try {
    // The first node to start makes the key; the others keep it.
    await sql`INSERT INTO secret_keys (id, key, created_at) VALUES (1, ${newSecretKey()}, ${new Date().toISOString()})
      ON CONFLICT (id) DO NOTHING`;
    const keys = secretKeysOf(await sql`SELECT id, key FROM secret_keys ORDER BY id`);
    const feed = await watchChanges(sql, CHANNEL, randomUUID());
    const load = loader(sql);
    return {
      keys,
      load: async (tables = REGISTRY_TABLES) => {
        const rows = await Promise.all(tables.map(async (t) => [t, await load[t]()] as const));
        return Object.fromEntries(rows);
      },
      apply: async (change) => {
        await sql.begin(async (tx) => {
          await write(tx, change);
          await feed.notify(tx, encodeTouch(touchOf(change)));
        });
      },
      rehash: async (id, prev, next) =>
        sql.begin(async (tx) => {
          let changed = 0;
          for (const table of ['devices', 'gateways', 'service_accounts'])
            changed += (
              await tx`UPDATE ${tx(table)} SET secret_hash = ${next} WHERE id = ${id} AND secret_hash = ${prev}`
            ).count;
          if (changed === 1) await feed.notify(tx, 'devices,gateways,service_accounts');
          return changed === 1;
        }),
      loadDevices: async (ids) =>
        (await sql`SELECT * FROM devices WHERE id = ANY(${ids as string[]})`).map((r) => DeviceRow.parse(r)),
      onRemoteChange: (listener) =>
        feed.on((topic) => listener(topic === EVERYTHING ? { tables: REGISTRY_TABLES } : decodeTouch(topic))),
      ping: async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer within 2 s')), 2_000);
        });
        try {
          await Promise.race([sql`SELECT 1`, timeout]);
          return { ok: true };
        } catch (err) {
          return { ok: false, problem: errorText(err) };
        } finally {
          clearTimeout(timer);
        }
      },
      async close() {
        await feed.close();
        await sql.end({ timeout: 5 });
      },
    };
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw err;
  }
}

// The device registry: devices, gateways, service accounts, API tokens, agencies and users, in SQLite on one
// node (docs/architecture.md decision 5) or in PostgreSQL shared by a cluster's nodes (docs/cluster.md),
// served from memory. `getDevice` runs for every MQTT message, so every read is a map lookup; every write
// goes to the database first and then to the maps, so the two never disagree. In a cluster, a change
// another node made is told by the database, and the tables it names are read again.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { RegistryError, parseInput } from './errors.ts';
import type { Kind } from './kinds.ts';
import { createPrincipals, type Principal } from './registry-auth.ts';
import {
  deviceFromRow,
  deviceToRow,
  gatewayFromRow,
  storageError,
  type GatewayBase,
  type RegistryBackend,
  type RegistryChange,
  type RegistryRows,
  type RegistryTable,
  type RegistryTouch,
  type DeviceRow,
  type ServiceAccount,
} from './registry-rows.ts';
import { openPostgresRegistry } from './registry-postgres.ts';
import { openSqliteRegistry } from './registry-sqlite.ts';
import { createApiTokens, type ApiTokenInfo } from './registry-tokens.ts';
import { createAgencies, type AgencyInput, type AgencyRecord } from './agencies.ts';
import { createUsers, type UserRecord, type Users } from './users.ts';
import {
  DeviceInput,
  DeviceMaintenance,
  DevicePatch,
  DeviceRecord,
  GatewayInput,
  GatewayPatch,
  META_SCHEMAS,
  ServiceAccountInput,
  ServiceAccountPatch,
  type ApiRole,
  type GatewayRecord,
} from './schemas.ts';
import { hashSecret, newSecret } from './secrets.ts';

export type { Principal } from './registry-auth.ts';
export type { ServiceAccount } from './registry-rows.ts';
export type { ApiTokenInfo } from './registry-tokens.ts';

export interface OpenRegistryOptions {
  /** SQLite file, or `:memory:` for tests. Its folder is created if missing. */
  readonly file?: string;
  /** PostgreSQL instead (a cluster's nodes share it): `postgres://user:password@host:port/database`. */
  readonly postgresUrl?: string;
  /** Milliseconds since the epoch, for created/updated times; `Date.now` unless a test sets it. */
  readonly clock?: () => number;
}

export interface DeviceFilter {
  readonly kind?: Kind;
  readonly district?: string;
  readonly gateway?: string;
  readonly includeDecommissioned?: boolean;
}

export interface Registry {
  getDevice(id: string): DeviceRecord | undefined;
  listDevices(filter?: DeviceFilter): DeviceRecord[];
  provisionDevice(input: DeviceInput): Promise<{ device: DeviceRecord; secret: string }>;
  /**
   * Provisions every device of a list in one transaction, all or none (bulk.ts checks a list first and
   * says what is wrong with each row); each with its secret, shown once.
   */
  provisionDevices(inputs: readonly DeviceInput[]): Promise<Array<{ device: DeviceRecord; secret: string }>>;
  updateDevice(id: string, patch: DevicePatch): Promise<DeviceRecord>;
  decommissionDevice(id: string): Promise<DeviceRecord>;
  /** Puts an active device in maintenance until a time (`by` who), or back in service with null. */
  setMaintenance(id: string, maintenance: DeviceMaintenance | null): Promise<DeviceRecord>;
  /** A new secret for a device, gateway or service account; the old one stops working at once. */
  rotateSecret(id: string): Promise<string>;
  provisionGateway(input: GatewayInput): Promise<{ gateway: GatewayRecord; secret: string }>;
  getGateway(id: string): GatewayRecord | undefined;
  listGateways(): GatewayRecord[];
  updateGateway(id: string, patch: GatewayPatch): Promise<GatewayRecord>;
  /** REGISTRY_ERR_IN_USE while active devices are behind it; decommissioned ones lose the link. */
  removeGateway(id: string): Promise<void>;
  provisionServiceAccount(
    input: ServiceAccountInput,
  ): Promise<{ serviceAccount: ServiceAccount; secret: string }>;
  getServiceAccount(id: string): ServiceAccount | undefined;
  listServiceAccounts(): ServiceAccount[];
  updateServiceAccount(id: string, patch: ServiceAccountPatch): Promise<ServiceAccount>;
  removeServiceAccount(id: string): Promise<void>;
  /** Whether a device (decommissioned too), gateway or service account has this id. */
  isKnown(id: string): boolean;
  /** MQTT CONNECT: username = id, password = the issued secret. Never throws on bad credentials. */
  authenticate(username: string, password: Buffer | string): Promise<Principal | undefined>;
  /** A new random API token, shown once; only its SHA-256 is stored. */
  createApiToken(role: ApiRole, label: string): Promise<string>;
  verifyApiToken(token: string): ApiTokenInfo | undefined;
  /** Makes a token known with this role (the admin token from the environment); safe to repeat. */
  ensureApiToken(token: string, role: ApiRole, label: string): Promise<void>;
  /** Agencies, by id. */
  listAgencies(): AgencyRecord[];
  getAgency(id: string): AgencyRecord | undefined;
  createAgency(input: AgencyInput): Promise<AgencyRecord>;
  /** The whole record replaced; receiver secrets left out are kept. */
  replaceAgency(id: string, input: AgencyInput): Promise<AgencyRecord>;
  removeAgency(id: string): Promise<void>;
  /** People who sign in, and their sessions (users.ts). */
  readonly users: Users;
  /**
   * Reads these tables again now, when another node may have changed them a moment ago (a cluster; at once
   * on a single node, whose memory is the truth): a session opened or a token made through another node,
   * used here before its notice came. At most four reads a second, however many ask.
   */
  catchUp(tables: readonly RegistryTable[]): Promise<void>;
  /** Told after another node's change was read in (a cluster): what was cached from the registry is stale. */
  onRemoteChange(listener: (tables: readonly RegistryTable[]) => void): void;
  /** Its database: which, and whether it answers now (PostgreSQL may be away; reads go on from memory). */
  storage(): Promise<{
    readonly database: 'sqlite' | 'postgresql';
    readonly ok: boolean;
    readonly problem?: string;
  }>;
  close(): Promise<void>;
}

/** Runs `run` now; its result or its throw as a promise, as the asynchronous contract says. */
function settle<T>(run: () => T): Promise<T> {
  return new Promise((resolve) => resolve(run()));
}

async function openBackend(options: OpenRegistryOptions): Promise<RegistryBackend> {
  if (options.postgresUrl !== undefined) return openPostgresRegistry(options.postgresUrl);
  const file = options.file;
  if (file === undefined) throw new Error('openRegistry needs a file or a PostgreSQL URL');
  if (file !== ':memory:') await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  return openSqliteRegistry(file);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export async function openRegistry(options: OpenRegistryOptions): Promise<Registry> {
  const clock = options.clock ?? Date.now;
  const backend = await openBackend(options);
  const { keys } = backend;
  const iso = () => new Date(clock()).toISOString();

  const devices = new Map<string, DeviceRecord>();
  const gateways = new Map<string, GatewayBase>();
  /** Active children per gateway; each set lives as long as its gateway, so principals see changes. */
  const children = new Map<string, Set<string>>();
  const services = new Map<string, ServiceAccount>();
  const hashes = new Map<string, string>();
  const tokens = createApiTokens([], (digest, info) =>
    write(info.label, { op: 'upsert-token', digest, role: info.role, label: info.label, createdAt: iso() }),
  );
  const agencies = createAgencies(
    [],
    {
      insert: (a) => write(a.id, agencyChange('insert-agency', a)),
      update: (a) => write(a.id, agencyChange('update-agency', a)),
      delete: (id) => write(id, { op: 'delete-agency', id }),
    },
    iso,
  );
  const users = createUsers(
    [],
    [],
    {
      insert: (u, hash) => write(u.username, userChange('insert-user', u, hash)),
      update: (u, hash) => write(u.username, userChange('update-user', u, hash)),
      delete: (username) => write(username, { op: 'delete-user', username }),
      insertSession: (digest, username, createdAt, expiresAt) =>
        write(username, { op: 'insert-session', digest, username, createdAt, expiresAt }),
      deleteSession: (digest) => write('a session', { op: 'delete-session', digest }),
      deleteSessionsOf: (username) => write(username, { op: 'delete-sessions-of', username }),
      deleteSessionsBefore: (at) => write('ended sessions', { op: 'delete-sessions-before', at }),
    },
    iso,
  );

  let closed = false;
  const principals = createPrincipals({ devices, gateways, children, services, hashes, keys, rehash });

  /** Brings the maps to these tables' rows; every id whose credentials or standing changed is invalidated. */
  function fill(rows: Partial<RegistryRows>): void {
    const before = new Map(hashes);
    const standing = (id: string) => devices.get(id)?.status ?? (gateways.has(id) || services.has(id));
    const was = new Map([...before.keys()].map((id) => [id, standing(id)]));
    if (rows.gateways !== undefined) {
      for (const id of gateways.keys()) hashes.delete(id);
      gateways.clear();
      for (const g of rows.gateways) {
        gateways.set(g.id, deepFreeze(gatewayFromRow(g)));
        hashes.set(g.id, g.secret_hash);
        if (!children.has(g.id)) children.set(g.id, new Set());
      }
      for (const id of children.keys()) if (!gateways.has(id)) children.delete(id);
    }
    if (rows.devices !== undefined) {
      for (const id of devices.keys()) hashes.delete(id);
      devices.clear();
      for (const row of rows.devices) {
        devices.set(row.id, deepFreeze(deviceFromRow(row)));
        hashes.set(row.id, row.secret_hash);
      }
    }
    if (rows.devices !== undefined || rows.gateways !== undefined) {
      // The sets are kept, emptied and filled again: connected gateways' principals hold them.
      for (const set of children.values()) set.clear();
      for (const d of devices.values())
        if (d.gateway !== undefined && d.status === 'active') children.get(d.gateway)?.add(d.id);
    }
    if (rows.service_accounts !== undefined) {
      for (const id of services.keys()) hashes.delete(id);
      services.clear();
      for (const r of rows.service_accounts) {
        services.set(
          r.id,
          Object.freeze({ id: r.id, mayPublishAlerts: r.may_publish_alerts === 1, createdAt: r.created_at }),
        );
        hashes.set(r.id, r.secret_hash);
      }
    }
    if (rows.api_tokens !== undefined) tokens.replace(rows.api_tokens);
    if (rows.agencies !== undefined) agencies.reload(rows.agencies);
    if (rows.users !== undefined || rows.sessions !== undefined)
      users.reload({ users: rows.users, sessions: rows.sessions });
    for (const [id, hash] of before)
      if (hashes.get(id) !== hash || standing(id) !== was.get(id)) principals.invalidate(id);
  }

  /** Brings these devices to their rows (an id without one is gone), touching no other device. */
  function fillDevices(rows: readonly DeviceRow[], ids: readonly string[]): void {
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of ids) {
      const prev = devices.get(id);
      const prevHash = hashes.get(id);
      if (prev?.gateway !== undefined) children.get(prev.gateway)?.delete(id);
      const row = byId.get(id);
      if (row === undefined) {
        if (prev !== undefined) {
          devices.delete(id);
          forget(id);
        }
        continue;
      }
      const d = deepFreeze(deviceFromRow(row));
      devices.set(id, d);
      hashes.set(id, row.secret_hash);
      if (d.gateway !== undefined && d.status === 'active') children.get(d.gateway)?.add(id);
      if (prevHash !== row.secret_hash || prev?.status !== d.status) principals.invalidate(id);
    }
  }

  try {
    fill(await backend.load());
  } catch (err) {
    await backend.close();
    throw err;
  }

  // Another node's changes, read in one table set at a time. A write of ours that lands while a table is
  // being read again makes it be read once more, so an older read never overwrites a newer write.
  const remoteListeners: Array<(tables: readonly RegistryTable[]) => void> = [];
  let localWrites = 0;
  // Whole tables to read again, and devices named one by one (while their table is not read whole).
  let pending = new Set<RegistryTable>();
  let pendingDevices = new Set<string>();
  let reading: Promise<void> | undefined;
  const readSoon = (touch: RegistryTouch) => {
    for (const t of touch.tables) if (t !== 'devices' || touch.devices === undefined) pending.add(t);
    if (pending.has('devices')) pendingDevices.clear();
    else for (const id of touch.devices ?? []) pendingDevices.add(id);
    reading ??= readAgain().finally(() => (reading = undefined));
    return reading;
  };
  backend.onRemoteChange((touch) => void readSoon(touch));
  let lastCatchUp = -Infinity;
  async function readAgain(): Promise<void> {
    while ((pending.size > 0 || pendingDevices.size > 0) && !closed) {
      const tables = [...pending];
      const ids = [...pendingDevices];
      pending = new Set();
      pendingDevices = new Set();
      const mark = localWrites;
      try {
        const rows = tables.length > 0 ? await backend.load(tables) : {};
        const deviceRows = ids.length > 0 ? await backend.loadDevices(ids) : [];
        if (closed) return;
        if (localWrites !== mark) {
          void readSoon({ tables, devices: ids });
          continue;
        }
        fill(rows);
        fillDevices(deviceRows, ids);
        const told: readonly RegistryTable[] =
          ids.length > 0 && !tables.includes('devices') ? [...tables, 'devices'] : tables;
        for (const listener of remoteListeners) listener(told);
      } catch {
        // The database is away: read them again once it tells of a change (it tells of everything then).
        return;
      }
    }
  }

  /** Best effort: when the write fails, the legacy hash stays and is replaced at a later CONNECT. */
  function rehash(id: string, prev: string, next: string): void {
    if (closed || hashes.get(id) !== prev) return;
    backend.rehash(id, prev, next).then(
      (changed) => {
        if (changed && hashes.get(id) === prev) hashes.set(id, next);
      },
      () => undefined, // kept as it was: the next successful CONNECT tries again
    );
  }

  async function write(id: string, change: RegistryChange): Promise<void> {
    if (closed) throw new RegistryError('REGISTRY_ERR_CLOSED', 'the registry is closed');
    try {
      await backend.apply(change);
    } catch (err) {
      throw storageError(err, id);
    } finally {
      localWrites += 1;
    }
  }

  function agencyChange(op: 'insert-agency' | 'update-agency', a: AgencyRecord): RegistryChange {
    return { op, id: a.id, record: JSON.stringify(a), createdAt: a.created_at, updatedAt: a.updated_at };
  }

  function userChange(op: 'insert-user' | 'update-user', u: UserRecord, hash: string): RegistryChange {
    const record = JSON.stringify(u);
    return { op, username: u.username, record, hash, createdAt: u.created_at, updatedAt: u.updated_at };
  }

  function assertFreeId(id: string): void {
    if (hashes.has(id))
      throw new RegistryError(
        'REGISTRY_ERR_DUPLICATE',
        `${id} is already a device, gateway or service account`,
      );
  }

  function assertGateway(id: string | undefined): void {
    if (id !== undefined && !gateways.has(id))
      throw new RegistryError('REGISTRY_ERR_GATEWAY', `gateway ${id} does not exist`);
  }

  function activeDevice(id: string): DeviceRecord {
    const d = devices.get(id);
    if (d === undefined) throw new RegistryError('REGISTRY_ERR_NOT_FOUND', `device ${id} does not exist`);
    if (d.status !== 'active')
      throw new RegistryError('REGISTRY_ERR_DECOMMISSIONED', `device ${id} is decommissioned`);
    return d;
  }

  /** Writes a changed device and brings the cache and the children sets in step. */
  async function saveDevice(prev: DeviceRecord, next: DeviceRecord, hash: string): Promise<DeviceRecord> {
    await write(next.id, { op: 'update-device', row: deviceToRow(next, hash) });
    const frozen = deepFreeze(next);
    devices.set(next.id, frozen);
    hashes.set(next.id, hash);
    if (prev.gateway !== undefined) children.get(prev.gateway)?.delete(prev.id);
    if (next.gateway !== undefined && next.status === 'active') children.get(next.gateway)?.add(next.id);
    return frozen;
  }

  function existingGateway(id: string): GatewayBase {
    const g = gateways.get(id);
    if (g === undefined) throw new RegistryError('REGISTRY_ERR_NOT_FOUND', `gateway ${id} does not exist`);
    return g;
  }

  function existingService(id: string): ServiceAccount {
    const s = services.get(id);
    if (s === undefined)
      throw new RegistryError('REGISTRY_ERR_NOT_FOUND', `service account ${id} does not exist`);
    return s;
  }

  /** The id's credentials forgotten: a CONNECT in flight with them fails too. */
  function forget(id: string): void {
    hashes.delete(id);
    principals.invalidate(id);
  }

  function gatewayRecord(g: GatewayBase): GatewayRecord {
    return { ...g, children: [...(children.get(g.id) ?? [])].sort() };
  }

  /** Parsed, checked and written new devices, each with its secret, all or none. */
  async function provision(
    inputs: readonly DeviceInput[],
  ): Promise<Array<{ device: DeviceRecord; secret: string }>> {
    const seen = new Set<string>();
    const parsed = inputs.map((input) => {
      const d = parseInput(DeviceInput, input, 'device');
      assertFreeId(d.id);
      if (seen.has(d.id)) throw new RegistryError('REGISTRY_ERR_DUPLICATE', `${d.id} is twice in the list`);
      seen.add(d.id);
      assertGateway(d.gateway);
      return d;
    });
    const now = iso();
    const made = parsed.map((d) => {
      const secret = newSecret();
      const hash = hashSecret(secret, keys);
      const device = deepFreeze(
        DeviceRecord.parse({ ...d, status: 'active', createdAt: now, updatedAt: now }),
      );
      return { device, secret, hash };
    });
    const what = made.length === 1 ? made[0]!.device.id : `${made.length} devices`;
    await write(what, { op: 'insert-devices', rows: made.map((m) => deviceToRow(m.device, m.hash)) });
    for (const { device, hash } of made) {
      devices.set(device.id, device);
      hashes.set(device.id, hash);
      if (device.gateway !== undefined) children.get(device.gateway)?.add(device.id);
    }
    return made.map(({ device, secret }) => ({ device, secret }));
  }

  return {
    getDevice: (id) => devices.get(id),

    listDevices(filter = {}) {
      const out: DeviceRecord[] = [];
      for (const d of devices.values()) {
        if (filter.kind !== undefined && d.kind !== filter.kind) continue;
        if (filter.district !== undefined && d.district !== filter.district) continue;
        if (filter.gateway !== undefined && d.gateway !== filter.gateway) continue;
        if (d.status !== 'active' && filter.includeDecommissioned !== true) continue;
        out.push(d);
      }
      return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },

    provisionDevice: async (input) => (await provision([input]))[0]!,
    provisionDevices: (inputs) => provision(inputs),

    async updateDevice(id, patch) {
      const prev = activeDevice(id);
      const p = parseInput(DevicePatch, patch, 'device patch');
      const gateway = p.gateway === undefined ? prev.gateway : (p.gateway ?? undefined);
      assertGateway(gateway);
      // `meta` is replaced as a whole and checked against the device's kind, which never changes.
      const meta =
        p.meta === undefined
          ? prev.meta
          : parseInput(META_SCHEMAS[prev.kind], p.meta, `${prev.kind} metadata`);
      const next = DeviceRecord.parse({
        ...prev,
        name: p.name ?? prev.name,
        district: p.district ?? prev.district,
        location: p.location ?? prev.location,
        tags: p.tags ?? prev.tags,
        gateway,
        meta,
        updatedAt: iso(),
      });
      return saveDevice(prev, next, hashes.get(id)!);
    },

    async setMaintenance(id, maintenance) {
      const prev = activeDevice(id);
      const { maintenance: _previous, ...rest } = prev;
      const m =
        maintenance === null
          ? {}
          : { maintenance: parseInput(DeviceMaintenance, maintenance, 'maintenance') };
      const next = DeviceRecord.parse({ ...rest, ...m, updatedAt: iso() });
      return saveDevice(prev, next, hashes.get(id)!);
    },

    async decommissionDevice(id) {
      const prev = devices.get(id);
      if (prev === undefined)
        throw new RegistryError('REGISTRY_ERR_NOT_FOUND', `device ${id} does not exist`);
      if (prev.status === 'decommissioned') return prev;
      principals.invalidate(id); // now: a CONNECT being checked must not outlive the write
      const next = await saveDevice(
        prev,
        { ...prev, status: 'decommissioned', updatedAt: iso() },
        hashes.get(id)!,
      );
      principals.invalidate(id);
      return next;
    },

    async rotateSecret(id) {
      if (devices.has(id)) activeDevice(id);
      else if (!gateways.has(id) && !services.has(id))
        throw new RegistryError('REGISTRY_ERR_NOT_FOUND', `${id} does not exist`);
      const secret = newSecret();
      const hash = hashSecret(secret, keys);
      principals.invalidate(id); // now: a CONNECT being checked with the old secret must not outlive the write
      if (devices.has(id)) {
        const prev = activeDevice(id);
        await saveDevice(prev, { ...prev, updatedAt: iso() }, hash);
      } else {
        await write(id, {
          op: 'set-secret',
          table: gateways.has(id) ? 'gateways' : 'service_accounts',
          id,
          hash,
        });
      }
      hashes.set(id, hash);
      principals.invalidate(id);
      return secret;
    },

    provisionGateway: (input) =>
      settle(() => parseInput(GatewayInput, input, 'gateway')).then(async (g) => {
        assertFreeId(g.id);
        const secret = newSecret();
        const hash = hashSecret(secret, keys);
        const base = deepFreeze({ ...g, createdAt: iso() });
        const row = {
          ...{ id: g.id, name: g.name, district: g.district, lat: g.location.lat, lon: g.location.lon },
          ...{ secret_hash: hash, created_at: base.createdAt },
        };
        await write(g.id, { op: 'insert-gateway', row });
        gateways.set(g.id, base);
        if (!children.has(g.id)) children.set(g.id, new Set());
        hashes.set(g.id, hash);
        return { gateway: gatewayRecord(base), secret };
      }),

    getGateway(id) {
      const g = gateways.get(id);
      return g === undefined ? undefined : gatewayRecord(g);
    },

    listGateways: () => [...gateways.values()].map(gatewayRecord).sort((a, b) => (a.id < b.id ? -1 : 1)),

    async updateGateway(id, patch) {
      const prev = existingGateway(id);
      const p = parseInput(GatewayPatch, patch, 'gateway patch');
      const next = deepFreeze({ ...prev, ...p });
      const { name, district, location } = next;
      await write(id, {
        op: 'update-gateway',
        row: { id, name, district, lat: location.lat, lon: location.lon },
      });
      gateways.set(id, next);
      return gatewayRecord(next);
    },

    async removeGateway(id) {
      const g = existingGateway(id);
      const active = [...(children.get(id) ?? [])].sort();
      if (active.length > 0)
        throw new RegistryError(
          'REGISTRY_ERR_IN_USE',
          `gateway ${id} has ${active.length} active device(s) behind it (${active.slice(0, 5).join(', ')}${active.length > 5 ? ', …' : ''}): move, detach or decommission them first`,
        );
      await write(id, { op: 'delete-gateway', id: g.id });
      for (const d of devices.values())
        if (d.gateway === id) {
          const { gateway: _gone, ...rest } = d;
          devices.set(d.id, deepFreeze(DeviceRecord.parse(rest)));
        }
      gateways.delete(id);
      children.delete(id);
      forget(id);
    },

    provisionServiceAccount: (input) =>
      settle(() => parseInput(ServiceAccountInput, input, 'service account')).then(async (s) => {
        assertFreeId(s.id);
        const secret = newSecret();
        const hash = hashSecret(secret, keys);
        const serviceAccount = Object.freeze({
          id: s.id,
          mayPublishAlerts: s.mayPublishAlerts,
          createdAt: iso(),
        });
        const row = {
          ...{ id: s.id, secret_hash: hash, may_publish_alerts: s.mayPublishAlerts ? 1 : 0 },
          created_at: serviceAccount.createdAt,
        };
        await write(s.id, { op: 'insert-service', row });
        services.set(s.id, serviceAccount);
        hashes.set(s.id, hash);
        return { serviceAccount, secret };
      }),

    getServiceAccount: (id) => services.get(id),
    listServiceAccounts: () => [...services.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),

    async updateServiceAccount(id, patch) {
      const prev = existingService(id);
      const p = parseInput(ServiceAccountPatch, patch, 'service account patch');
      const next = Object.freeze({ ...prev, mayPublishAlerts: p.mayPublishAlerts });
      await write(id, { op: 'set-service-rights', id, mayPublishAlerts: p.mayPublishAlerts });
      services.set(id, next);
      return next;
    },

    async removeServiceAccount(id) {
      existingService(id);
      await write(id, { op: 'delete-service', id });
      services.delete(id);
      forget(id);
    },
    isKnown: (id) => hashes.has(id),

    authenticate: (username, password) =>
      closed ? Promise.resolve(undefined) : principals.authenticate(username, password),

    createApiToken: (role, label) => tokens.create(role, label),
    verifyApiToken: (token) => tokens.verify(token),
    ensureApiToken: (token, role, label) => tokens.ensure(token, role, label),

    listAgencies: () => agencies.list(),
    getAgency: (id) => agencies.get(id),
    createAgency: (input) => agencies.create(input),
    replaceAgency: (id, input) => agencies.replace(id, input),
    removeAgency: (id) => agencies.remove(id),

    users,
    onRemoteChange: (listener) => void remoteListeners.push(listener),
    async catchUp(tables) {
      if (options.postgresUrl === undefined || closed) return;
      const now = Date.now();
      if (now - lastCatchUp < 250) return reading;
      lastCatchUp = now;
      await readSoon({ tables });
    },
    storage: async () => ({
      database: options.postgresUrl === undefined ? 'sqlite' : 'postgresql',
      ...(await backend.ping()),
    }),

    async close() {
      if (closed) return;
      closed = true;
      await reading;
      await backend.close();
    },
  };
}

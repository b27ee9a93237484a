// The device registry: devices, gateways, service accounts, API tokens, agencies and users in SQLite (docs/architecture.md
// decision 5), served from memory. `getDevice` runs for every MQTT message, so every read is a map
// lookup; every write goes to SQLite first and then to the maps, so the two never disagree.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { RegistryError, parseInput } from './errors.ts';
import type { Kind } from './kinds.ts';
import { createPrincipals, type Principal } from './registry-auth.ts';
import {
  deviceFromRow,
  deviceToRow,
  gatewayFromRow,
  loadAll,
  loadSecretKeys,
  openDatabase,
  prepareWrites,
  storageError,
  type GatewayBase,
  type ServiceAccount,
} from './registry-store.ts';
import { createApiTokens, type ApiTokenInfo } from './registry-tokens.ts';
import { createAgencies, type AgencyInput, type AgencyRecord } from './agencies.ts';
import { createUsers, type Users } from './users.ts';
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
export type { ServiceAccount } from './registry-store.ts';
export type { ApiTokenInfo } from './registry-tokens.ts';

export interface OpenRegistryOptions {
  /** SQLite file, or `:memory:` for tests. Its folder is created if missing. */
  readonly file: string;
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
  updateDevice(id: string, patch: DevicePatch): DeviceRecord;
  decommissionDevice(id: string): DeviceRecord;
  /** Puts an active device in maintenance until a time (`by` who), or back in service with null. */
  setMaintenance(id: string, maintenance: DeviceMaintenance | null): DeviceRecord;
  /** A new secret for a device, gateway or service account; the old one stops working at once. */
  rotateSecret(id: string): Promise<string>;
  provisionGateway(input: GatewayInput): Promise<{ gateway: GatewayRecord; secret: string }>;
  getGateway(id: string): GatewayRecord | undefined;
  listGateways(): GatewayRecord[];
  updateGateway(id: string, patch: GatewayPatch): GatewayRecord;
  /** REGISTRY_ERR_IN_USE while active devices are behind it; decommissioned ones lose the link. */
  removeGateway(id: string): void;
  provisionServiceAccount(
    input: ServiceAccountInput,
  ): Promise<{ serviceAccount: ServiceAccount; secret: string }>;
  getServiceAccount(id: string): ServiceAccount | undefined;
  listServiceAccounts(): ServiceAccount[];
  updateServiceAccount(id: string, patch: ServiceAccountPatch): ServiceAccount;
  removeServiceAccount(id: string): void;
  /** Whether a device (decommissioned too), gateway or service account has this id. */
  isKnown(id: string): boolean;
  /** MQTT CONNECT: username = id, password = the issued secret. Never throws on bad credentials. */
  authenticate(username: string, password: Buffer | string): Promise<Principal | undefined>;
  /** A new random API token, shown once; only its SHA-256 is stored. */
  createApiToken(role: ApiRole, label: string): string;
  verifyApiToken(token: string): ApiTokenInfo | undefined;
  /** Makes a token known with this role (the admin token from the environment); safe to repeat. */
  ensureApiToken(token: string, role: ApiRole, label: string): void;
  /** Agencies, by id. */
  listAgencies(): AgencyRecord[];
  getAgency(id: string): AgencyRecord | undefined;
  createAgency(input: AgencyInput): AgencyRecord;
  /** The whole record replaced; receiver secrets left out are kept. */
  replaceAgency(id: string, input: AgencyInput): AgencyRecord;
  removeAgency(id: string): void;
  /** People who sign in, and their sessions (users.ts). */
  readonly users: Users;
  close(): Promise<void>;
}

/** Everything read at open; the database is closed again if any of it fails. */
function loadOrClose(db: Database.Database) {
  try {
    return { writes: prepareWrites(db), loaded: loadAll(db), keys: loadSecretKeys(db) };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Runs `run` now; its result or its throw as a promise, as the asynchronous contract says. */
function settle<T>(run: () => T): Promise<T> {
  return new Promise((resolve) => resolve(run()));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export async function openRegistry(options: OpenRegistryOptions): Promise<Registry> {
  if (options.file !== ':memory:') await mkdir(path.dirname(path.resolve(options.file)), { recursive: true });
  const clock = options.clock ?? Date.now;
  const db = openDatabase(options.file);
  const { writes, loaded, keys } = loadOrClose(db);
  const iso = () => new Date(clock()).toISOString();

  const devices = new Map<string, DeviceRecord>();
  const gateways = new Map<string, GatewayBase>();
  /** Active children per gateway; each set lives as long as its gateway, so principals see changes. */
  const children = new Map<string, Set<string>>();
  const services = new Map<string, ServiceAccount>();
  const hashes = new Map<string, string>();
  for (const g of loaded.gateways) {
    gateways.set(g.id, deepFreeze(gatewayFromRow(g)));
    children.set(g.id, new Set());
    hashes.set(g.id, g.secret_hash);
  }
  for (const row of loaded.devices) {
    const d = deepFreeze(deviceFromRow(row));
    devices.set(d.id, d);
    hashes.set(d.id, row.secret_hash);
    if (d.gateway !== undefined && d.status === 'active') children.get(d.gateway)?.add(d.id);
  }
  for (const s of loaded.services) {
    services.set(
      s.id,
      Object.freeze({ id: s.id, mayPublishAlerts: s.may_publish_alerts === 1, createdAt: s.created_at }),
    );
    hashes.set(s.id, s.secret_hash);
  }
  const tokens = createApiTokens(loaded.tokens, (digest, info) =>
    write(info.label, () => writes.upsertToken.run(digest, info.role, info.label, iso())),
  );

  const agencies = createAgencies(
    loaded.agencies,
    {
      insert: (a) =>
        write(a.id, () => writes.insertAgency.run(a.id, JSON.stringify(a), a.created_at, a.updated_at)),
      update: (a) => write(a.id, () => writes.updateAgency.run(JSON.stringify(a), a.updated_at, a.id)),
      delete: (id) => write(id, () => writes.deleteAgency.run(id)),
    },
    iso,
  );

  const users = createUsers(
    loaded.users,
    loaded.sessions,
    {
      insert: (u, hash) =>
        write(u.username, () =>
          writes.insertUser.run(u.username, JSON.stringify(u), hash, u.created_at, u.updated_at),
        ),
      update: (u, hash) =>
        write(u.username, () => writes.updateUser.run(JSON.stringify(u), hash, u.updated_at, u.username)),
      delete: (username) => write(username, () => writes.deleteUser.run(username)),
      insertSession: (digest, username, createdAt, expiresAt) =>
        write(username, () => writes.insertSession.run(digest, username, createdAt, expiresAt)),
      deleteSession: (digest) => write('a session', () => writes.deleteSession.run(digest)),
      deleteSessionsOf: (username) => write(username, () => writes.deleteSessionsOf.run(username)),
      deleteSessionsBefore: (at) => write('ended sessions', () => writes.deleteSessionsBefore.run(at)),
    },
    iso,
  );

  let closed = false;
  const principals = createPrincipals({ devices, gateways, children, services, hashes, keys, rehash });

  /** Best effort: when the write fails, the legacy hash stays and is replaced at a later CONNECT. */
  function rehash(id: string, prev: string, next: string): void {
    if (closed || hashes.get(id) !== prev) return;
    try {
      const changed = writes.rehash.reduce((n, statement) => n + statement.run(next, id, prev).changes, 0);
      if (changed === 1) hashes.set(id, next);
    } catch {
      // Kept as it was: the next successful CONNECT tries again.
    }
  }

  function write(id: string, run: () => unknown): void {
    if (closed) throw new RegistryError('REGISTRY_ERR_CLOSED', 'the registry is closed');
    try {
      run();
    } catch (err) {
      throw storageError(err, id);
    }
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
  function saveDevice(prev: DeviceRecord, next: DeviceRecord, hash: string): DeviceRecord {
    write(next.id, () => writes.updateDevice.run(deviceToRow(next, hash)));
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

    provisionDevice: (input) =>
      settle(() => {
        const parsed = parseInput(DeviceInput, input, 'device');
        assertFreeId(parsed.id);
        assertGateway(parsed.gateway);
        const secret = newSecret();
        const hash = hashSecret(secret, keys);
        const now = iso();
        const device = deepFreeze(
          DeviceRecord.parse({ ...parsed, status: 'active', createdAt: now, updatedAt: now }),
        );
        write(device.id, () => writes.insertDevice.run(deviceToRow(device, hash)));
        devices.set(device.id, device);
        hashes.set(device.id, hash);
        if (device.gateway !== undefined) children.get(device.gateway)?.add(device.id);
        return { device, secret };
      }),

    provisionDevices: (inputs) =>
      settle(() => {
        const seen = new Set<string>();
        const parsed = inputs.map((input) => {
          const d = parseInput(DeviceInput, input, 'device');
          assertFreeId(d.id);
          if (seen.has(d.id))
            throw new RegistryError('REGISTRY_ERR_DUPLICATE', `${d.id} is twice in the list`);
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
        write(`${made.length} devices`, () =>
          writes.insertDevices(made.map((m) => deviceToRow(m.device, m.hash))),
        );
        for (const { device, hash } of made) {
          devices.set(device.id, device);
          hashes.set(device.id, hash);
          if (device.gateway !== undefined) children.get(device.gateway)?.add(device.id);
        }
        return made.map(({ device, secret }) => ({ device, secret }));
      }),

    updateDevice(id, patch) {
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

    setMaintenance(id, maintenance) {
      const prev = activeDevice(id);
      const { maintenance: _previous, ...rest } = prev;
      const m =
        maintenance === null
          ? {}
          : { maintenance: parseInput(DeviceMaintenance, maintenance, 'maintenance') };
      const next = DeviceRecord.parse({ ...rest, ...m, updatedAt: iso() });
      return saveDevice(prev, next, hashes.get(id)!);
    },

    decommissionDevice(id) {
      const prev = devices.get(id);
      if (prev === undefined)
        throw new RegistryError('REGISTRY_ERR_NOT_FOUND', `device ${id} does not exist`);
      if (prev.status === 'decommissioned') return prev;
      const next = saveDevice(prev, { ...prev, status: 'decommissioned', updatedAt: iso() }, hashes.get(id)!);
      principals.invalidate(id);
      return next;
    },

    rotateSecret: (id) =>
      settle(() => {
        const kindOfId = () =>
          devices.has(id)
            ? 'device'
            : gateways.has(id)
              ? 'gateway'
              : services.has(id)
                ? 'service'
                : undefined;
        if (kindOfId() === 'device') activeDevice(id);
        if (kindOfId() === undefined)
          throw new RegistryError('REGISTRY_ERR_NOT_FOUND', `${id} does not exist`);
        const secret = newSecret();
        const hash = hashSecret(secret, keys);
        const type = kindOfId();
        if (type === 'device') {
          const prev = activeDevice(id);
          saveDevice(prev, { ...prev, updatedAt: iso() }, hash);
        } else if (type === 'gateway') {
          write(id, () => writes.setGatewaySecret.run(hash, id));
        } else {
          write(id, () => writes.setServiceSecret.run(hash, id));
        }
        hashes.set(id, hash);
        principals.invalidate(id);
        return secret;
      }),

    provisionGateway: (input) =>
      settle(() => {
        const g = parseInput(GatewayInput, input, 'gateway');
        assertFreeId(g.id);
        const secret = newSecret();
        const hash = hashSecret(secret, keys);
        const base = deepFreeze({ ...g, createdAt: iso() });
        write(g.id, () =>
          writes.insertGateway.run({
            ...g,
            lat: g.location.lat,
            lon: g.location.lon,
            secret_hash: hash,
            created_at: base.createdAt,
          }),
        );
        gateways.set(g.id, base);
        children.set(g.id, new Set());
        hashes.set(g.id, hash);
        return { gateway: gatewayRecord(base), secret };
      }),

    getGateway(id) {
      const g = gateways.get(id);
      return g === undefined ? undefined : gatewayRecord(g);
    },

    listGateways: () => [...gateways.values()].map(gatewayRecord).sort((a, b) => (a.id < b.id ? -1 : 1)),

    updateGateway(id, patch) {
      const prev = existingGateway(id);
      const p = parseInput(GatewayPatch, patch, 'gateway patch');
      const next = deepFreeze({ ...prev, ...p });
      write(id, () =>
        writes.updateGateway.run({
          id,
          name: next.name,
          district: next.district,
          lat: next.location.lat,
          lon: next.location.lon,
        }),
      );
      gateways.set(id, next);
      return gatewayRecord(next);
    },

    removeGateway(id) {
      const g = existingGateway(id);
      const active = [...(children.get(id) ?? [])].sort();
      if (active.length > 0)
        throw new RegistryError(
          'REGISTRY_ERR_IN_USE',
          `gateway ${id} has ${active.length} active device(s) behind it (${active.slice(0, 5).join(', ')}${active.length > 5 ? ', …' : ''}): move, detach or decommission them first`,
        );
      write(id, () => writes.deleteGateway(g.id));
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
      settle(() => {
        const s = parseInput(ServiceAccountInput, input, 'service account');
        assertFreeId(s.id);
        const secret = newSecret();
        const hash = hashSecret(secret, keys);
        const serviceAccount = Object.freeze({
          id: s.id,
          mayPublishAlerts: s.mayPublishAlerts,
          createdAt: iso(),
        });
        write(s.id, () =>
          writes.insertService.run(s.id, hash, s.mayPublishAlerts ? 1 : 0, serviceAccount.createdAt),
        );
        services.set(s.id, serviceAccount);
        hashes.set(s.id, hash);
        return { serviceAccount, secret };
      }),

    getServiceAccount: (id) => services.get(id),
    listServiceAccounts: () => [...services.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),

    updateServiceAccount(id, patch) {
      const prev = existingService(id);
      const p = parseInput(ServiceAccountPatch, patch, 'service account patch');
      const next = Object.freeze({ ...prev, mayPublishAlerts: p.mayPublishAlerts });
      write(id, () => writes.setServiceRights.run(p.mayPublishAlerts ? 1 : 0, id));
      services.set(id, next);
      return next;
    },

    removeServiceAccount(id) {
      existingService(id);
      write(id, () => writes.deleteService.run(id));
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

    close() {
      if (!closed) {
        closed = true;
        db.close();
      }
      return Promise.resolve();
    },
  };
}

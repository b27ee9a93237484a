import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../test/kits/postgres.ts';
import { isRegistryError, type RegistryErrorCode } from './errors.ts';
import { openRegistry, type OpenRegistryOptions, type Registry } from './registry.ts';
import type { DeviceInput } from './schemas.ts';
import { hashPassword } from './secrets.ts';
import { publicAgency } from './agencies.ts';

let dir: string;
let file: string;
let registry: Registry;
let pg: TestPostgres | undefined;
let databases = 0;

/** The registry on each of its databases: the same tests hold for both. */
const BACKENDS = [
  { name: 'SQLite', options: () => Promise.resolve({ file: path.join(dir, 'sub', 'registry.db') }) },
  {
    name: 'PostgreSQL',
    options: async () => {
      pg ??= await startPostgres();
      return { postgresUrl: await pg.database(`registry_${databases++}`) };
    },
  },
] as const;
let storage: OpenRegistryOptions;
const clock = () => Date.parse('2025-10-27T03:00:00Z');
/** A device's row as the database holds it, read past the registry. */
async function storedDevice(id: string): Promise<{ secret_hash: string }> {
  if (storage.postgresUrl !== undefined) {
    const sql = postgres(storage.postgresUrl, { max: 1 });
    const [row] = await sql<{ secret_hash: string }[]>`SELECT secret_hash FROM devices WHERE id = ${id}`;
    await sql.end();
    return row!;
  }
  const db = new Database(file, { readonly: true });
  const row = db.prepare('SELECT secret_hash FROM devices WHERE id = ?').get(id) as { secret_hash: string };
  db.close();
  return row;
}
/** The same registry opened again, as after a restart. */
const reopen = () => openRegistry({ ...storage, clock });

const lamp = (id: string, gateway?: string): DeviceInput => ({
  id,
  kind: 'streetlight',
  name: `Lê Lợi ${id}`,
  district: 'Thuận Hóa',
  location: { lat: 16.4565, lon: 107.578 },
  gateway,
  meta: { street: 'Lê Lợi', rated_w: 150 },
});
const gauge: DeviceInput = {
  id: 'rg-kim-long',
  kind: 'flood',
  name: 'Kim Long',
  district: 'Kim Long',
  location: { lat: 16.455, lon: 107.56 },
  meta: { type: 'river', station: 'Kim Long', river: 'Hương', alarm_levels_m: [1, 2, 3.5] },
  tags: ['river'],
};
const gatewayInput = {
  id: 'gw-1',
  name: 'Lighting gateway',
  district: 'Thuận Hóa',
  location: { lat: 16.46, lon: 107.58 },
};

async function codeOf(run: () => unknown): Promise<RegistryErrorCode | undefined> {
  try {
    await run();
  } catch (err) {
    if (isRegistryError(err)) return err.code;
    throw err;
  }
  return undefined;
}

afterAll(async () => {
  await pg?.stop();
});

describe.each(BACKENDS)('the registry in $name', (backend) => {
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'registry-'));
    file = path.join(dir, 'sub', 'registry.db');
    storage = await backend.options();
    registry = await reopen();
  });

  afterEach(async () => {
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('devices', () => {
    it('provisions a device, returns it with a one-time secret, and keeps it after reopening', async () => {
      const { device, secret } = await registry.provisionDevice(gauge);
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(device).toMatchObject({
        id: 'rg-kim-long',
        kind: 'flood',
        status: 'active',
        tags: ['river'],
        createdAt: '2025-10-27T03:00:00.000Z',
      });
      expect(registry.getDevice('rg-kim-long')).toEqual(device);
      await registry.close();
      registry = await reopen();
      expect(registry.getDevice('rg-kim-long')).toEqual(device);
      expect(await registry.authenticate('rg-kim-long', secret)).toEqual({ type: 'device', device });
    });

    it('applies the streetlight tolerance default and refuses metadata of another kind', async () => {
      const { device } = await registry.provisionDevice(lamp('sl-1'));
      expect(device.kind === 'streetlight' && device.meta.tolerance_pct).toBe(10);
      const floodWithLampMeta: unknown = { ...gauge, id: 'x', meta: { street: 'a', rated_w: 1 } };
      expect(await codeOf(() => registry.provisionDevice(floodWithLampMeta as DeviceInput))).toBe(
        'REGISTRY_ERR_INVALID',
      );
    });

    it('refuses duplicates across devices, gateways and service accounts', async () => {
      await registry.provisionDevice(gauge);
      await registry.provisionGateway(gatewayInput);
      expect(await codeOf(() => registry.provisionDevice(gauge))).toBe('REGISTRY_ERR_DUPLICATE');
      expect(await codeOf(() => registry.provisionGateway({ ...gatewayInput, id: 'rg-kim-long' }))).toBe(
        'REGISTRY_ERR_DUPLICATE',
      );
      expect(await codeOf(() => registry.provisionServiceAccount({ id: 'gw-1' }))).toBe(
        'REGISTRY_ERR_DUPLICATE',
      );
    });

    it('refuses concurrent provisioning of one id: exactly one wins', async () => {
      const results = await Promise.allSettled([
        registry.provisionDevice(gauge),
        registry.provisionDevice(gauge),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });

    it('refuses a device behind a gateway that does not exist', async () => {
      expect(await codeOf(() => registry.provisionDevice(lamp('sl-1', 'gw-missing')))).toBe(
        'REGISTRY_ERR_GATEWAY',
      );
    });

    it('lists with filters, sorted, without decommissioned devices unless asked', async () => {
      await registry.provisionGateway(gatewayInput);
      await registry.provisionDevice(lamp('sl-2', 'gw-1'));
      await registry.provisionDevice(lamp('sl-1'));
      await registry.provisionDevice(gauge);
      await registry.decommissionDevice('sl-1');
      expect(registry.listDevices().map((d) => d.id)).toEqual(['rg-kim-long', 'sl-2']);
      expect(registry.listDevices({ includeDecommissioned: true }).map((d) => d.id)).toEqual([
        'rg-kim-long',
        'sl-1',
        'sl-2',
      ]);
      expect(registry.listDevices({ kind: 'flood' }).map((d) => d.id)).toEqual(['rg-kim-long']);
      expect(registry.listDevices({ gateway: 'gw-1' }).map((d) => d.id)).toEqual(['sl-2']);
      expect(registry.listDevices({ district: 'Kim Long' }).map((d) => d.id)).toEqual(['rg-kim-long']);
    });

    it('updates a device, checking meta against its kind and the gateway', async () => {
      await registry.provisionGateway(gatewayInput);
      await registry.provisionDevice(lamp('sl-1'));
      const updated = await registry.updateDevice('sl-1', {
        name: 'renamed',
        gateway: 'gw-1',
        meta: { street: 'Lê Lợi', rated_w: 180 },
      });
      expect(updated).toMatchObject({
        name: 'renamed',
        gateway: 'gw-1',
        meta: { rated_w: 180, tolerance_pct: 10 },
      });
      expect(registry.getGateway('gw-1')?.children).toEqual(['sl-1']);
      expect((await registry.updateDevice('sl-1', { gateway: null })).gateway).toBeUndefined();
      expect(registry.getGateway('gw-1')?.children).toEqual([]);
      expect(await codeOf(() => registry.updateDevice('sl-1', { meta: { type: 'rain' } }))).toBe(
        'REGISTRY_ERR_INVALID',
      );
      expect(await codeOf(() => registry.updateDevice('sl-1', { gateway: 'nope' }))).toBe(
        'REGISTRY_ERR_GATEWAY',
      );
      expect(await codeOf(() => registry.updateDevice('nope', { name: 'x' }))).toBe('REGISTRY_ERR_NOT_FOUND');
      await registry.close();
      registry = await reopen();
      expect(registry.getDevice('sl-1')).toMatchObject({ name: 'renamed', meta: { rated_w: 180 } });
    });

    it('puts a device in maintenance and back in service, kept across a reopen; not a decommissioned one', async () => {
      await registry.provisionDevice(gauge);
      const maintenance = { until: '2025-10-27T10:00:00+07:00', reason: 'sensor replaced', by: 'operator' };
      expect((await registry.setMaintenance(gauge.id, maintenance)).maintenance).toEqual(maintenance);
      await registry.close();
      registry = await reopen();
      expect(registry.getDevice(gauge.id)?.maintenance).toEqual(maintenance);
      expect((await registry.setMaintenance(gauge.id, null)).maintenance).toBeUndefined();
      await expect(registry.setMaintenance(gauge.id, { ...maintenance, until: 'tomorrow' })).rejects.toThrow(
        /until/,
      );
      await registry.decommissionDevice(gauge.id);
      await expect(registry.setMaintenance(gauge.id, maintenance)).rejects.toThrow(/decommissioned/);
    });

    it('hands out frozen records the caller cannot corrupt', async () => {
      const { device } = await registry.provisionDevice(gauge);
      expect(() => {
        device.tags.push('x');
      }).toThrow();
      expect(registry.getDevice(gauge.id)?.tags).toEqual(['river']);
    });
  });

  describe('gateways and service accounts', () => {
    it('changes and removes a gateway, kept across a reopen; decommissioned devices lose the link', async () => {
      await registry.provisionGateway(gatewayInput);
      await registry.provisionDevice(lamp('sl-1', 'gw-1'));
      await registry.provisionDevice(lamp('sl-2', 'gw-1'));
      await registry.updateGateway('gw-1', { name: 'Gateway Lê Lợi (cột 12)' });
      expect(await codeOf(() => registry.removeGateway('gw-1'))).toBe('REGISTRY_ERR_IN_USE');
      expect(await codeOf(() => registry.updateGateway('gw-1', { location: { lat: 91, lon: 0 } }))).toBe(
        'REGISTRY_ERR_INVALID',
      );
      await registry.close();
      registry = await reopen();
      expect(registry.getGateway('gw-1')).toMatchObject({
        name: 'Gateway Lê Lợi (cột 12)',
        children: ['sl-1', 'sl-2'],
      });
      await registry.decommissionDevice('sl-1');
      await registry.updateDevice('sl-2', { gateway: null });
      await registry.removeGateway('gw-1');
      expect(registry.getDevice('sl-1')?.gateway).toBeUndefined();
      expect(await codeOf(() => registry.removeGateway('gw-1'))).toBe('REGISTRY_ERR_NOT_FOUND');
      await registry.close();
      registry = await reopen();
      expect(registry.getGateway('gw-1')).toBeUndefined();
      expect(registry.getDevice('sl-1')).toMatchObject({ status: 'decommissioned' });
      expect(registry.getDevice('sl-1')?.gateway).toBeUndefined();
      // Its id is free for a new gateway.
      expect((await registry.provisionGateway(gatewayInput)).gateway.children).toEqual([]);
    });

    it("changes a service account's rights and removes it, kept across a reopen; its secret stops", async () => {
      const { serviceAccount, secret } = await registry.provisionServiceAccount({ id: 'node-red' });
      expect(serviceAccount).toEqual({
        id: 'node-red',
        mayPublishAlerts: false,
        createdAt: '2025-10-27T03:00:00.000Z',
      });
      await registry.updateServiceAccount('node-red', { mayPublishAlerts: true });
      await registry.close();
      registry = await reopen();
      expect(registry.listServiceAccounts()).toEqual([{ ...serviceAccount, mayPublishAlerts: true }]);
      expect(await registry.authenticate('node-red', secret)).toEqual({
        type: 'service',
        id: 'node-red',
        mayPublishAlerts: true,
      });
      await registry.removeServiceAccount('node-red');
      expect(await registry.authenticate('node-red', secret)).toBeUndefined();
      await registry.close();
      registry = await reopen();
      expect(registry.getServiceAccount('node-red')).toBeUndefined();
      expect(registry.isKnown('node-red')).toBe(false);
    });
  });

  describe('authentication', () => {
    it('accepts the issued secret, as string or Buffer, and refuses anything else', async () => {
      const { secret } = await registry.provisionDevice(gauge);
      expect((await registry.authenticate('rg-kim-long', secret))?.type).toBe('device');
      expect((await registry.authenticate('rg-kim-long', Buffer.from(secret)))?.type).toBe('device');
      expect(await registry.authenticate('rg-kim-long', `${secret}x`)).toBeUndefined();
      expect(await registry.authenticate('rg-kim-long', '')).toBeUndefined();
      expect(await registry.authenticate('nobody', secret)).toBeUndefined();
    });

    it('stores a secret only as an HMAC under a key of the registry, which survives reopening', async () => {
      const { secret } = await registry.provisionDevice(gauge);
      await registry.close();
      const row = await storedDevice(gauge.id);
      expect(row.secret_hash).toMatch(/^\$hmac-sha256\$k=1\$[A-Za-z0-9_-]{43}$/);
      expect(row.secret_hash).not.toContain(secret);
      registry = await reopen();
      expect((await registry.authenticate(gauge.id, secret))?.type).toBe('device');
    });

    // Registries made before secrets were HMACs were SQLite files; PostgreSQL starts at today's schema.
    it.runIf(backend.name === 'SQLite')(
      'accepts a scrypt hash of an older registry and replaces it by an HMAC at the first good CONNECT',
      async () => {
        const { secret } = await registry.provisionDevice(gauge);
        await registry.close();
        // The registry as schema 1 left it: no key table (nor the later agencies and maintenance), scrypt hashes.
        const db = new Database(file);
        db.exec(
          'DROP TABLE secret_keys; DROP TABLE agencies; DROP TABLE sessions; DROP TABLE users; ALTER TABLE devices DROP COLUMN maintenance',
        );
        db.pragma('user_version = 1');
        db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ?').run(
          await hashPassword(secret),
          gauge.id,
        );
        const stored = () =>
          (
            db.prepare('SELECT secret_hash FROM devices WHERE id = ?').get(gauge.id) as {
              secret_hash: string;
            }
          ).secret_hash;
        registry = await reopen();
        expect(await registry.authenticate(gauge.id, `${secret}x`)).toBeUndefined();
        expect(stored()).toMatch(/^\$scrypt\$/);
        expect((await registry.authenticate(gauge.id, secret))?.type).toBe('device');
        expect(stored()).toMatch(/^\$hmac-sha256\$k=1\$/);
        db.close();
        await registry.close();
        registry = await reopen();
        expect((await registry.authenticate(gauge.id, secret))?.type).toBe('device');
        expect(await registry.authenticate(gauge.id, `${secret}x`)).toBeUndefined();
      },
    );

    it('stops accepting the old secret at rotation, even one verified before', async () => {
      const { secret } = await registry.provisionDevice(gauge);
      expect(await registry.authenticate(gauge.id, secret)).toBeDefined();
      const next = await registry.rotateSecret(gauge.id);
      expect(await registry.authenticate(gauge.id, secret)).toBeUndefined();
      expect((await registry.authenticate(gauge.id, next))?.type).toBe('device');
    });

    it('refuses a device decommissioned while its verification was in flight', async () => {
      const { secret } = await registry.provisionDevice(gauge);
      const inFlight = registry.authenticate(gauge.id, secret);
      const decommissioned = registry.decommissionDevice(gauge.id);
      expect(await inFlight).toBeUndefined();
      await decommissioned;
    });

    it('refuses decommissioned devices, and their secret cannot be rotated', async () => {
      const { secret } = await registry.provisionDevice(gauge);
      expect(await registry.authenticate(gauge.id, secret)).toBeDefined();
      expect((await registry.decommissionDevice(gauge.id)).status).toBe('decommissioned');
      expect(await registry.authenticate(gauge.id, secret)).toBeUndefined();
      expect(await codeOf(() => registry.rotateSecret(gauge.id))).toBe('REGISTRY_ERR_DECOMMISSIONED');
      expect(await codeOf(() => registry.updateDevice(gauge.id, { name: 'x' }))).toBe(
        'REGISTRY_ERR_DECOMMISSIONED',
      );
    });

    it('gives a gateway a live view of its active children', async () => {
      const { secret } = await registry.provisionGateway(gatewayInput);
      await registry.provisionDevice(lamp('sl-1', 'gw-1'));
      const principal = await registry.authenticate('gw-1', secret);
      if (principal?.type !== 'gateway') throw new Error('expected a gateway principal');
      expect([...principal.children]).toEqual(['sl-1']);
      await registry.provisionDevice(lamp('sl-2', 'gw-1'));
      await registry.decommissionDevice('sl-1');
      expect([...principal.children]).toEqual(['sl-2']);
      expect(registry.getGateway('gw-1')).toMatchObject({ id: 'gw-1', children: ['sl-2'] });
      const rotated = await registry.rotateSecret('gw-1');
      expect(await registry.authenticate('gw-1', secret)).toBeUndefined();
      expect((await registry.authenticate('gw-1', rotated))?.type).toBe('gateway');
    });

    it('knows every id it holds, a decommissioned device too, and no other', async () => {
      await registry.provisionDevice(gauge);
      await registry.provisionGateway(gatewayInput);
      await registry.provisionServiceAccount({ id: 'node-red', mayPublishAlerts: true });
      await registry.decommissionDevice(gauge.id);
      expect([gauge.id, 'gw-1', 'node-red', 'nobody'].map((id) => registry.isKnown(id))).toEqual([
        true,
        true,
        true,
        false,
      ]);
    });

    it('authenticates service accounts with their alert permission', async () => {
      const { secret } = await registry.provisionServiceAccount({ id: 'node-red', mayPublishAlerts: true });
      expect(await registry.authenticate('node-red', secret)).toEqual({
        type: 'service',
        id: 'node-red',
        mayPublishAlerts: true,
      });
      expect(registry.getServiceAccount('node-red')).toMatchObject({
        id: 'node-red',
        mayPublishAlerts: true,
      });
    });
  });

  describe('API tokens', () => {
    it('creates tokens shown once and verifies them by hash, also after reopening', async () => {
      const token = await registry.createApiToken('operator', 'ops desk');
      expect(registry.verifyApiToken(token)).toEqual({ role: 'operator', label: 'ops desk' });
      expect(registry.verifyApiToken(`${token}x`)).toBeUndefined();
      expect(registry.verifyApiToken('')).toBeUndefined();
      await registry.close();
      registry = await reopen();
      expect(registry.verifyApiToken(token)).toEqual({ role: 'operator', label: 'ops desk' });
    });

    it('ensures the environment admin token idempotently, and refuses a short one', async () => {
      await registry.ensureApiToken('test-admin-token-0123456789', 'admin', 'CITY_ADMIN_TOKEN');
      await registry.ensureApiToken('test-admin-token-0123456789', 'admin', 'CITY_ADMIN_TOKEN');
      expect(registry.verifyApiToken('test-admin-token-0123456789')).toEqual({
        role: 'admin',
        label: 'CITY_ADMIN_TOKEN',
      });
      expect(await codeOf(() => registry.ensureApiToken('short', 'admin', 'x'))).toBe('REGISTRY_ERR_INVALID');
      expect(await codeOf(() => registry.createApiToken('root' as 'admin', 'x'))).toBe(
        'REGISTRY_ERR_INVALID',
      );
    });
  });

  describe('agencies', () => {
    const floodControl = {
      id: 'flood-control',
      name: {
        vi: 'Ban Chỉ huy Phòng chống thiên tai và Tìm kiếm cứu nạn',
        en: 'Steering Committee for Natural Disaster Prevention and Search and Rescue',
      },
      receivers: [
        {
          id: 'duty-desk',
          type: 'webhook' as const,
          url: 'https://ops.example.org/hooks/flood',
          secret: 'a'.repeat(32),
        },
        { id: 'siren-screen', type: 'mqtt' as const },
      ],
    };

    it('keeps an agency with its defaults, and after reopening', async () => {
      const created = await registry.createAgency(floodControl);
      expect(created).toMatchObject({
        id: 'flood-control',
        language: 'vi',
        ack_target_minutes: { critical: 15, warning: 120, info: 1440 },
        created_at: '2025-10-27T03:00:00.000Z',
      });
      await registry.close();
      registry = await reopen();
      expect(registry.listAgencies()).toEqual([created]);
      expect(registry.getAgency('flood-control')?.receivers[0]).toMatchObject({ secret: 'a'.repeat(32) });
    });

    it('refuses a duplicate, a bad id, a webhook that is not http(s), an e-mail that is not one, and two receivers with one id', async () => {
      await registry.createAgency(floodControl);
      expect(await codeOf(() => registry.createAgency(floodControl))).toBe('REGISTRY_ERR_DUPLICATE');
      const bad = (patch: object) =>
        codeOf(() => registry.createAgency({ ...floodControl, id: 'other', ...patch }));
      expect(await bad({ id: 'Flood Control' })).toBe('REGISTRY_ERR_INVALID');
      expect(await bad({ receivers: [{ id: 'x', type: 'webhook', url: 'ftp://ops.example.org/x' }] })).toBe(
        'REGISTRY_ERR_INVALID',
      );
      expect(await bad({ receivers: [{ id: 'x', type: 'email', to: ['duty at example.org'] }] })).toBe(
        'REGISTRY_ERR_INVALID',
      );
      expect(
        await bad({
          receivers: [
            { id: 'x', type: 'mqtt' },
            { id: 'x', type: 'mqtt' },
          ],
        }),
      ).toBe('REGISTRY_ERR_INVALID');
      try {
        await registry.createAgency({
          ...floodControl,
          id: 'other',
          receivers: [{ id: 'x', type: 'webhook', url: 'ftp://x' }],
        });
      } catch (err) {
        expect(String(err)).toContain(
          'expected an http or https URL, such as https://ops.example.org/alerts',
        );
      }
      expect(registry.listAgencies().map((a) => a.id)).toEqual(['flood-control']);
    });

    it('replaces an agency whole, keeping a receiver secret left out, and removes it', async () => {
      await registry.createAgency(floodControl);
      const replaced = await registry.replaceAgency('flood-control', {
        ...floodControl,
        language: 'en',
        receivers: [{ id: 'duty-desk', type: 'webhook', url: 'https://ops.example.org/hooks/flood-2' }],
      });
      expect(replaced.language).toBe('en');
      expect(replaced.receivers).toEqual([
        {
          id: 'duty-desk',
          type: 'webhook',
          url: 'https://ops.example.org/hooks/flood-2',
          secret: 'a'.repeat(32),
        },
      ]);
      expect(await codeOf(() => registry.replaceAgency('nobody', floodControl))).toBe(
        'REGISTRY_ERR_NOT_FOUND',
      );
      await registry.removeAgency('flood-control');
      expect(registry.getAgency('flood-control')).toBeUndefined();
      expect(await codeOf(() => registry.removeAgency('flood-control'))).toBe('REGISTRY_ERR_NOT_FOUND');
    });

    it("shows an agency without its receivers' secrets, saying which are set", async () => {
      const shown = publicAgency(await registry.createAgency(floodControl));
      expect(shown.receivers).toEqual([
        { id: 'duty-desk', type: 'webhook', url: 'https://ops.example.org/hooks/flood', secret_set: true },
        { id: 'siren-screen', type: 'mqtt' },
      ]);
      expect(JSON.stringify(shown)).not.toContain('a'.repeat(32));
    });
  });

  describe('lifecycle', () => {
    it('close is safe twice and writes after close fail with a code', async () => {
      await registry.close();
      await registry.close();
      expect(await codeOf(() => registry.createApiToken('viewer', 'late'))).toBe('REGISTRY_ERR_CLOSED');
      expect(await registry.authenticate('x', 'y')).toBeUndefined();
      registry = await reopen();
    });
  });
});

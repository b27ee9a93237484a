// Two nodes' registries on one real PostgreSQL, as in a cluster: what one node changes the other honours
// within a second (a device provisioned, decommissioned or given a new secret, a session, an agency, a
// token), and at once when asked (a session used through another node before its notice came), the database settles two nodes creating one id at once, and a registry that loses PostgreSQL
// keeps answering from memory, refuses writes with a code, and catches up with what it missed once the
// database is back.
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../test/kits/postgres.ts';
import { eventually } from '../test/kits/platform.ts';
import { isRegistryError } from './errors.ts';
import { openRegistry, type Registry } from './registry.ts';
import type { DeviceInput } from './schemas.ts';
import { sha256Hex } from './secrets.ts';

const gauge: DeviceInput = {
  id: 'rg-kim-long',
  kind: 'flood',
  name: 'Kim Long',
  district: 'Kim Long',
  location: { lat: 16.455, lon: 107.56 },
  meta: { type: 'river', station: 'Kim Long', river: 'Hương', alarm_levels_m: [1, 2, 3.5] },
};

let pg: TestPostgres;
let n = 0;
let a: Registry;
let b: Registry;
let url: string;

/** Within a second, as the cluster promises. */
const soon = <T>(check: () => Promise<T | undefined> | T | undefined) => eventually(check, 1_000);

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});
beforeEach(async () => {
  url = await pg.database(`cluster_registry_${n++}`);
  a = await openRegistry({ postgresUrl: url });
  b = await openRegistry({ postgresUrl: url });
});
afterEach(async () => {
  await a.close();
  await b.close();
});

describe("one node's change, honoured by another", () => {
  it('a device provisioned on one node connects through the other; decommissioned, it is refused there', async () => {
    const { secret } = await a.provisionDevice(gauge);
    const principal = await soon(() => b.authenticate(gauge.id, secret));
    expect(principal).toMatchObject({ type: 'device', device: { id: gauge.id } });
    await a.decommissionDevice(gauge.id);
    await soon(async () => ((await b.authenticate(gauge.id, secret)) === undefined ? true : undefined));
    expect(b.getDevice(gauge.id)?.status).toBe('decommissioned');
  });

  it('a secret rotated on one node: the old one stops on the other, the new one works there', async () => {
    const { secret } = await a.provisionDevice(gauge);
    await soon(() => b.authenticate(gauge.id, secret));
    const next = await a.rotateSecret(gauge.id);
    await soon(() => b.authenticate(gauge.id, next));
    expect(await b.authenticate(gauge.id, secret)).toBeUndefined();
  });

  it('a console session opened on one node is good on the other, and ends on both', async () => {
    await a.users.create({ username: 'truc-ban', role: 'operator', password: 'Sông Hương lũ 2020' });
    const { token } = await a.users.openSession('truc-ban', Date.now(), 3_600_000);
    await soon(() => b.users.session(token, Date.now()));
    await b.users.endSession(token);
    await soon(() => (a.users.session(token, Date.now()) === undefined ? true : undefined));
  });

  it('a device changed on one node is read again alone on the other, not the whole table', async () => {
    await a.provisionDevice(gauge);
    await a.provisionDevice({ ...gauge, id: 'rg-phu-oc', name: 'Phú Ốc' });
    await soon(() => b.getDevice('rg-phu-oc'));
    // Kim Long renamed past the registries (no notice), then Phú Ốc renamed through node a.
    const sql = postgres(url, { max: 1 });
    await sql`UPDATE devices SET name = 'Kim Long (behind)' WHERE id = ${gauge.id}`;
    await sql.end();
    await a.updateDevice('rg-phu-oc', { name: 'Phú Ốc (trạm mới)' });
    await soon(() => (b.getDevice('rg-phu-oc')?.name === 'Phú Ốc (trạm mới)' ? true : undefined));
    expect(b.getDevice(gauge.id)?.name).toBe('Kim Long');
    // A whole-table read (what a node does when its listening connection comes back) sees both.
    await b.catchUp(['devices']);
    expect(b.getDevice(gauge.id)?.name).toBe('Kim Long (behind)');
  });

  it('reads sessions again when asked, for a cookie used through another node before the notice came', async () => {
    await a.users.create({ username: 'truc-ban', role: 'operator', password: 'Sông Hương lũ 2020' });
    await soon(() => b.users.get('truc-ban'));
    // A session written past the registries: no notice at all, as if it were still on its way.
    const token = 'a-session-token-made-elsewhere-0123456789';
    const sql = postgres(url, { max: 1 });
    await sql`INSERT INTO sessions (token_sha256, username, created_at, expires_at)
      VALUES (${sha256Hex(token)}, 'truc-ban', ${Date.now()}, ${Date.now() + 3_600_000})`;
    await sql.end();
    expect(b.users.session(token, Date.now())).toBeUndefined();
    await b.catchUp(['users', 'sessions']);
    expect(b.users.session(token, Date.now())?.user.username).toBe('truc-ban');
  });

  it('agencies, tokens, gateways and service accounts made on one node are known on the other', async () => {
    await a.createAgency({
      id: 'flood-control',
      name: { vi: 'Ban Chỉ huy PCTT', en: 'Flood control' },
      receivers: [],
    });
    const token = await a.createApiToken('engineer', 'rules desk');
    await a.provisionGateway({
      id: 'gw-le-loi',
      name: 'Lê Lợi',
      district: 'Thuận Hóa',
      location: { lat: 16.46, lon: 107.58 },
    });
    await a.provisionServiceAccount({ id: 'node-red', mayPublishAlerts: true });
    await soon(() => b.getAgency('flood-control'));
    await soon(() => b.verifyApiToken(token));
    await soon(() => b.getGateway('gw-le-loi'));
    await soon(() => b.getServiceAccount('node-red'));
    expect(b.verifyApiToken(token)).toEqual({ role: 'engineer', label: 'rules desk' });
  });

  it('two nodes creating one id at once: the database lets exactly one win', async () => {
    const results = await Promise.allSettled([a.provisionDevice(gauge), b.provisionDevice(gauge)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected');
    expect(isRegistryError(refused?.reason) && refused.reason.code).toBe('REGISTRY_ERR_DUPLICATE');
  });

  it('a device on one node and a gateway of the same id on another: the database lets exactly one win', async () => {
    const gateway = { id: gauge.id, name: 'not a gauge', district: 'Kim Long', location: gauge.location };
    for (let round = 0; round < 5; round++) {
      const id = `${gauge.id}-${round}`;
      const results = await Promise.allSettled([
        a.provisionDevice({ ...gauge, id }),
        b.provisionGateway({ ...gateway, id }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected');
      expect(isRegistryError(refused?.reason) && refused.reason.code).toBe('REGISTRY_ERR_DUPLICATE');
    }
  });
});

describe('PostgreSQL lost and back', () => {
  it('answers from memory while it is away, refuses writes with a code, and catches up afterwards', async () => {
    const { secret } = await a.provisionDevice(gauge);
    await soon(() => b.getDevice(gauge.id));
    await pg.kill();
    try {
      expect(await a.authenticate(gauge.id, secret)).toBeDefined();
      await expect(a.updateDevice(gauge.id, { name: 'Kim Long (trạm mới)' })).rejects.toMatchObject({
        code: 'REGISTRY_ERR_STORAGE',
      });
      expect(a.getDevice(gauge.id)?.name).toBe('Kim Long');
    } finally {
      await pg.start();
    }
    // Once both are connected again, a change on one reaches the other as before.
    const renamed = await eventually(() => a.updateDevice(gauge.id, { name: 'Kim Long (trạm mới)' }), 15_000);
    expect(renamed.name).toBe('Kim Long (trạm mới)');
    await eventually(() => (b.getDevice(gauge.id)?.name === renamed.name ? true : undefined), 15_000);
  });
});

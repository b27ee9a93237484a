// /api/gateways and /api/service-accounts through app.inject(), over a real registry in SQLite: each
// identity created with its secret shown once, listed, changed, given a new secret and removed, with the
// roles each needs; devices put behind a gateway all or none; a gateway with active devices behind it
// kept; and every change of a secret or of rights asking the broker to close that identity's connections.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GatewayRecord, ServiceAccountRecord } from '../devices/index.ts';
import { errorOf, LE_LOI_LAMP, startHarness, type Harness } from '../test/kits/api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('accounts');
});
afterAll(async () => {
  await h.close();
});

const GW_LE_LOI = {
  id: 'gw-le-loi',
  name: 'Gateway chiếu sáng Lê Lợi',
  district: 'Thuận Hóa',
  location: { lat: 16.46225, lon: 107.5835 },
};
const lamp = (n: number) => ({
  ...LE_LOI_LAMP,
  id: `sl-le-loi-${String(n).padStart(3, '0')}`,
  name: `Lê Lợi lamp ${n}`,
});
const Rotated = z.object({ id: z.string(), secret: z.string().min(32) });

describe('gateways', () => {
  it('provisions a gateway, its secret in the answer only, and lists it', async () => {
    const res = await h.request({ method: 'POST', url: '/api/gateways', as: 'engineer', body: GW_LE_LOI });
    expect(res.status).toBe(201);
    const { gateway, secret } = z
      .object({ gateway: GatewayRecord, secret: z.string().min(32) })
      .parse(res.body);
    expect(gateway).toMatchObject({ ...GW_LE_LOI, children: [] });
    expect(await h.registry.authenticate('gw-le-loi', secret)).toMatchObject({ type: 'gateway' });
    const list = await h.request({ url: '/api/gateways', as: 'viewer' });
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(
      z
        .object({ gateways: z.array(GatewayRecord) })
        .parse(list.body)
        .gateways.map((g) => g.id),
    ).toEqual(['gw-le-loi']);
  });

  it('refuses a second gateway of the same id, a viewer, and a bad body, each with its code', async () => {
    const again = await h.request({ method: 'POST', url: '/api/gateways', as: 'engineer', body: GW_LE_LOI });
    expect(errorOf(again).code).toBe('API_ERR_CONFLICT');
    const viewer = await h.request({
      method: 'POST',
      url: '/api/gateways',
      as: 'viewer',
      body: { ...GW_LE_LOI, id: 'gw-other' },
    });
    expect(errorOf(viewer).code).toBe('API_ERR_FORBIDDEN');
    const bad = await h.request({
      method: 'POST',
      url: '/api/gateways',
      as: 'engineer',
      body: { ...GW_LE_LOI, id: 'gw other', location: { lat: 200, lon: 107.5 } },
    });
    const error = errorOf(bad);
    expect(error.code).toBe('API_ERR_VALIDATION');
    expect(error.message).toMatch(/id/);
    expect(error.message).toMatch(/lat/);
    expect(h.registry.getGateway('gw other')).toBeUndefined();
  });

  it("changes a gateway's name and place", async () => {
    const res = await h.request({
      method: 'PATCH',
      url: '/api/gateways/gw-le-loi',
      as: 'engineer',
      body: { name: 'Gateway Lê Lợi (cột 12)', location: { lat: 16.4625, lon: 107.584 } },
    });
    expect(res.status).toBe(200);
    expect(h.registry.getGateway('gw-le-loi')).toMatchObject({
      name: 'Gateway Lê Lợi (cột 12)',
      district: 'Thuận Hóa',
      location: { lat: 16.4625, lon: 107.584 },
    });
    const missing = await h.request({
      method: 'PATCH',
      url: '/api/gateways/gw-nowhere',
      as: 'engineer',
      body: { name: 'x' },
    });
    expect(errorOf(missing).code).toBe('API_ERR_NOT_FOUND');
  });

  it('puts devices behind it all or none: one unknown id moves no device', async () => {
    for (const n of [1, 2, 3]) await h.registry.provisionDevice(lamp(n));
    const ids = [1, 2, 3].map((n) => lamp(n).id);
    const refused = await h.request({
      method: 'POST',
      url: '/api/gateways/gw-le-loi/children',
      as: 'engineer',
      body: { devices: [...ids, 'sl-nowhere'] },
    });
    const error = errorOf(refused);
    expect(error.code).toBe('API_ERR_VALIDATION');
    expect(error.message).toContain('devices/3: no device sl-nowhere');
    expect(ids.map((id) => h.registry.getDevice(id)?.gateway)).toEqual([undefined, undefined, undefined]);

    const res = await h.request({
      method: 'POST',
      url: '/api/gateways/gw-le-loi/children',
      as: 'engineer',
      body: { devices: ids },
    });
    expect(GatewayRecord.parse(res.body).children).toEqual(ids);
    expect(ids.map((id) => h.registry.getDevice(id)?.gateway)).toEqual([
      'gw-le-loi',
      'gw-le-loi',
      'gw-le-loi',
    ]);
  });

  it('gives a gateway a new secret: the old one stops, and its connection is closed', async () => {
    const res = await h.request({ method: 'POST', url: '/api/gateways/gw-le-loi/secret', as: 'engineer' });
    const { secret } = Rotated.parse(res.body);
    expect(h.disconnected).toContain('gw-le-loi');
    expect(await h.registry.authenticate('gw-le-loi', secret)).toMatchObject({ type: 'gateway' });
  });

  it('keeps a gateway with active devices behind it, and removes it once they are gone', async () => {
    const kept = await h.request({ method: 'DELETE', url: '/api/gateways/gw-le-loi', as: 'engineer' });
    const error = errorOf(kept);
    expect(error.code).toBe('API_ERR_CONFLICT');
    expect(error.message).toContain('3 active device(s)');
    expect(h.registry.getGateway('gw-le-loi')).toBeDefined();

    // One decommissioned, one detached, one moved: none active behind it.
    await h.request({ method: 'DELETE', url: `/api/devices/${lamp(1).id}`, as: 'engineer' });
    await h.request({
      method: 'PATCH',
      url: `/api/devices/${lamp(2).id}`,
      as: 'engineer',
      body: { gateway: null },
    });
    await h.registry.provisionGateway({ ...GW_LE_LOI, id: 'gw-le-loi-2' });
    await h.request({
      method: 'POST',
      url: '/api/gateways/gw-le-loi-2/children',
      as: 'engineer',
      body: { devices: [lamp(3).id] },
    });
    const removed = await h.request({ method: 'DELETE', url: '/api/gateways/gw-le-loi', as: 'engineer' });
    expect(removed.status).toBe(204);
    expect(h.registry.getGateway('gw-le-loi')).toBeUndefined();
    expect(h.registry.getDevice(lamp(1).id)).toMatchObject({ status: 'decommissioned' });
    expect(h.registry.getDevice(lamp(1).id)?.gateway).toBeUndefined();
    expect(h.disconnected.at(-1)).toBe('gw-le-loi');
    expect(h.registry.isKnown('gw-le-loi')).toBe(false);
  });
});

describe('service accounts', () => {
  const List = z.object({ serviceAccounts: z.array(ServiceAccountRecord) });

  it('lets only an admin create one; its secret is in the answer only', async () => {
    const body = { id: 'bao-cao-so', mayPublishAlerts: false };
    const engineer = await h.request({ method: 'POST', url: '/api/service-accounts', as: 'engineer', body });
    expect(errorOf(engineer).code).toBe('API_ERR_FORBIDDEN');
    const res = await h.request({ method: 'POST', url: '/api/service-accounts', as: 'admin', body });
    expect(res.status).toBe(201);
    const { serviceAccount, secret } = z
      .object({ serviceAccount: ServiceAccountRecord, secret: z.string().min(32) })
      .parse(res.body);
    expect(serviceAccount).toMatchObject(body);
    expect(await h.registry.authenticate('bao-cao-so', secret)).toMatchObject({
      type: 'service',
      mayPublishAlerts: false,
    });
    const list = List.parse((await h.request({ url: '/api/service-accounts', as: 'engineer' })).body);
    expect(list.serviceAccounts.map((s) => s.id)).toEqual(['bao-cao-so']);
    expect(errorOf(await h.request({ url: '/api/service-accounts', as: 'operator' })).code).toBe(
      'API_ERR_FORBIDDEN',
    );
  });

  it('changes its right to ask for alerts, closing its connections so they come back with it', async () => {
    const before = h.disconnected.length;
    const res = await h.request({
      method: 'PATCH',
      url: '/api/service-accounts/bao-cao-so',
      as: 'admin',
      body: { mayPublishAlerts: true },
    });
    expect(ServiceAccountRecord.parse(res.body).mayPublishAlerts).toBe(true);
    expect(h.registry.getServiceAccount('bao-cao-so')?.mayPublishAlerts).toBe(true);
    expect(h.disconnected.slice(before)).toEqual(['bao-cao-so']);
  });

  it('reissues its secret: the old one stops working', async () => {
    const old = await h.registry.rotateSecret('bao-cao-so');
    const res = await h.request({
      method: 'POST',
      url: '/api/service-accounts/bao-cao-so/secret',
      as: 'admin',
    });
    const { secret } = Rotated.parse(res.body);
    expect(await h.registry.authenticate('bao-cao-so', old)).toBeUndefined();
    expect(await h.registry.authenticate('bao-cao-so', secret)).toMatchObject({ type: 'service' });
    expect(h.disconnected.at(-1)).toBe('bao-cao-so');
  });

  it('removes it, and answers 404 for it afterwards; its id is free again', async () => {
    const res = await h.request({ method: 'DELETE', url: '/api/service-accounts/bao-cao-so', as: 'admin' });
    expect(res.status).toBe(204);
    expect(h.registry.getServiceAccount('bao-cao-so')).toBeUndefined();
    const again = await h.request({ method: 'DELETE', url: '/api/service-accounts/bao-cao-so', as: 'admin' });
    expect(errorOf(again).code).toBe('API_ERR_NOT_FOUND');
    const reused = await h.registry.provisionServiceAccount({ id: 'bao-cao-so' });
    expect(reused.serviceAccount.mayPublishAlerts).toBe(false);
  });
});

// /api/devices and /api/tokens through app.inject(), over a real registry in SQLite: auth and roles,
// validation, 404s, the secret shown once, decommissioning, and the error shape of each failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DeviceRecord } from '../devices/index.ts';
import { API_ERRORS, ErrorBody } from './index.ts';
import { HUNG_VUONG, KIM_LONG, LE_LOI_LAMP, startHarness, type Harness } from '../test/kits/api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('devices');
});
afterAll(async () => {
  await h.close();
});

/** Asserts the error body and returns its code. */
function errorCode(res: { status: number; body: unknown }): string {
  const { error } = ErrorBody.parse(res.body);
  expect(res.status).toBe(API_ERRORS[error.code].status);
  return error.code;
}

const Provisioned = z.object({ device: DeviceRecord, secret: z.string().min(32) });

describe('authentication and roles', () => {
  it('refuses /api without a token, with a malformed header, or with an unknown token (401)', async () => {
    expect(errorCode(await h.request({ url: '/api/devices' }))).toBe('API_ERR_UNAUTHORIZED');
    const basic = await h.request({ url: '/api/devices', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(errorCode(basic)).toBe('API_ERR_UNAUTHORIZED');
    const unknown = await h.request({
      url: '/api/devices',
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(errorCode(unknown)).toBe('API_ERR_UNAUTHORIZED');
  });

  it('checks the token before the body: no token and a bad body is 401, not 400', async () => {
    const res = await h.request({ method: 'POST', url: '/api/devices', body: { nonsense: true } });
    expect(errorCode(res)).toBe('API_ERR_UNAUTHORIZED');
  });

  it('lets a viewer read but not provision (403)', async () => {
    expect((await h.request({ url: '/api/devices', as: 'viewer' })).status).toBe(200);
    const res = await h.request({ method: 'POST', url: '/api/devices', as: 'viewer', body: HUNG_VUONG });
    expect(errorCode(res)).toBe('API_ERR_FORBIDDEN');
    const operator = await h.request({
      method: 'POST',
      url: '/api/devices',
      as: 'operator',
      body: HUNG_VUONG,
    });
    expect(errorCode(operator)).toBe('API_ERR_FORBIDDEN');
    expect(h.registry.getDevice(HUNG_VUONG.id)).toBeUndefined();
  });

  it('accepts the admin token from the configuration', async () => {
    expect((await h.request({ url: '/api/devices', as: 'admin' })).status).toBe(200);
  });
});

describe('provisioning', () => {
  it('answers 201 with the device and a secret that works for MQTT, and never shows it again', async () => {
    const res = await h.request({ method: 'POST', url: '/api/devices', as: 'engineer', body: KIM_LONG });
    expect(res.status).toBe(201);
    const { device, secret } = Provisioned.parse(res.body);
    expect(device).toMatchObject({ id: KIM_LONG.id, kind: 'flood', status: 'active', district: 'Kim Long' });
    expect(await h.registry.authenticate(KIM_LONG.id, secret)).toBeDefined();

    const again = await h.request({ url: `/api/devices/${KIM_LONG.id}`, as: 'viewer' });
    expect(again.status).toBe(200);
    expect(JSON.stringify(again.body)).not.toContain(secret);
    const list = await h.request({ url: '/api/devices', as: 'viewer' });
    expect(JSON.stringify(list.body)).not.toContain(secret);
  });

  it('refuses a second device with the same id (409)', async () => {
    const res = await h.request({ method: 'POST', url: '/api/devices', as: 'engineer', body: KIM_LONG });
    expect(errorCode(res)).toBe('API_ERR_CONFLICT');
  });

  it('refuses a body that does not match the schema (400 with the zod issues)', async () => {
    const body = { ...HUNG_VUONG, id: 'bad id/with slash', location: { lat: 95, lon: 107.5 } };
    const res = await h.request({ method: 'POST', url: '/api/devices', as: 'engineer', body });
    expect(errorCode(res)).toBe('API_ERR_VALIDATION');
    const { error } = ErrorBody.parse(res.body);
    const paths = z
      .object({ in: z.string(), issues: z.array(z.object({ path: z.string() })) })
      .parse(error.details);
    expect(paths.in).toBe('body');
    expect(paths.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['/id', '/location/lat']));
  });

  it('refuses malformed JSON and a non-JSON body with codes of their own', async () => {
    const bad = await h.request({
      method: 'POST',
      url: '/api/devices',
      as: 'engineer',
      headers: { 'content-type': 'application/json' },
      body: undefined,
    });
    expect(errorCode(bad)).toBe('API_ERR_BAD_REQUEST');
    const res = await h.api.app.inject({
      method: 'POST',
      url: '/api/devices',
      headers: { authorization: `Bearer ${h.tokens.engineer}`, 'content-type': 'text/csv' },
      payload: 'id,kind',
    });
    expect(errorCode({ status: res.statusCode, body: res.json() })).toBe('API_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses an unknown gateway as a validation error', async () => {
    const body = { ...LE_LOI_LAMP, gateway: 'gw-nowhere' };
    const res = await h.request({ method: 'POST', url: '/api/devices', as: 'engineer', body });
    expect(errorCode(res)).toBe('API_ERR_VALIDATION');
  });
});

describe('reading, changing and retiring devices', () => {
  it('answers 404 with the error body for an unknown device and an unknown route', async () => {
    expect(errorCode(await h.request({ url: '/api/devices/nope', as: 'viewer' }))).toBe('API_ERR_NOT_FOUND');
    expect(errorCode(await h.request({ url: '/api/nothing-here', as: 'viewer' }))).toBe('API_ERR_NOT_FOUND');
    expect(errorCode(await h.request({ url: '/nothing' }))).toBe('API_ERR_NOT_FOUND');
  });

  it('filters the list by kind and district', async () => {
    await h.request({ method: 'POST', url: '/api/devices', as: 'engineer', body: HUNG_VUONG });
    await h.request({ method: 'POST', url: '/api/devices', as: 'engineer', body: LE_LOI_LAMP });
    const ids = async (query: string) => {
      const res = await h.request({ url: `/api/devices${query}`, as: 'viewer' });
      return z
        .object({ devices: z.array(DeviceRecord) })
        .parse(res.body)
        .devices.map((d) => d.id);
    };
    expect(await ids('?kind=flood')).toEqual([KIM_LONG.id]);
    expect(await ids(`?district=${encodeURIComponent('Thuận Hóa')}`)).toEqual([
      HUNG_VUONG.id,
      LE_LOI_LAMP.id,
    ]);
    expect(await ids("?district=Thu%E1%BA%ADn'%20OR%20'1'%3D'1")).toEqual([]);
    expect(errorCode(await h.request({ url: '/api/devices?kind=volcano', as: 'viewer' }))).toBe(
      'API_ERR_VALIDATION',
    );
  });

  it('changes a device (engineer) and refuses meta of another kind', async () => {
    const res = await h.request({
      method: 'PATCH',
      url: `/api/devices/${LE_LOI_LAMP.id}`,
      as: 'engineer',
      body: { name: 'Lê Lợi lamp 1 (180 W)', meta: { street: 'Lê Lợi', rated_w: 180 } },
    });
    expect(res.status).toBe(200);
    expect(DeviceRecord.parse(res.body)).toMatchObject({
      name: 'Lê Lợi lamp 1 (180 W)',
      meta: { rated_w: 180 },
    });
    const wrong = await h.request({
      method: 'PATCH',
      url: `/api/devices/${LE_LOI_LAMP.id}`,
      as: 'engineer',
      body: { meta: { type: 'river' } },
    });
    expect(errorCode(wrong)).toBe('API_ERR_VALIDATION');
  });

  it('rotates a secret: the new one works, the old one does not', async () => {
    const first = Provisioned.parse(
      (
        await h.request({
          method: 'POST',
          url: '/api/devices',
          as: 'engineer',
          body: { ...HUNG_VUONG, id: 'aq-rotate' },
        })
      ).body,
    );
    const res = await h.request({ method: 'POST', url: '/api/devices/aq-rotate/secret', as: 'engineer' });
    const { secret } = z.object({ id: z.literal('aq-rotate'), secret: z.string() }).parse(res.body);
    expect(await h.registry.authenticate('aq-rotate', secret)).toBeDefined();
    expect(await h.registry.authenticate('aq-rotate', first.secret)).toBeUndefined();
  });

  it('decommissions (engineer): the broker is told, the device leaves the default list, changes are refused', async () => {
    const res = await h.request({ method: 'DELETE', url: `/api/devices/${LE_LOI_LAMP.id}`, as: 'engineer' });
    expect(res.status).toBe(200);
    expect(DeviceRecord.parse(res.body).status).toBe('decommissioned');
    expect(h.decommissioned).toEqual([LE_LOI_LAMP.id]);

    const active = await h.request({ url: '/api/devices', as: 'viewer' });
    expect(JSON.stringify(active.body)).not.toContain(LE_LOI_LAMP.id);
    const retired = await h.request({ url: '/api/devices?status=decommissioned', as: 'viewer' });
    expect(
      z
        .object({ devices: z.array(DeviceRecord) })
        .parse(retired.body)
        .devices.map((d) => d.id),
    ).toEqual([LE_LOI_LAMP.id]);
    const rotate = await h.request({
      method: 'POST',
      url: `/api/devices/${LE_LOI_LAMP.id}/secret`,
      as: 'engineer',
    });
    expect(errorCode(rotate)).toBe('API_ERR_DECOMMISSIONED');
  });
});

describe('tokens', () => {
  it('lets an admin create a token, shown once, that then authenticates with its role', async () => {
    expect(
      errorCode(
        await h.request({
          method: 'POST',
          url: '/api/tokens',
          as: 'engineer',
          body: { role: 'admin', label: 'x' },
        }),
      ),
    ).toBe('API_ERR_FORBIDDEN');
    const res = await h.request({
      method: 'POST',
      url: '/api/tokens',
      as: 'admin',
      body: { role: 'operator', label: 'night shift' },
    });
    expect(res.status).toBe(201);
    const { token } = z
      .object({ token: z.string(), role: z.literal('operator'), label: z.literal('night shift') })
      .parse(res.body);
    expect(h.registry.verifyApiToken(token)).toEqual({ role: 'operator', label: 'night shift' });
    const read = await h.api.app.inject({
      url: '/api/devices',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(read.statusCode).toBe(200);
  });

  it('says what a missing or mistyped field should be', async () => {
    const res = await h.request({ method: 'POST', url: '/api/tokens', as: 'admin', body: { role: 'boss' } });
    expect(errorCode(res)).toBe('API_ERR_VALIDATION');
    const { message } = ErrorBody.parse(res.body).error;
    expect(message).toContain('body/label required: expected a string');
    expect(message).toMatch(/body\/role .*expected one of "viewer"\|"operator"\|"engineer"\|"admin"/);
  });
});

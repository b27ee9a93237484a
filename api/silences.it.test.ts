// /api/silences and a device's maintenance through app.inject(), over a real registry and alert store in
// SQLite: an operator silences by matchers for a window with a reason and sees which open alerts it holds;
// a viewer reads but cannot silence; a silence is ended early; bad windows and matchers are refused with
// their codes; a device is put in maintenance and back in service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceRecord } from '../devices/index.ts';
import {
  KIM_LONG,
  NOW,
  startHarness,
  type Harness,
  errorOf,
  raiseKimLongAlert,
} from '../test/kits/api-harness.ts';

let h: Harness;
let gauge: number;
beforeAll(async () => {
  h = await startHarness('silences');
  gauge = await raiseKimLongAlert(h);
});
afterAll(async () => {
  await h.close();
});

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('/api/silences', () => {
  it('lets an operator silence the alerts that match for a window, and says which open alerts it holds', async () => {
    const body = {
      match: { district: 'Kim Long', kind: 'flood' },
      duration: '2h',
      reason: 'gauge being cleaned',
    };
    expect(errorOf(await h.request({ method: 'POST', url: '/api/silences', as: 'viewer', body })).code).toBe(
      'API_ERR_FORBIDDEN',
    );
    const created = await h.request({ method: 'POST', url: '/api/silences', as: 'operator', body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      match: { district: ['Kim Long'], kind: ['flood'] },
      startsAt: iso(NOW),
      endsAt: iso(NOW + 2 * HOUR),
      state: 'active',
      reason: 'gauge being cleaned',
      createdBy: 'test operator',
      holding: [gauge],
    });
    const other = await h.request({
      method: 'POST',
      url: '/api/silences',
      as: 'operator',
      body: {
        match: { kind: 'streetlight' },
        starts_at: iso(NOW + HOUR),
        ends_at: iso(NOW + 3 * HOUR),
        reason: 'HEPCO works on Lê Lợi',
      },
    });
    expect(other.body).toMatchObject({ state: 'pending', holding: [] });
    const list = await h.request({ url: '/api/silences', as: 'viewer' });
    expect((list.body as { silences: Array<{ reason: string }> }).silences.map((s) => s.reason)).toEqual([
      'HEPCO works on Lê Lợi',
      'gauge being cleaned',
    ]);
    const pending = await h.request({ url: '/api/silences?state=pending', as: 'viewer' });
    expect((pending.body as { silences: unknown[] }).silences).toHaveLength(1);
  });

  it('ends a silence early, recording who', async () => {
    const created = await h.request({
      method: 'POST',
      url: '/api/silences',
      as: 'operator',
      body: { match: { device: KIM_LONG.id }, duration: '30m', reason: 'calibration' },
    });
    const { id } = created.body as { id: number };
    const ended = await h.request({ method: 'DELETE', url: `/api/silences/${id}`, as: 'operator' });
    expect(ended.body).toMatchObject({ id, state: 'expired', endsAt: iso(NOW), endedBy: 'test operator' });
    const current = await h.request({ url: '/api/silences', as: 'viewer' });
    expect((current.body as { silences: Array<{ id: number }> }).silences.map((s) => s.id)).not.toContain(id);
    expect(
      errorOf(await h.request({ method: 'DELETE', url: '/api/silences/9999', as: 'operator' })).code,
    ).toBe('API_ERR_SILENCE_NOT_FOUND');
  });

  it.each([
    ['no matcher', { match: {}, duration: '1h', reason: 'x' }, 'at least one of'],
    [
      'both an end and a duration',
      { match: { kind: 'flood' }, duration: '1h', ends_at: iso(NOW + HOUR), reason: 'x' },
      'either ends_at or duration',
    ],
    [
      'an end in the past',
      { match: { kind: 'flood' }, ends_at: iso(NOW - HOUR), reason: 'x' },
      'in the past',
    ],
    ['no reason', { match: { kind: 'flood' }, duration: '1h' }, 'reason'],
    ['an unknown severity', { match: { severity: 'urgent' }, duration: '1h', reason: 'x' }, 'severity'],
  ])('refuses a silence with %s', async (_what, body, says) => {
    const error = errorOf(await h.request({ method: 'POST', url: '/api/silences', as: 'operator', body }));
    expect(error.code).toBe('API_ERR_VALIDATION');
    expect(error.message).toContain(says);
  });
});

describe('maintenance', () => {
  it('puts a device in maintenance until a time and back in service, an operator only', async () => {
    const url = `/api/devices/${KIM_LONG.id}/maintenance`;
    const body = { until: iso(NOW + 4 * HOUR), reason: 'sensor replaced after the flood' };
    expect(errorOf(await h.request({ method: 'PUT', url, as: 'viewer', body })).code).toBe(
      'API_ERR_FORBIDDEN',
    );
    const put = await h.request({ method: 'PUT', url, as: 'operator', body });
    expect(put.status).toBe(200);
    expect(DeviceRecord.parse(put.body).maintenance).toEqual({ ...body, by: 'test operator' });
    expect(h.registry.getDevice(KIM_LONG.id)?.maintenance?.until).toBe(body.until);
    const past = await h.request({
      method: 'PUT',
      url,
      as: 'operator',
      body: { ...body, until: iso(NOW - 1) },
    });
    expect(errorOf(past).code).toBe('API_ERR_VALIDATION');
    const back = await h.request({ method: 'DELETE', url, as: 'operator' });
    expect(DeviceRecord.parse(back.body).maintenance).toBeUndefined();
    expect(h.registry.getDevice(KIM_LONG.id)?.maintenance).toBeUndefined();
    const none = await h.request({
      method: 'PUT',
      url: '/api/devices/no-such/maintenance',
      as: 'operator',
      body,
    });
    expect(errorOf(none).code).toBe('API_ERR_NOT_FOUND');
  });
});

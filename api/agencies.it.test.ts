// /api/agencies through app.inject(), over a real registry in SQLite and the Huế rules in force: roles,
// receiver secrets never read back, whole replacement keeping a secret left out, and an agency a rule
// in force owns kept from removal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PublicAgency } from '../devices/index.ts';
import { startHarness, type Harness, errorOf } from '../test/kits/api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('agencies');
});
afterAll(async () => {
  await h.close();
});

const SECRET = 'whsec-0123456789abcdef';
const hepco = {
  id: 'hepco',
  name: {
    vi: 'Công ty Cổ phần Môi trường và Công trình đô thị Huế (HEPCO)',
    en: 'Hue Urban Environment and Construction JSC (HEPCO)',
  },
  receivers: [
    { id: 'night-crew', type: 'webhook', url: 'https://hepco.example.org/hooks/lamps', secret: SECRET },
    { id: 'dispatch', type: 'email', to: ['dispatch@hepco.example.org'] },
  ],
  ack_target_minutes: { critical: 30, warning: 240, info: 1440 },
};

describe('/api/agencies', () => {
  it('lets an engineer create an agency, which a viewer reads without its receivers’ secrets', async () => {
    const refused = await h.request({ method: 'POST', url: '/api/agencies', as: 'operator', body: hepco });
    expect(errorOf(refused).code).toBe('API_ERR_FORBIDDEN');
    const created = await h.request({ method: 'POST', url: '/api/agencies', as: 'engineer', body: hepco });
    expect(created.status).toBe(201);
    expect(h.agencyChanges.count).toBe(1);
    const read = await h.request({ url: '/api/agencies/hepco', as: 'viewer' });
    expect(read.status).toBe(200);
    expect(PublicAgency.parse(read.body)).toMatchObject({
      id: 'hepco',
      language: 'vi',
      receivers: [
        { id: 'night-crew', type: 'webhook', url: 'https://hepco.example.org/hooks/lamps', secret_set: true },
        { id: 'dispatch', type: 'email', to: ['dispatch@hepco.example.org'] },
      ],
    });
    for (const res of [created, read, await h.request({ url: '/api/agencies', as: 'viewer' })])
      expect(JSON.stringify(res.body)).not.toContain(SECRET);
    const list = z
      .object({ agencies: z.array(PublicAgency) })
      .parse((await h.request({ url: '/api/agencies', as: 'viewer' })).body);
    expect(list.agencies.map((a) => a.id)).toEqual(['hepco']);
  });

  it('refuses a duplicate, a webhook that is not http(s) and an unknown field, saying what is wrong', async () => {
    const again = await h.request({ method: 'POST', url: '/api/agencies', as: 'engineer', body: hepco });
    expect(errorOf(again).code).toBe('API_ERR_CONFLICT');
    const ftp = await h.request({
      method: 'POST',
      url: '/api/agencies',
      as: 'engineer',
      body: { ...hepco, id: 'other', receivers: [{ id: 'x', type: 'webhook', url: 'ftp://example.org/x' }] },
    });
    expect(errorOf(ftp)).toMatchObject({
      code: 'API_ERR_VALIDATION',
      message: expect.stringContaining(
        'expected an http or https URL, such as https://ops.example.org/alerts',
      ) as unknown,
    });
    const typo = await h.request({
      method: 'POST',
      url: '/api/agencies',
      as: 'engineer',
      body: { ...hepco, id: 'other', ack_target: { critical: 5 } },
    });
    expect(errorOf(typo).code).toBe('API_ERR_VALIDATION');
    expect(errorOf(await h.request({ url: '/api/agencies/nobody', as: 'viewer' })).code).toBe(
      'API_ERR_AGENCY_NOT_FOUND',
    );
  });

  it('replaces an agency whole, keeping the secret of a receiver that leaves it out', async () => {
    const { id: _id, ...rest } = hepco;
    const replaced = await h.request({
      method: 'PUT',
      url: '/api/agencies/hepco',
      as: 'engineer',
      body: {
        ...rest,
        language: 'en',
        receivers: [{ id: 'night-crew', type: 'webhook', url: hepco.receivers[0]!.url }],
      },
    });
    expect(replaced.status).toBe(200);
    expect(PublicAgency.parse(replaced.body)).toMatchObject({
      language: 'en',
      receivers: [{ id: 'night-crew', secret_set: true }],
    });
    expect(h.registry.getAgency('hepco')?.receivers[0]).toMatchObject({ secret: SECRET });
    const other = await h.request({
      method: 'PUT',
      url: '/api/agencies/hepco',
      as: 'engineer',
      body: { ...hepco, id: 'ioc' },
    });
    expect(errorOf(other).code).toBe('API_ERR_VALIDATION');
  });

  it('keeps an agency that rules in force own, naming them; removes one no rule names', async () => {
    const owned = await h.request({ method: 'DELETE', url: '/api/agencies/hepco', as: 'engineer' });
    const error = errorOf(owned);
    expect(error.code).toBe('API_ERR_AGENCY_IN_USE');
    expect(error.details).toEqual({
      rules: expect.arrayContaining(['lamp-failure', 'day-burning']) as unknown,
      routes: [],
    });
    await h.request({ method: 'POST', url: '/api/agencies', as: 'engineer', body: { ...hepco, id: 'ioc' } });
    const removed = await h.request({ method: 'DELETE', url: '/api/agencies/ioc', as: 'engineer' });
    expect(removed.status).toBe(204);
    expect(h.registry.getAgency('ioc')).toBeUndefined();
  });
});

// GET /api/status/devices, over a real registry and alert store with the Huế rules in force: a device with
// an open alert is alerting, one whose open alert is an absence rule's is silent, the others are ok; an
// alert resolved leaves its device ok again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TriggerInput } from '../alerts/index.ts';
import {
  HUNG_VUONG,
  KIM_LONG,
  LE_LOI_LAMP,
  NOW,
  startHarness,
  type Harness,
} from '../test/kits/api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('device-status');
  for (const d of [KIM_LONG, HUNG_VUONG, LE_LOI_LAMP]) await h.registry.provisionDevice(d);
});
afterAll(async () => {
  await h.close();
});

const raise = (over: Partial<TriggerInput>): TriggerInput => ({
  type: 'raise',
  rule: 'lamp-power-too-high',
  device: LE_LOI_LAMP.id,
  kind: 'streetlight',
  district: 'Thuận Hóa',
  owner: 'hepco',
  title: 'Lamp drawing too much',
  severity: 'warning',
  message: 'power 180 W over 165 W',
  value: 180,
  threshold: 165,
  level: 1,
  at: NOW,
  source: 'rule',
  ...over,
});

const statuses = async () => {
  const res = await h.request({ url: '/api/status/devices', as: 'viewer' });
  expect(res.status).toBe(200);
  const { devices } = res.body as { devices: Array<{ id: string; status: string; openAlerts: number }> };
  return Object.fromEntries(devices.map((d) => [d.id, [d.status, d.openAlerts]]));
};

describe('GET /api/status/devices', () => {
  it('says which devices are ok, alerting or silent, at their place', async () => {
    expect(await statuses()).toEqual({
      [KIM_LONG.id]: ['ok', 0],
      [HUNG_VUONG.id]: ['ok', 0],
      [LE_LOI_LAMP.id]: ['ok', 0],
    });
    const lamp = (await h.alerts.trigger(raise({})))!;
    await h.alerts.trigger(
      raise({
        rule: 'silent-air-station',
        device: HUNG_VUONG.id,
        kind: 'air_quality',
        owner: 'environment',
        title: 'Air station silent',
        message: 'no reading for 30 min',
        value: null,
        threshold: null,
      }),
    );
    expect(await statuses()).toEqual({
      [KIM_LONG.id]: ['ok', 0],
      [HUNG_VUONG.id]: ['silent', 1],
      [LE_LOI_LAMP.id]: ['alerting', 1],
    });
    await h.alerts.resolve(lamp.alert.id, 'test operator', 'lamp replaced');
    expect((await statuses())[LE_LOI_LAMP.id]).toEqual(['ok', 0]);
    const one = await h.request({ url: '/api/status/devices', as: 'viewer' });
    expect((one.body as { devices: Array<{ id: string; location: unknown }> }).devices).toContainEqual(
      expect.objectContaining({ id: KIM_LONG.id, location: KIM_LONG.location, kind: 'flood' }),
    );
  });
});

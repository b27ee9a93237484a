import { describe, expect, it } from 'vitest';
import { withDerivedFields } from './derived.ts';
import type { Reading } from './kinds.ts';
import { deviceRecord } from '../test/kits/devices.ts';
import type { DeviceRecord } from './schemas.ts';

const gauge = (meta: Extract<DeviceRecord, { kind: 'flood' }>['meta']): DeviceRecord =>
  deviceRecord('rg-test', 'Test gauge', { kind: 'flood', meta });
const reading = (fields: Reading['fields']): Reading => ({
  kind: 'flood',
  device: 'rg-test',
  time: 0,
  fields,
});

describe('withDerivedFields', () => {
  it("gives a distance gauge's level as its datum less the distance", () => {
    const out = withDerivedFields(reading({ distance_m: 3.2 }), gauge({ type: 'river', datum_m: 5.05 }));
    expect(out.fields).toEqual({ distance_m: 3.2, water_level_m: 1.85 });
  });

  it('leaves a reading alone without a datum, or when the device sent the level itself', () => {
    const noDatum = reading({ distance_m: 3.2 });
    expect(withDerivedFields(noDatum, gauge({ type: 'river' }))).toBe(noDatum);
    const both = reading({ distance_m: 3.2, water_level_m: 1 });
    expect(withDerivedFields(both, gauge({ type: 'river', datum_m: 5 }))).toBe(both);
  });
});

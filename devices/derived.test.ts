import { describe, expect, it } from 'vitest';
import { withDerivedFields } from './derived.ts';
import type { Reading } from './kinds.ts';
import type { DeviceRecord } from './schemas.ts';

const gauge = (meta: Extract<DeviceRecord, { kind: 'flood' }>['meta']): DeviceRecord => ({
  id: 'rg-test',
  name: 'Test gauge',
  district: 'Phú Xuân',
  location: { lat: 16.47, lon: 107.58 },
  tags: [],
  status: 'active',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  kind: 'flood',
  meta,
});
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

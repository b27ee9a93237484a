import { describe, expect, it } from 'vitest';
import { Fleet } from '../devices/index.ts';
import { toSimFleet } from './fleet-input.ts';

const loc = { lat: 16.46, lon: 107.59 };
const fleet = Fleet.parse({
  gateways: [{ id: 'gw-1', name: 'G', district: 'Thuận Hóa', location: loc }],
  devices: [
    { id: 'aq-1', kind: 'air_quality', name: 'A', district: 'Phú Xuân', location: loc },
    { id: 'fl-1', kind: 'flood', name: 'F', district: 'Kim Long', location: loc, meta: { type: 'river' } },
    {
      id: 'sl-1',
      kind: 'streetlight',
      name: 'S',
      district: 'Thuận Hóa',
      location: loc,
      gateway: 'gw-1',
      meta: { street: 'Lê Lợi', rated_w: 150 },
    },
  ],
});

describe('toSimFleet', () => {
  it('gives direct devices their own secret and gateway children their gateway', () => {
    const sim = toSimFleet(fleet, [
      { id: 'aq-1', type: 'device', secret: 'a' },
      { id: 'fl-1', type: 'device', secret: 'f' },
      { id: 'gw-1', type: 'gateway', secret: 'g' },
    ]);
    expect(sim.skipped).toEqual([]);
    expect(sim.gateways).toEqual([{ id: 'gw-1', secret: 'g' }]);
    expect(sim.devices.find((d) => d.id === 'sl-1')).toMatchObject({
      gateway: 'gw-1',
      meta: { tolerance_pct: 10 },
    });
    expect(sim.devices.find((d) => d.id === 'aq-1')?.secret).toBe('a');
  });

  it('skips what has no secret, and the children of a gateway without one', () => {
    const sim = toSimFleet(fleet, [{ id: 'aq-1', type: 'device', secret: 'a' }]);
    expect(sim.devices.map((d) => d.id)).toEqual(['aq-1']);
    expect(sim.skipped.sort()).toEqual(['fl-1', 'gw-1', 'sl-1']);
  });
});

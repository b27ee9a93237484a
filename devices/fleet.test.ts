import { describe, expect, it } from 'vitest';
import fleetJson from './hue-fleet.json' with { type: 'json' };
import { Fleet } from './fleet.ts';

// Wards listed in docs/hue-places.md ("Administrative units").
const WARDS = [
  'Phú Xuân',
  'Thuận Hóa',
  'Kim Long',
  'Vỹ Dạ',
  'An Cựu',
  'Thủy Xuân',
  'Hương An',
  'Mỹ Thượng',
  'Dương Nỗ',
  'Thuận An',
  'Hương Trà',
  'Hương Thủy',
  'Phú Bài',
];

describe('the Huế fleet file', () => {
  const fleet = Fleet.parse(fleetJson);

  it('validates, with the expected mix of devices', () => {
    const count = (pred: (d: Fleet['devices'][number]) => boolean) => fleet.devices.filter(pred).length;
    expect(count((d) => d.kind === 'air_quality')).toBe(6);
    expect(count((d) => d.kind === 'flood' && d.meta.type === 'river')).toBe(2);
    expect(count((d) => d.kind === 'flood' && d.meta.type === 'street')).toBe(6);
    expect(count((d) => d.kind === 'flood' && d.meta.type === 'rain')).toBe(3);
    expect(count((d) => d.kind === 'streetlight')).toBe(24);
    expect(fleet.serviceAccounts).toEqual([{ id: 'node-red', mayPublishAlerts: true }]);
  });

  it('gives every gateway children that exist in the fleet', () => {
    expect(fleet.gateways.length).toBeGreaterThan(0);
    for (const g of fleet.gateways) {
      expect(fleet.devices.filter((d) => d.gateway === g.id).length).toBeGreaterThan(0);
    }
  });

  it('uses the river stations and alarm levels of docs/domain.md', () => {
    const meta = (id: string) => fleet.devices.find((d) => d.id === id)?.meta;
    expect(meta('rg-kim-long')).toMatchObject({
      river: 'Hương',
      national_id: '71520',
      alarm_levels_m: [1.0, 2.0, 3.5],
    });
    expect(meta('rg-phu-oc')).toMatchObject({
      river: 'Bồ',
      national_id: '71518',
      alarm_levels_m: [1.5, 3.0, 4.5],
    });
    expect(meta('aq-hung-vuong-83')).toEqual({ address: '83 Hùng Vương' });
  });

  it('places devices in listed wards and lamps of the rated wattages of the LED project', () => {
    for (const d of [...fleet.devices, ...fleet.gateways]) expect(WARDS).toContain(d.district);
    for (const d of fleet.devices)
      if (d.kind === 'streetlight') expect([120, 150, 180]).toContain(d.meta.rated_w);
  });

  it('refuses a fleet whose device names a missing gateway, or with a duplicate id', () => {
    const device = fleet.devices.find((d) => d.gateway !== undefined)!;
    expect(Fleet.safeParse({ ...fleetJson, gateways: [] }).success).toBe(false);
    expect(Fleet.safeParse({ ...fleetJson, devices: [...fleetJson.devices, device] }).success).toBe(false);
  });
});

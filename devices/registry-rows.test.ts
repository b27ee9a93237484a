// What one node tells the others of a registry change: tables, and the devices by id when they are few.
import { describe, expect, it } from 'vitest';
import { decodeTouch, encodeTouch } from './registry-rows.ts';

describe('a change as the other nodes are told of it', () => {
  it('names tables, and devices one by one, and reads back the same', () => {
    const touch = { tables: ['devices'] as const, devices: ['rg-kim-long', 'sl-le-loi.12', 'aq_dai_noi'] };
    expect(encodeTouch(touch)).toBe('devices|rg-kim-long sl-le-loi.12 aq_dai_noi');
    expect(decodeTouch(encodeTouch(touch))).toEqual(touch);
    expect(decodeTouch(encodeTouch({ tables: ['users', 'sessions'] }))).toEqual({
      tables: ['users', 'sessions'],
    });
  });

  it('names the whole table when the ids would not fit in one notice', () => {
    const devices = Array.from({ length: 2_000 }, (_, i) => `sl-bulk-${String(i).padStart(5, '0')}`);
    expect(encodeTouch({ tables: ['devices'], devices })).toBe('devices');
  });

  it('ignores what is not a table of the registry', () => {
    expect(decodeTouch('devices,nonsense')).toEqual({ tables: ['devices'] });
  });
});

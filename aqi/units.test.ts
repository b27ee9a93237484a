// µg/m³ ↔ ppb at 25 °C and 1 atm.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MOLAR_MASS_G_PER_MOL,
  MOLAR_VOLUME_L_PER_MOL,
  no2Ugm3ToPpb,
  o3Ugm3ToPpm,
  ppbToUgm3,
  ugm3ToPpb,
} from './units.ts';

describe('units', () => {
  it('uses the ideal-gas molar volume at 298.15 K and 101 325 Pa', () => {
    expect(MOLAR_VOLUME_L_PER_MOL).toBeCloseTo(24.465, 3);
    expect(MOLAR_MASS_G_PER_MOL.o3).toBeCloseTo(47.997, 9);
    expect(MOLAR_MASS_G_PER_MOL.no2).toBeCloseTo(46.005, 9);
  });

  it('converts by c · Vm / M', () => {
    expect(no2Ugm3ToPpb(46.005)).toBeCloseTo(MOLAR_VOLUME_L_PER_MOL, 9);
    expect(o3Ugm3ToPpm(47.997 * 1000)).toBeCloseTo(MOLAR_VOLUME_L_PER_MOL, 9);
  });

  it('round-trips (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('o3', 'no2' as const),
        fc.double({ min: 0, max: 1e5, noNaN: true }),
        (g, c) => {
          expect(ppbToUgm3(g, ugm3ToPpb(g, c))).toBeCloseTo(c, 6);
        },
      ),
    );
  });
});

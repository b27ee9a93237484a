import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sunAltitudeDeg, sunPosition } from './sun.ts';

// Huế, near the Citadel (docs/hue-places.md: the sun at 16.46, 107.59, and its local time, UTC+7).
const LAT = 16.4637;
const LON = 107.5909;
const at = (local: string): number => Date.parse(`${local}+07:00`);

/** The highest altitude of the day, sampled each minute, and the position then. */
function culmination(day: string): { altitude: number; azimuth: number } {
  const start = at(`${day}T00:00:00`);
  let best = { altitude: -Infinity, azimuth: 0 };
  for (let t = start; t < start + 86_400_000; t += 60_000) {
    const p = sunPosition(t, LAT, LON);
    if (p.altitude_deg > best.altitude) best = { altitude: p.altitude_deg, azimuth: p.azimuth_deg };
  }
  return best;
}

describe('sun position', () => {
  it('is below the horizon at local midnight in Huế and high at local noon', () => {
    expect(sunAltitudeDeg(at('2024-06-21T00:00:00'), LAT, LON)).toBeLessThan(-45);
    expect(sunAltitudeDeg(at('2024-06-21T12:00:00'), LAT, LON)).toBeGreaterThan(80);
    expect(sunAltitudeDeg(at('2024-12-21T00:00:00'), LAT, LON)).toBeLessThan(-45);
    expect(sunAltitudeDeg(at('2024-12-21T12:00:00'), LAT, LON)).toBeGreaterThan(45);
  });

  it('culminates at 90° − |latitude − declination|: the textbook noon altitudes', () => {
    // Declination +23.44° at the June solstice, about 0° at the March equinox, −23.44° in December.
    const june = culmination('2024-06-21');
    expect(june.altitude).toBeCloseTo(90 - (23.44 - LAT), 0);
    // North of Huế's zenith in June (the Tropic of Cancer is further north): bearing near 0°.
    expect(Math.min(june.azimuth, 360 - june.azimuth)).toBeLessThan(5);
    const march = culmination('2024-03-20');
    expect(Math.abs(march.altitude - (90 - LAT))).toBeLessThan(0.5);
    // Due south at the equinox; sampled each minute, when the bearing swings about 1° a minute.
    expect(Math.abs(march.azimuth - 180)).toBeLessThan(2);
    expect(culmination('2024-12-21').altitude).toBeCloseTo(90 - LAT - 23.44, 0);
  });

  it('gives compass bearings: rising in the east and setting in the west at the equinox', () => {
    const rising = sunPosition(at('2024-03-20T06:00:00'), LAT, LON);
    const setting = sunPosition(at('2024-03-20T18:00:00'), LAT, LON);
    expect(Math.abs(rising.altitude_deg)).toBeLessThan(2);
    expect(rising.azimuth_deg).toBeCloseTo(90, 0);
    expect(setting.azimuth_deg).toBeCloseTo(270, 0);
  });

  it('property: altitude within [−90, 90] and azimuth within [0, 360) anywhere, any time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.double({ min: -90, max: 90, noNaN: true }),
        fc.double({ min: -180, max: 180, noNaN: true }),
        (t, lat, lon) => {
          const p = sunPosition(t, lat, lon);
          expect(p.altitude_deg).toBeGreaterThanOrEqual(-90);
          expect(p.altitude_deg).toBeLessThanOrEqual(90);
          expect(p.azimuth_deg).toBeGreaterThanOrEqual(0);
          expect(p.azimuth_deg).toBeLessThan(360);
        },
      ),
    );
  });
});

// The sun's position at a device, for CEL conditions that read `sun` (a lamp lit in daylight). suncalc
// works in radians, with the azimuth measured from south towards west; rule authors think in degrees
// and compass bearings, so both are converted here, once.
import SunCalc from 'suncalc';

export interface SunPosition {
  /** Angle of the sun's centre above the horizon, degrees: 0 on it, 90 overhead, negative below. No
   * refraction: suncalc's own sunrise and sunset sit at −0.833° for the upper limb with refraction. */
  readonly altitude_deg: number;
  /** Compass bearing of the sun, degrees clockwise from north: 90 east, 180 south, 270 west. */
  readonly azimuth_deg: number;
}

const DEG = 180 / Math.PI;

/** Where the sun is at `time` (ms since the epoch) seen from `lat`, `lon` (degrees, WGS 84). */
export function sunPosition(time: number, lat: number, lon: number): SunPosition {
  const p = SunCalc.getPosition(new Date(time), lat, lon);
  // suncalc: 0 is south, π/2 west. A bearing from north is that plus 180°, brought into [0, 360).
  const bearing = (p.azimuth * DEG + 180) % 360;
  return { altitude_deg: p.altitude * DEG, azimuth_deg: bearing < 0 ? bearing + 360 : bearing };
}

/** The sun's altitude at `time` seen from `lat`, `lon`, in degrees. */
export function sunAltitudeDeg(time: number, lat: number, lon: number): number {
  return sunPosition(time, lat, lon).altitude_deg;
}

// The US EPA Air Quality Index with the 2024 revision of its PM2.5 breakpoints (in force from 6 May 2024;
// 40 CFR Part 58 Appendix G as amended), as docs/domain.md gives it: PM2.5 24h, PM10 24h, O₃ 8h (ppm) and
// NO₂ 1h (ppb). Not here, because docs/domain.md does not give them: the O₃ 1-hour table (the EPA uses it above
// 0.200 ppm 8h), CO and SO₂, and the EPA's separate NowCast for O₃.
import {
  categoryOf,
  GREEN,
  MAROON,
  ORANGE,
  PURPLE,
  RED,
  rgbHex,
  YELLOW,
  type AqiCategory,
} from './category.ts';
import { nowCastDetail, type HourValue } from './nowcast.ts';
import { no2Ugm3ToPpb, o3Ugm3ToPpm } from './units.ts';

export const US_POLLUTANTS = ['pm25', 'pm10', 'o3', 'no2'] as const;
export type UsPollutant = (typeof US_POLLUTANTS)[number];

/** One band: concentrations cLo..cHi (after truncation) map linearly onto indices iLo..iHi. */
export interface UsBand {
  readonly cLo: number;
  readonly cHi: number;
  readonly iLo: number;
  readonly iHi: number;
}

export interface UsTable {
  readonly unit: 'µg/m³' | 'ppm' | 'ppb';
  /** Concentrations are truncated (not rounded) to this step before the lookup. */
  readonly step: number;
  readonly bands: readonly UsBand[];
  /** Above the last band: cap at 500 (PM, NO₂) or no index (O₃ 8h, where the EPA switches to O₃ 1h). */
  readonly above: 'cap' | 'none';
}

const b = (cLo: number, cHi: number, iLo: number, iHi: number): UsBand => ({ cLo, cHi, iLo, iHi });

// Truncation steps: PM2.5 0.1 µg/m³, PM10 1 µg/m³, O₃ 0.001 ppm (docs/domain.md). NO₂'s step is not in
// docs/domain.md; its breakpoints are whole ppb with gaps between bands (53 | 54), so it is truncated to 1 ppb,
// which is what those gaps imply.
export const US_BREAKPOINTS: Readonly<Record<UsPollutant, UsTable>> = {
  pm25: {
    unit: 'µg/m³',
    step: 0.1,
    above: 'cap',
    bands: [
      b(0, 9.0, 0, 50),
      b(9.1, 35.4, 51, 100),
      b(35.5, 55.4, 101, 150),
      b(55.5, 125.4, 151, 200),
      b(125.5, 225.4, 201, 300),
      b(225.5, 325.4, 301, 500),
    ],
  },
  pm10: {
    unit: 'µg/m³',
    step: 1,
    above: 'cap',
    bands: [
      b(0, 54, 0, 50),
      b(55, 154, 51, 100),
      b(155, 254, 101, 150),
      b(255, 354, 151, 200),
      b(355, 424, 201, 300),
      b(425, 604, 301, 500),
    ],
  },
  o3: {
    unit: 'ppm',
    step: 0.001,
    above: 'none',
    bands: [
      b(0, 0.054, 0, 50),
      b(0.055, 0.07, 51, 100),
      b(0.071, 0.085, 101, 150),
      b(0.086, 0.105, 151, 200),
      b(0.106, 0.2, 201, 300),
    ],
  },
  no2: {
    unit: 'ppb',
    step: 1,
    above: 'cap',
    bands: [
      b(0, 53, 0, 50),
      b(54, 100, 51, 100),
      b(101, 360, 101, 150),
      b(361, 649, 151, 200),
      b(650, 1249, 201, 300),
      b(1250, 2049, 301, 500),
    ],
  },
};

/** EPA category names and colours (colours: see category.ts). */
export const US_CATEGORIES: readonly AqiCategory[] = [
  cat(1, 'good', 'Good', 0, 50, GREEN),
  cat(2, 'moderate', 'Moderate', 51, 100, YELLOW),
  cat(3, 'unhealthy_sensitive', 'Unhealthy for Sensitive Groups', 101, 150, ORANGE),
  cat(4, 'unhealthy', 'Unhealthy', 151, 200, RED),
  cat(5, 'very_unhealthy', 'Very Unhealthy', 201, 300, PURPLE),
  cat(6, 'hazardous', 'Hazardous', 301, 500, MAROON),
];

function cat(
  level: AqiCategory['level'],
  key: string,
  en: string,
  min: number,
  max: number,
  rgb: AqiCategory['rgb'],
): AqiCategory {
  return { level, key, name: { en }, min, max, rgb, hex: rgbHex(rgb) };
}

export function usCategory(aqi: number): AqiCategory {
  return categoryOf(US_CATEGORIES, aqi);
}

// Floating point: 0.029 × 1000 is 28.999999999999996; a nudge far below any step keeps it at 29.
const TRUNCATION_NUDGE = 1e-9;

/** Whole steps in a concentration, truncated: the integer the EPA's lookup works on. */
function steps(table: UsTable, c: number): number {
  return Math.floor(c / table.step + TRUNCATION_NUDGE);
}

/** The concentration truncated to the pollutant's step (docs/domain.md: "truncate … before lookup"). */
export function usTruncate(pollutant: UsPollutant, concentration: number): number {
  const table = US_BREAKPOINTS[pollutant];
  // Dividing the whole number of steps gives the same double as the written breakpoint (e.g. 55 / 1000).
  const inverse = Math.round(1 / table.step);
  return steps(table, concentration) / inverse;
}

/**
 * The sub-index of one concentration in the table's unit, not rounded: truncate, find the band, and
 * interpolate I = (iHi − iLo)/(cHi − cLo)·(C − cLo) + iLo. Above the last band: 500 for PM and NO₂ (a cap:
 * the EPA calls such values "beyond the AQI"; docs/domain.md gives no rule), `undefined` for O₃ 8h.
 * `undefined` for a negative or non-finite concentration.
 */
export function usSubIndex(pollutant: UsPollutant, concentration: number): number | undefined {
  if (!Number.isFinite(concentration) || concentration < 0) return undefined;
  const table = US_BREAKPOINTS[pollutant];
  const k = steps(table, concentration);
  const c = usTruncate(pollutant, concentration);
  for (const band of table.bands) {
    if (k <= Math.round(band.cHi / table.step)) {
      return ((band.iHi - band.iLo) / (band.cHi - band.cLo)) * (c - band.cLo) + band.iLo;
    }
  }
  return table.above === 'cap' ? 500 : undefined;
}

/**
 * The EPA NowCast for PM of hourly means newest first — `hours[0]` is the current hour (h = 0), as in
 * `vnNowCast`, so both NowCasts read the same series. `undefined` unless 2 of the 3 latest hours are
 * valid. See nowcast.ts.
 */
export function usNowCast(hours: readonly HourValue[]): number | undefined {
  return nowCastDetail(hours)?.value;
}

export interface UsAqiInput {
  /** PM2.5 in µg/m³: a 24-hour mean, or a NowCast for the current index (as AirNow reports it). */
  readonly pm25?: HourValue;
  readonly pm10?: HourValue;
  /** O₃ 8-hour mean in ppm. */
  readonly o3Ppm?: HourValue;
  /** NO₂ 1-hour mean in ppb. */
  readonly no2Ppb?: HourValue;
}

export interface UsAqiResult {
  /** The largest sub-index, rounded to an integer. */
  readonly aqi: number;
  /** On a tie, the first in `US_POLLUTANTS`. */
  readonly dominant: UsPollutant;
  readonly subIndices: Readonly<Partial<Record<UsPollutant, number>>>;
  readonly category: AqiCategory;
}

/** The index from concentrations in the EPA's units; `undefined` when no sub-index can be computed. */
export function usAqi(input: UsAqiInput): UsAqiResult | undefined {
  const values: Record<UsPollutant, HourValue> = {
    pm25: input.pm25,
    pm10: input.pm10,
    o3: input.o3Ppm,
    no2: input.no2Ppb,
  };
  const subIndices: Partial<Record<UsPollutant, number>> = {};
  let dominant: UsPollutant | undefined;
  let best = -Infinity;
  for (const p of US_POLLUTANTS) {
    const c = values[p];
    const value = typeof c === 'number' ? usSubIndex(p, c) : undefined;
    if (value === undefined) continue;
    subIndices[p] = value;
    if (value > best) {
      best = value;
      dominant = p;
    }
  }
  if (dominant === undefined) return undefined;
  const aqi = Math.round(best);
  return { aqi, dominant, subIndices, category: usCategory(aqi) };
}

export interface UsHourlyInput {
  /** Hourly means in µg/m³, newest first, for the NowCast. */
  readonly pm25Hours?: readonly HourValue[];
  readonly pm10Hours?: readonly HourValue[];
  /** The latest O₃ 8-hour mean and NO₂ 1-hour mean, in µg/m³ as the stations report them. */
  readonly o3Mean8h?: HourValue;
  readonly no2?: HourValue;
}

export interface UsHourlyResult extends UsAqiResult {
  readonly nowCast: { readonly pm25?: number; readonly pm10?: number };
}

/** The current index from a station's readings: PM NowCasts, O₃ and NO₂ converted from µg/m³. */
export function usHourlyAqi(input: UsHourlyInput): UsHourlyResult | undefined {
  const pm25 = input.pm25Hours === undefined ? undefined : usNowCast(input.pm25Hours);
  const pm10 = input.pm10Hours === undefined ? undefined : usNowCast(input.pm10Hours);
  const result = usAqi({
    pm25,
    pm10,
    o3Ppm: typeof input.o3Mean8h === 'number' ? o3Ugm3ToPpm(input.o3Mean8h) : undefined,
    no2Ppb: typeof input.no2 === 'number' ? no2Ugm3ToPpb(input.no2) : undefined,
  });
  if (result === undefined) return undefined;
  const nowCast: { pm25?: number; pm10?: number } = {};
  if (pm25 !== undefined) nowCast.pm25 = pm25;
  if (pm10 !== undefined) nowCast.pm10 = pm10;
  return { ...result, nowCast };
}

// VN_AQI, Vietnam's air-quality index: Decision 1459/QĐ-TCMT of 12 November 2019 (Vietnam Environment
// Administration), "Hướng dẫn kỹ thuật tính toán và công bố chỉ số chất lượng không khí Việt Nam".
// Common mistakes this module avoids on purpose: the O₃ 8h column used for the hourly index (the hourly
// index uses O₃ 1h), CO in mg/m³ (the table is in µg/m³, as the platform's `co` field is), and a table
// cut at index 300 (the 400 and 500 rows are part of the Decision's Table 2).
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
import { nowCastDetail, type HourValue, type NowCastDetail } from './nowcast.ts';

/** The columns of the breakpoint table (Decision 1459, Table 2). */
export const VN_COLUMNS = ['o3_1h', 'o3_8h', 'co', 'so2', 'no2', 'pm10', 'pm25'] as const;
export type VnColumn = (typeof VN_COLUMNS)[number];

/** The pollutants that make up the index; their names are the `air_quality` field names. */
export const VN_POLLUTANTS = ['pm25', 'pm10', 'o3', 'no2', 'so2', 'co'] as const;
export type VnPollutant = (typeof VN_POLLUTANTS)[number];

/** Index values Iᵢ of the table's rows. */
export const VN_INDEX_LEVELS = [0, 50, 100, 150, 200, 300, 400, 500] as const;

/**
 * Breakpoints BPᵢ in µg/m³ (CO too), row by row against `VN_INDEX_LEVELS` (Decision 1459, Table 2;
 * docs/domain.md, "Air quality"). `null`: the row does not exist for that column (O₃ 8h stops at index 300).
 * The 500 row reads "≥": a concentration at or above it has index 500.
 */
export const VN_BREAKPOINTS: Readonly<Record<VnColumn, readonly (number | null)[]>> = {
  o3_1h: [0, 160, 200, 300, 400, 800, 1000, 1200],
  o3_8h: [0, 100, 120, 170, 210, 400, null, null],
  co: [0, 10_000, 30_000, 45_000, 60_000, 90_000, 120_000, 150_000],
  so2: [0, 125, 350, 550, 800, 1600, 2100, 2630],
  no2: [0, 100, 200, 700, 1200, 2350, 3100, 3850],
  pm10: [0, 50, 150, 250, 350, 420, 500, 600],
  pm25: [0, 25, 50, 80, 150, 250, 350, 500],
};

/** The six bands with their names and colours (Decision 1459, Table 1; docs/domain.md). */
export const VN_CATEGORIES: readonly AqiCategory[] = [
  band(1, 'good', 'Tốt', 'Good', 0, 50, GREEN),
  band(2, 'moderate', 'Trung bình', 'Moderate', 51, 100, YELLOW),
  band(3, 'poor', 'Kém', 'Poor', 101, 150, ORANGE),
  band(4, 'bad', 'Xấu', 'Bad', 151, 200, RED),
  band(5, 'very_bad', 'Rất xấu', 'Very bad', 201, 300, PURPLE),
  band(6, 'hazardous', 'Nguy hại', 'Hazardous', 301, 500, MAROON),
];

function band(
  level: AqiCategory['level'],
  key: string,
  vi: string,
  en: string,
  min: number,
  max: number,
  rgb: AqiCategory['rgb'],
): AqiCategory {
  return { level, key, name: { vi, en }, min, max, rgb, hex: rgbHex(rgb) };
}

/** The category of a rounded VN_AQI value. */
export function vnCategory(aqi: number): AqiCategory {
  return categoryOf(VN_CATEGORIES, aqi);
}

/**
 * The sub-index AQIx of one concentration (µg/m³) in one column, by linear interpolation between the two
 * breakpoints around it (Decision 1459, formulas 1 and 2), not rounded. At or above the column's last
 * breakpoint: 500 (the table's "≥" row), except for O₃ 8h, which has no row above index 300 and gives
 * `undefined` past 400 µg/m³ (the Decision: use the O₃ 1h index alone then). `undefined` also for a
 * negative or non-finite concentration.
 */
export function vnSubIndex(column: VnColumn, concentration: number): number | undefined {
  if (!Number.isFinite(concentration) || concentration < 0) return undefined;
  const bps = VN_BREAKPOINTS[column];
  for (let i = 1; i < bps.length; i++) {
    const hi = bps[i];
    const lo = bps[i - 1];
    if (hi === null || hi === undefined || lo === null || lo === undefined) break;
    if (concentration <= hi) {
      const iLo = VN_INDEX_LEVELS[i - 1] ?? 0;
      const iHi = VN_INDEX_LEVELS[i] ?? 0;
      return ((iHi - iLo) / (hi - lo)) * (concentration - lo) + iLo;
    }
  }
  return column === 'o3_8h' ? undefined : 500;
}

/** The PM NowCast of hourly means c1..c12, newest first (c1 = the current hour); see nowcast.ts. */
export function vnNowCast(hourlyMeans: readonly HourValue[]): number | undefined {
  return nowCastDetail(hourlyMeans)?.value;
}

/** The NowCast with the weight w used, for display and for checking against the Decision's example. */
export function vnNowCastDetail(hourlyMeans: readonly HourValue[]): NowCastDetail | undefined {
  return nowCastDetail(hourlyMeans);
}

export interface VnAqiResult {
  /** The index: the largest sub-index, rounded to an integer (Decision 1459, §2.2.1.c and §2.2.2.c). */
  readonly aqi: number;
  /** The pollutant with the largest sub-index; on a tie, the first in `VN_POLLUTANTS`. */
  readonly dominant: VnPollutant;
  /** Every sub-index that could be computed, not rounded. */
  readonly subIndices: Readonly<Partial<Record<VnPollutant, number>>>;
  readonly category: AqiCategory;
}

export interface VnHourlyInput {
  /** Hourly means in µg/m³, newest first (index 0 = c1, the current hour), at least c1..c3. */
  readonly pm25Hours?: readonly HourValue[];
  readonly pm10Hours?: readonly HourValue[];
  /** The current hour's 1-hour means in µg/m³ (CO too). */
  readonly o3?: HourValue;
  readonly no2?: HourValue;
  readonly so2?: HourValue;
  readonly co?: HourValue;
}

export interface VnHourlyResult extends VnAqiResult {
  /** The NowCast concentrations the PM sub-indices were computed from. */
  readonly nowCast: { readonly pm25?: number; readonly pm10?: number };
}

/**
 * The hourly VN_AQI (AQIʰ, Decision 1459 §2.2.1): PM from the NowCast, SO₂, CO, NO₂ and O₃ (1h column)
 * from the hour's mean. `undefined` when neither PM NowCast can be computed: the Decision requires at
 * least one of PM10 and PM2.5.
 */
export function vnHourlyAqi(input: VnHourlyInput): VnHourlyResult | undefined {
  const pm25 = input.pm25Hours === undefined ? undefined : vnNowCast(input.pm25Hours);
  const pm10 = input.pm10Hours === undefined ? undefined : vnNowCast(input.pm10Hours);
  const result = combine({
    pm25: sub('pm25', pm25),
    pm10: sub('pm10', pm10),
    o3: sub('o3_1h', input.o3),
    no2: sub('no2', input.no2),
    so2: sub('so2', input.so2),
    co: sub('co', input.co),
  });
  if (result === undefined) return undefined;
  const nowCast: { pm25?: number; pm10?: number } = {};
  if (pm25 !== undefined) nowCast.pm25 = pm25;
  if (pm10 !== undefined) nowCast.pm10 = pm10;
  return { ...result, nowCast };
}

/** The sub-index of a possibly missing concentration. */
export function sub(column: VnColumn, concentration: HourValue): number | undefined {
  return typeof concentration === 'number' ? vnSubIndex(column, concentration) : undefined;
}

/**
 * The index from the sub-indices: their maximum, rounded (Math.round: halves up, the values are never
 * negative). `undefined` when neither PM sub-index is present (Decision 1459 §2.1.b).
 */
export function combine(subs: Readonly<Record<VnPollutant, number | undefined>>): VnAqiResult | undefined {
  if (subs.pm25 === undefined && subs.pm10 === undefined) return undefined;
  const subIndices: Partial<Record<VnPollutant, number>> = {};
  let dominant: VnPollutant = subs.pm25 === undefined ? 'pm10' : 'pm25';
  let best = -Infinity;
  for (const p of VN_POLLUTANTS) {
    const value = subs[p];
    if (value === undefined) continue;
    subIndices[p] = value;
    if (value > best) {
      best = value;
      dominant = p;
    }
  }
  const aqi = Math.round(best);
  return { aqi, dominant, subIndices, category: vnCategory(aqi) };
}

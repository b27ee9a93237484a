// The six bands both indices share. The colours are the same RGB values in Decision 1459/QĐ-TCMT
// (Table 1, "Mã màu RGB") and in the US EPA's Technical Assistance Document for the Reporting of Daily Air
// Quality (EPA-454/B-24-002, May 2024, the AQI colour table): green, yellow, orange, red, purple, maroon.

export type Rgb = readonly [number, number, number];

export interface AqiCategory {
  /** 1 (best) to 6 (worst). */
  readonly level: 1 | 2 | 3 | 4 | 5 | 6;
  /** A stable identifier, for rule files and InfluxDB fields. */
  readonly key: string;
  /** Names as the issuing body publishes them. */
  readonly name: { readonly vi?: string; readonly en: string };
  /** The rounded index range of the band, both ends included. */
  readonly min: number;
  readonly max: number;
  readonly rgb: Rgb;
  /** `#RRGGBB`, for Grafana thresholds and the API. */
  readonly hex: string;
}

export const GREEN: Rgb = [0, 228, 0];
export const YELLOW: Rgb = [255, 255, 0];
export const ORANGE: Rgb = [255, 126, 0];
export const RED: Rgb = [255, 0, 0];
export const PURPLE: Rgb = [143, 63, 151];
export const MAROON: Rgb = [126, 0, 35];

export function rgbHex([r, g, b]: Rgb): string {
  return '#' + [r, g, b].map((v) => v.toString(16).padStart(2, '0').toUpperCase()).join('');
}

/** The band a (rounded) index falls in; above the top band, the top band. */
export function categoryOf(table: readonly AqiCategory[], aqi: number): AqiCategory {
  const found = table.find((c) => aqi <= c.max) ?? table[table.length - 1];
  if (found === undefined) throw new RangeError('empty category table');
  return found;
}

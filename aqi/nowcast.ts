// The NowCast: a weighted mean of the last 12 hourly means that leans on the recent hours when the air is
// changing fast. VN_AQI (Decision 1459/QĐ-TCMT, 2019, §2.2.1.a) and the US EPA (Technical Assistance
// Document for the Reporting of Daily Air Quality, 2024) define the same computation for PM:
//   w* = Cmin / Cmax over the valid hours;  w = ½ when w* ≤ ½, else w*  (EPA: "floor 0.5");
//   NowCast = Σ w^(i−1)·cᵢ / Σ w^(i−1), a missing hour weighing 0;
//   only when at least 2 of the 3 latest hours (c1..c3) are present.
// Decision 1459 writes the w = ½ case as Σ (½)^i·cᵢ without the divisor. With all 12 hours present the
// two forms differ by the factor Σ(½)^i = 1 − 2⁻¹² (0.02 %); with a missing hour the undivided form would
// read low by that hour's whole weight, which contradicts "a missing hour weighs 0". The divided form is
// used in both cases, as docs/domain.md states it and as the EPA does.

/** An hourly mean, or a missing hour. `null` is accepted too, since JSON has no `undefined`. */
export type HourValue = number | null | undefined;

/** How many hourly means a NowCast reads (both sources). */
export const NOWCAST_HOURS = 12;
/** The floor on the weight (both sources: "w = ½ if w* ≤ ½"). */
export const NOWCAST_MIN_WEIGHT = 0.5;

export interface NowCastDetail {
  /** The NowCast concentration, in the unit of the hourly means. */
  readonly value: number;
  /** The weight w actually used, after the floor. */
  readonly weight: number;
}

/** A usable hourly mean: finite and not negative (a negative concentration is a sensor fault). */
export function isValidHour(value: HourValue): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/**
 * The NowCast of `hours`, newest first: `hours[0]` is c1 (the current hour), `hours[11]` is c12. Entries
 * past the twelfth are ignored; a short array means the older hours are missing. `undefined` when fewer
 * than 2 of c1..c3 are valid.
 */
export function nowCastDetail(hours: readonly HourValue[]): NowCastDetail | undefined {
  const window = hours.slice(0, NOWCAST_HOURS);
  const recent = window.slice(0, 3).filter(isValidHour).length;
  if (recent < 2) return undefined;

  let min = Infinity;
  let max = -Infinity;
  for (const c of window) {
    if (!isValidHour(c)) continue;
    if (c < min) min = c;
    if (c > max) max = c;
  }
  // All valid hours at zero: w* is 0/0; every weight gives the same answer, 0.
  if (max === 0) return { value: 0, weight: 1 };

  const weight = Math.max(min / max, NOWCAST_MIN_WEIGHT);
  let numerator = 0;
  let denominator = 0;
  let factor = 1; // w^(i−1)
  for (const c of window) {
    if (isValidHour(c)) {
      numerator += factor * c;
      denominator += factor;
    }
    factor *= weight;
  }
  // A weighted mean of values in [min, max] can leave that interval only by rounding: clamp it back.
  return { value: Math.min(max, Math.max(min, numerator / denominator)), weight };
}

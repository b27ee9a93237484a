// The daily VN_AQI (AQIᵈ, Decision 1459/QĐ-TCMT §2.2.2): PM from the 24-hour mean; SO₂, NO₂ and CO from
// the day's highest 1-hour mean; O₃ from the larger of the sub-indices of the day's highest 1-hour mean
// (1h column) and highest 8-hour mean (8h column), the 8h part skipped above 400 µg/m³.
import { isValidHour, type HourValue } from './nowcast.ts';
import { combine, sub, type VnAqiResult } from './vn-aqi.ts';

export interface VnDailyInput {
  /** µg/m³ (CO too). */
  readonly pm25Mean24h?: HourValue;
  readonly pm10Mean24h?: HourValue;
  readonly o3Max1h?: HourValue;
  readonly o3Max8h?: HourValue;
  readonly no2Max1h?: HourValue;
  readonly so2Max1h?: HourValue;
  readonly coMax1h?: HourValue;
}

/** The daily index; `undefined` when neither PM mean is present (Decision 1459 §2.1.b). */
export function vnDailyAqi(input: VnDailyInput): VnAqiResult | undefined {
  const o3h = sub('o3_1h', input.o3Max1h);
  // vnSubIndex gives no O₃ 8h index above 400 µg/m³, which is the Decision's "skip the 8h part".
  const o38 = sub('o3_8h', input.o3Max8h);
  const o3 = o3h === undefined ? o38 : o38 === undefined ? o3h : Math.max(o3h, o38);
  return combine({
    pm25: sub('pm25', input.pm25Mean24h),
    pm10: sub('pm10', input.pm10Mean24h),
    o3,
    no2: sub('no2', input.no2Max1h),
    so2: sub('so2', input.so2Max1h),
    co: sub('co', input.coMax1h),
  });
}

/** The hourly means of one local day, oldest first: index 0 is the hour 00:00–01:00. */
export interface VnDayHours {
  readonly pm25?: readonly HourValue[];
  readonly pm10?: readonly HourValue[];
  readonly o3?: readonly HourValue[];
  readonly no2?: readonly HourValue[];
  readonly so2?: readonly HourValue[];
  readonly co?: readonly HourValue[];
  /**
   * O₃ hourly means of the 7 hours before the day, oldest first. The Decision's example forms the
   * 8-hour mean at each hour of the day from that hour and the 7 before it, reaching into the previous
   * evening (its first 8-hour mean, at 01:00, averages 18:00–01:00).
   */
  readonly o3Previous?: readonly HourValue[];
}

export interface VnDayOptions {
  /**
   * Valid hours a 24-hour mean or a day's maximum needs. Decision 1459 sets no completeness threshold
   * ("the mean of the day's hourly means"); the default asks for the whole day. Lower it deliberately.
   */
  readonly minHoursPerDay?: number;
  /** Valid hours an 8-hour mean needs; as above, no threshold in the Decision; default all 8. */
  readonly minHoursPer8h?: number;
}

export const HOURS_PER_DAY = 24;
export const HOURS_PER_8H = 8;

/** The day's statistics that `vnDailyAqi` takes, from the day's hourly means. */
export function vnDailyInputs(day: VnDayHours, options: VnDayOptions = {}): VnDailyInput {
  const minDay = options.minHoursPerDay ?? HOURS_PER_DAY;
  const min8 = options.minHoursPer8h ?? HOURS_PER_8H;
  const o3Max8h = maxOf(eightHourMeans(day.o3 ?? [], day.o3Previous ?? [], min8), 1);
  return {
    pm25Mean24h: meanOf(day.pm25, minDay),
    pm10Mean24h: meanOf(day.pm10, minDay),
    o3Max1h: maxOf(day.o3, minDay),
    o3Max8h,
    no2Max1h: maxOf(day.no2, minDay),
    so2Max1h: maxOf(day.so2, minDay),
    coMax1h: maxOf(day.co, minDay),
  };
}

/**
 * The 8-hour running means ending at each hour of the day (24 values, oldest first): the mean of that
 * hour and the 7 before it, the 7 before the day taken from `previous` (its last 7 entries). A window
 * with fewer than `minHours` valid hours gives `undefined`.
 */
export function eightHourMeans(
  day: readonly HourValue[],
  previous: readonly HourValue[] = [],
  minHours: number = HOURS_PER_8H,
): (number | undefined)[] {
  const before: HourValue[] = previous.slice(-(HOURS_PER_8H - 1));
  while (before.length < HOURS_PER_8H - 1) before.unshift(undefined);
  const series = [...before, ...day.slice(0, HOURS_PER_DAY)];
  const means: (number | undefined)[] = [];
  for (let end = HOURS_PER_8H - 1; end < series.length; end++) {
    means.push(meanOf(series.slice(end - HOURS_PER_8H + 1, end + 1), minHours));
  }
  return means;
}

function meanOf(values: readonly HourValue[] | undefined, minCount: number): number | undefined {
  const valid = (values ?? []).slice(0, HOURS_PER_DAY).filter(isValidHour);
  if (valid.length === 0 || valid.length < minCount) return undefined;
  return valid.reduce((a, b) => a + b, 0) / valid.length;
}

function maxOf(values: readonly HourValue[] | undefined, minCount: number): number | undefined {
  const valid = (values ?? []).slice(0, HOURS_PER_DAY).filter(isValidHour);
  if (valid.length === 0 || valid.length < minCount) return undefined;
  return Math.max(...valid);
}

// Air-quality indices for the rules engine: VN_AQI (Decision 1459/QĐ-TCMT, 2019), hourly with the PM
// NowCast and daily, and the US EPA AQI with its 2024 PM2.5 breakpoints; the hourly-mean accumulator that
// feeds them; the per-station index built on those (station.ts) and its InfluxDB field names. Pure
// functions: no I/O, time passed in.
export type { AqiCategory, Rgb } from './category.ts';
export { AQI_ERRORS, AqiError, type AqiErrorCode } from './errors.ts';
export {
  addReading,
  createHourlyState,
  DEFAULT_RETAIN_HOURS,
  evictHours,
  HOUR_MS,
  HourlyState,
  hourlyMeans,
  hourStart,
  MAX_RETAIN_HOURS,
  MIN_RETAIN_HOURS,
  parseHourlyState,
} from './hourly.ts';
export { NOWCAST_HOURS, NOWCAST_MIN_WEIGHT, type HourValue, type NowCastDetail } from './nowcast.ts';
export {
  MOLAR_MASS_G_PER_MOL,
  MOLAR_VOLUME_L_PER_MOL,
  no2Ugm3ToPpb,
  o3Ugm3ToPpm,
  ppbToUgm3,
  ugm3ToPpb,
} from './units.ts';
export {
  STATION_POLLUTANTS,
  STATION_RETAIN_HOURS,
  StationState,
  stationFields,
  stationIndex,
  stationInit,
  stationReading,
  stationUs,
  stationVn,
  type StationAqi,
  type StationIndex,
  type StationIndexOptions,
  type StationPollutant,
} from './station.ts';
export {
  US_BREAKPOINTS,
  US_CATEGORIES,
  US_POLLUTANTS,
  usAqi,
  usCategory,
  usHourlyAqi,
  usNowCast,
  usSubIndex,
  usTruncate,
  type UsAqiInput,
  type UsAqiResult,
  type UsBand,
  type UsHourlyInput,
  type UsHourlyResult,
  type UsPollutant,
  type UsTable,
} from './us-aqi.ts';
export {
  eightHourMeans,
  vnDailyAqi,
  vnDailyInputs,
  type VnDailyInput,
  type VnDayHours,
  type VnDayOptions,
} from './vn-daily.ts';
export {
  VN_BREAKPOINTS,
  VN_CATEGORIES,
  VN_COLUMNS,
  VN_INDEX_LEVELS,
  VN_POLLUTANTS,
  vnCategory,
  vnHourlyAqi,
  vnNowCast,
  vnNowCastDetail,
  vnSubIndex,
  type VnAqiResult,
  type VnColumn,
  type VnHourlyInput,
  type VnHourlyResult,
  type VnPollutant,
} from './vn-aqi.ts';

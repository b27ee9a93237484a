// Air-quality station model: PM2.5/PM10, NO₂, O₃, SO₂, CO (all µg/m³, CO too, as VN_AQI wants),
// temperature and humidity, with the seasonal level, daily traffic peaks and pollution episodes of Huế.
import { clamp, gaussAt, hashSeed, noiseSlot, round, smoothNoise, uniformAt } from './prng.ts';
import {
  CITY_STORY,
  HOUR_MS,
  hourBump,
  inCycle,
  localDay,
  localDayStart,
  localHour,
  monthly,
  type Model,
  type Scenario,
  type SimFields,
  type SimInstant,
} from './time.ts';

export interface AirQualityOptions {
  /** The world's seed: weather and episodes are shared by every station of the city. */
  readonly seed: number;
  readonly deviceId: string;
  readonly scenario: Scenario;
  /** Chance that a pollution episode starts on a given day in normal life. Default 0.08 (about one in
   * twelve days); an assumption, tune it against the station's history. */
  readonly episodesPerDay?: number;
}

// Monthly mean PM2.5 (µg/m³), mid-January first. Huế measures about 9–17 June–November and 18–22
// December–February (docs/hue-places.md, "Air quality"); March–May are interpolated between the two.
const PM25_MONTHLY = [21, 20, 18, 16, 14, 12, 10, 10, 11, 13, 16, 19] as const;

// Approximate monthly mean air temperature (°C) and relative humidity (%) for Huế's climate: a cool,
// very humid winter monsoon and a hot summer. Simulation values, not an official normal.
const TEMP_MONTHLY = [20, 21, 23, 26, 28, 29, 29, 29, 27, 25, 23, 21] as const;
const RH_MONTHLY = [90, 89, 87, 83, 79, 75, 74, 76, 84, 88, 90, 91] as const;

/** Traffic intensity over the local day in [0, 1]: rush hours about 7–9 h and 17–19 h. */
export function trafficShape(hour: number): number {
  return Math.max(hourBump(hour, 8, 1), hourBump(hour, 18, 1));
}

const BASE_FACTOR = 0.75;
const PEAK_GAIN = 0.7;
// Mean of the daily factor over 24 h, so the day averages to the monthly mean.
const DAILY_MEAN = (() => {
  let sum = 0;
  for (let m = 0; m < 24 * 60; m++) sum += BASE_FACTOR + PEAK_GAIN * trafficShape(m / 60);
  return sum / (24 * 60);
})();

/** PM2.5 daily-cycle factor, mean 1 over the day. */
export function pmDailyFactor(hour: number): number {
  return (BASE_FACTOR + PEAK_GAIN * trafficShape(hour)) / DAILY_MEAN;
}

interface Episode {
  readonly start: number;
  readonly durationMs: number;
  /** Peak multiplier added to the normal level (2 means three times the normal level at the peak). */
  readonly amplitude: number;
}

function sineSquared(x: number): number {
  return x <= 0 || x >= 1 ? 0 : Math.sin(Math.PI * x) ** 2;
}

/** The episode that starts on local `day`, if any: the same for every station of the city. */
function dailyEpisode(seed: number, day: number, perDay: number): Episode | undefined {
  const s = hashSeed(seed, 'episode');
  if (uniformAt(s, day * 4) >= perDay) return undefined;
  return {
    start: localDayStart(day) + (6 + 14 * uniformAt(s, day * 4 + 1)) * HOUR_MS,
    durationMs: (3 + 7 * uniformAt(s, day * 4 + 2)) * HOUR_MS,
    amplitude: 1 + 2 * uniformAt(s, day * 4 + 3),
  };
}

/** The `episode` scenario: ten hours of scenario time rising to six times the normal level. */
export const EPISODE_SCENARIO = { durationMs: 10 * HOUR_MS, amplitude: 5 } as const;

/** Episode intensity at `at` in [0, amplitude]: 0 outside episodes. */
export function episodeLevel(opts: AirQualityOptions, at: SimInstant): number {
  const perDay = opts.episodesPerDay ?? 0.08;
  let level = 0;
  const today = localDay(at.t);
  for (const day of [today - 1, today]) {
    const ep = dailyEpisode(opts.seed, day, perDay);
    if (ep) level = Math.max(level, ep.amplitude * sineSquared((at.t - ep.start) / ep.durationMs));
  }
  if (opts.scenario === 'episode') {
    const x = at.scenarioMs / EPISODE_SCENARIO.durationMs;
    level = Math.max(level, EPISODE_SCENARIO.amplitude * sineSquared(x));
  }
  if (opts.scenario === 'city') {
    const { cycleMs, startMs, durationMs, amplitude } = CITY_STORY.episode;
    level = Math.max(level, amplitude * sineSquared(inCycle(at.scenarioMs - startMs, cycleMs) / durationMs));
  }
  return level;
}

/** The station's reading at `at`: a pure function of the options and the instant. */
export function airQualityAt(opts: AirQualityOptions, at: SimInstant): SimFields {
  const { t } = at;
  const dev = hashSeed(opts.seed, opts.deviceId);
  const hour = localHour(t);
  const sample = noiseSlot(t);
  // Stations differ a little (a busy road, a park) but the city's air moves together.
  const site = 0.85 + 0.3 * uniformAt(dev, 0);
  const drift = 1 + 0.2 * smoothNoise(hashSeed(opts.seed, 'pm-drift'), t, 3 * HOUR_MS);
  const jitter = (k: number, sd: number): number => 1 + sd * gaussAt(dev, sample * 8 + k);
  const episode = episodeLevel(opts, at);
  const traffic = trafficShape(hour);

  const pm25 =
    monthly(PM25_MONTHLY, t) * pmDailyFactor(hour) * site * drift * (1 + episode) * jitter(0, 0.05);
  // PM10 is about 1.5–2 × PM2.5; episodes are combustion smoke, mostly fine particles, so the ratio
  // falls toward 1.5 while one lasts.
  const coarse = 0.5 * (0.5 + 0.5 * smoothNoise(dev, t, 6 * HOUR_MS)) * (1 / (1 + episode));
  const pm10 = pm25 * (1.5 + coarse) * jitter(1, 0.03);

  const no2 = (15 + 30 * traffic) * site * drift * (1 + 0.5 * episode) * jitter(2, 0.08);
  // Ozone is made by sunlight: low at night, highest early afternoon.
  const sun = Math.max(0, Math.sin((Math.PI * (hour - 7)) / 12)) ** 1.5;
  const o3 =
    (15 + 75 * sun) * (1 + 0.15 * smoothNoise(hashSeed(opts.seed, 'o3'), t, 4 * HOUR_MS)) * jitter(3, 0.06);
  const so2 =
    (6 + 4 * (0.5 + 0.5 * smoothNoise(dev + 1, t, 8 * HOUR_MS))) * (1 + 0.3 * episode) * jitter(4, 0.08);
  const co = (500 + 700 * traffic) * site * drift * (1 + episode) * jitter(5, 0.06);

  const daily = Math.cos((2 * Math.PI * (hour - 14.5)) / 24);
  const weather = smoothNoise(hashSeed(opts.seed, 'weather'), t, 2 * HOUR_MS);
  const temperature =
    monthly(TEMP_MONTHLY, t) + 4 * daily + 0.8 * weather + 0.1 * gaussAt(dev, sample * 8 + 6);
  const humidity = monthly(RH_MONTHLY, t) - 12 * daily - 3 * weather + 0.5 * gaussAt(dev, sample * 8 + 7);

  return {
    pm25: round(Math.max(0, pm25), 1),
    pm10: round(Math.max(0, pm10), 1),
    no2: round(Math.max(0, no2), 1),
    o3: round(Math.max(0, o3), 1),
    so2: round(Math.max(0, so2), 1),
    co: round(Math.max(0, co), 0),
    temperature: round(temperature, 1),
    humidity: round(clamp(humidity, 30, 99), 1),
  };
}

/** The station as a `Model` (it keeps no state: every reading is an instantaneous measurement). */
export function createAirQualityModel(opts: AirQualityOptions): Model<null> {
  return {
    initial: () => null,
    step: (state, at) => ({ state, fields: airQualityAt(opts, at) }),
  };
}

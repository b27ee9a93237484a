// Air quality: both indices with their official colours, the particles and gases per station, and the
// PM2.5 24-hour mean against Vietnam's limit.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

import type { DashboardContext } from './dashboard.ts';
import { field, unitOf } from './names.ts';
import { influx, stat, timeseries, type Step } from './panels.ts';
import { col, select, transform } from './query.ts';
import { chosenDevices, kindDashboard } from './variables.ts';
import { AQI, AQI_FIELDS, MEASUREMENTS, TAGS } from '../../measurements/index.ts';
import { US_CATEGORIES, VN_CATEGORIES, type AqiCategory } from '../../aqi/index.ts';

/** QCVN 05:2023/BTNMT, the PM2.5 24-hour limit (docs/domain.md); the Huế rule `pm25-24h-qcvn` uses it too. */
export const QCVN_PM25_24H = 50;

const AIR = MEASUREMENTS.air_quality;
const perDevice = { alias: '$tag_device' };

function categorySteps(categories: readonly AqiCategory[]): Step[] {
  return categories.map((c, i) => [i === 0 ? null : c.min, c.hex] as const);
}

/** `Tốt (Good) 0–50, Trung bình (Moderate) 51–100, …`: what the colours mean, for the descriptions. */
function categoryLegend(categories: readonly AqiCategory[], language: 'vi' | 'en'): string {
  return categories
    .map((c) => {
      const name = language === 'vi' && c.name.vi !== undefined ? `${c.name.vi} (${c.name.en})` : c.name.en;
      return `${name} ${c.min}–${c.max}`;
    })
    .join(', ');
}

function airSeries(fieldName: Parameters<typeof field<'air_quality'>>[1], title: string, width = 12) {
  return timeseries({
    title,
    unit: unitOf('air_quality', fieldName),
    width,
    queries: [
      influx(
        select({
          select: [col('mean', field('air_quality', fieldName), title)],
          from: AIR,
          where: chosenDevices,
          by: [TAGS.device],
        }),
        perDevice,
      ),
    ],
  });
}

function indexPanels(
  name: string,
  aqiField: string,
  categories: readonly AqiCategory[],
  language: 'vi' | 'en',
) {
  const steps = categorySteps(categories);
  const bands = categoryLegend(categories, language);
  return [
    stat({
      title: `${name} now`,
      description: `The latest hourly ${name} of each station, coloured by its category: ${bands}.`,
      names: true,
      unit: 'none',
      width: 6,
      height: 8,
      thresholds: steps,
      colorMode: 'background',
      queries: [
        influx(
          select({
            select: [col('last', aqiField, name)],
            from: AQI.name,
            where: chosenDevices,
            interval: false,
            by: [TAGS.device],
          }),
          perDevice,
        ),
      ],
    }),
    timeseries({
      title: `${name} per station`,
      description: `Hourly ${name} (NowCast for particles), the bands in the official category colours: ${bands}.`,
      unit: 'none',
      width: 18,
      min: 0,
      thresholds: steps,
      thresholdsStyle: 'bands',
      softMax: 150,
      queries: [
        influx(
          select({
            select: [col('max', aqiField, name)],
            from: AQI.name,
            where: chosenDevices,
            interval: '1h',
            by: [TAGS.device],
          }),
          perDevice,
        ),
      ],
    }),
  ];
}

export function airQualityDashboard(_ctx: DashboardContext): dashboard.Dashboard {
  const d = kindDashboard('air_quality', {
    uid: 'city-air-quality',
    title: 'Air quality',
    description:
      'VN_AQI and US AQI per station, particles, gases and the PM2.5 24-hour mean against QCVN 05:2023.',
    from: 'now-2d',
    refresh: '1m',
  }).withRow(new dashboard.RowBuilder('Air quality index'));
  for (const p of indexPanels('VN_AQI', AQI_FIELDS.vn.aqi, VN_CATEGORIES, 'vi')) d.withPanel(p);
  for (const p of indexPanels('US AQI', AQI_FIELDS.us.aqi, US_CATEGORIES, 'en')) d.withPanel(p);

  d.withRow(new dashboard.RowBuilder('Particles'))
    .withPanel(
      timeseries({
        title: 'PM2.5 24-hour mean',
        description: `The mean of the last 24 hourly means, against the national limit of ${QCVN_PM25_24H} µg/m³ (QCVN 05:2023/BTNMT).`,
        unit: unitOf('air_quality', 'pm25'),
        width: 24,
        min: 0,
        thresholds: [
          [null, 'green'],
          [QCVN_PM25_24H, 'red'],
        ],
        thresholdsStyle: 'dashed',
        softMax: QCVN_PM25_24H * 1.2,
        queries: [
          influx(
            select({
              // From 24 hours before the range, so the mean is there from its first hour.
              time: 'time >= ${__from}ms - 24h AND time <= ${__to}ms',
              select: [
                transform('moving_average', 'mean', field('air_quality', 'pm25'), 'PM2.5 24-hour mean', 24),
              ],
              from: AIR,
              where: chosenDevices,
              interval: '1h',
              by: [TAGS.device],
              fill: 'none',
            }),
            perDevice,
          ),
        ],
      }),
    )
    .withPanel(airSeries('pm25', 'PM2.5'))
    .withPanel(airSeries('pm10', 'PM10'))
    .withRow(new dashboard.RowBuilder('Gases'))
    .withPanel(airSeries('no2', 'NO₂', 6))
    .withPanel(airSeries('o3', 'O₃', 6))
    .withPanel(airSeries('so2', 'SO₂', 6))
    .withPanel(airSeries('co', 'CO', 6))
    .withRow(new dashboard.RowBuilder('Weather at the stations'))
    .withPanel(airSeries('temperature', 'Temperature'))
    .withPanel(airSeries('humidity', 'Humidity'));
  return d.build();
}

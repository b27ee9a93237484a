// Flood: each river gauge against its alarm levels 1/2/3, street-flood depth, and rain per hour and per 24
// hours. Nothing here is taken from a fleet file: the river panels repeat per `station` tag and draw the
// alarm levels each reading carries from the registry, the street panels select the `gauge` tag, so a
// gauge onboarded through the API appears without regenerating the dashboard.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { localDay, type DashboardContext } from './dashboard.ts';
import { field, registryField, unitOf } from './names.ts';
import { barGauge, totals, influx, limitLine, stat, thresholdsFromQuery, timeseries } from './panels.ts';
import { col, equals, select, tagMatches } from './query.ts';
import { chosenDevices, kindDashboard, stationVariable } from './variables.ts';
import { MEASUREMENTS, TAGS } from '../../measurements/index.ts';

const FLOOD = MEASUREMENTS.flood;
const LEVEL = field('flood', 'water_level_m');
const RAIN = field('flood', 'rain_mm');
const perDevice = { alias: '$tag_device' };
/** Alarm levels 1, 2, 3 (BĐ1–BĐ3): the columns of the alarm query and their colours. */
const ALARMS = [
  [registryField('flood', 'alarm_1_m'), 'alarm 1', 'yellow'],
  [registryField('flood', 'alarm_2_m'), 'alarm 2', 'orange'],
  [registryField('flood', 'alarm_3_m'), 'alarm 3', 'red'],
] as const;
/** The gauge of the repeated row: one station. */
const atStation = tagMatches(TAGS.station, 'station');
const streetGauges = equals(TAGS.gauge, 'street');

/** Rain per `interval` of each gauge reporting rain, as steps (bars of several gauges hide each other). */
function rainTotals(title: string, interval: string, width: number) {
  return totals({
    title,
    style: 'steps',
    unit: unitOf('flood', 'rain_mm'),
    width,
    query: {
      select: [col('sum', RAIN, 'rain')],
      from: FLOOD,
      where: chosenDevices,
      interval,
      by: [TAGS.device],
      fill: '0',
    },
    alias: perDevice.alias,
  });
}

/** The alarm levels the station's readings carry, as columns `alarm 1`...; per interval for a chart. */
function alarmLevels(interval?: false) {
  return select({
    select: ALARMS.map(([f, alias]) => col('last', f, alias)),
    from: FLOOD,
    where: [atStation],
    ...(interval === false ? { interval: false as const } : { fill: 'previous' as const }),
  });
}

const riverDescription =
  'Water level above the gauge datum. Dashed lines: the alarm levels 1/2/3 of the gauge in the registry, as they stood at each reading.';

/** The chart and the latest level of the gauge of one station; the row repeats them per station. */
function riverPanels() {
  return [
    timeseries({
      title: '$station: water level',
      description: riverDescription,
      unit: unitOf('flood', 'water_level_m'),
      width: 18,
      // Dry weather too: the alarm lines are series, so the axis reaches them.
      softMin: 0,
      overrides: ALARMS.map(([, alias, color]) => limitLine(alias, color)),
      queries: [
        influx(select({ select: [col('max', LEVEL, 'water level')], from: FLOOD, where: [atStation] })),
        influx(alarmLevels()),
      ],
    }),
    stat({
      title: '$station: now',
      description: `${riverDescription} Coloured by the alarm level reached.`,
      unit: unitOf('flood', 'water_level_m'),
      width: 6,
      height: 8,
      decimals: 2,
      thresholds: [[null, 'green']],
      colorMode: 'background',
      transformations: [
        thresholdsFromQuery(
          'B',
          ALARMS.map(([, alias, color]) => [alias, color]),
        ),
      ],
      queries: [
        influx(
          select({
            select: [col('last', LEVEL, 'water level')],
            from: FLOOD,
            where: [atStation],
            interval: false,
          }),
        ),
        influx(alarmLevels(false)),
      ],
    }),
  ];
}

export function floodDashboard({ timezone }: DashboardContext): dashboard.Dashboard {
  const day = localDay(timezone);
  const d = kindDashboard('flood', {
    uid: 'city-flood',
    title: 'Flood',
    description:
      'River levels against alarm levels 1/2/3, street-flood depth, rain per hour and per 24 hours.',
    from: 'now-3d',
    refresh: '1m',
  })
    .withVariable(stationVariable())
    .withRow(new dashboard.RowBuilder('River at $station').repeat('station'));
  for (const p of riverPanels()) d.withPanel(p);

  d.withRow(new dashboard.RowBuilder('Streets'))
    .withPanel(
      timeseries({
        title: 'Street-flood depth',
        description:
          'Water depth on the road at the street gauges; the line at 20 cm is where the Huế rule street-flooded warns.',
        unit: unitOf('flood', 'water_level_m'),
        width: 24,
        min: 0,
        thresholds: [
          [null, 'green'],
          [0.2, 'red'],
        ],
        thresholdsStyle: 'dashed',
        softMax: 0.3,
        queries: [
          influx(
            select({
              select: [col('max', LEVEL, 'depth')],
              from: FLOOD,
              where: [streetGauges, ...chosenDevices],
              by: [TAGS.device],
            }),
            perDevice,
          ),
        ],
      }),
    )
    .withRow(new dashboard.RowBuilder('Rain'))
    .withPanel(rainTotals('Rain per hour', '1h', 16))
    .withPanel(
      barGauge({
        title: 'Rain in the last 24 hours',
        description:
          'Whatever the dashboard range: the 24 hours up to now. Heavy above 50 mm, very heavy above 100 mm (the Huế rule heavy-rain-24h).',
        unit: unitOf('flood', 'rain_mm'),
        width: 8,
        min: 0,
        reduce: 'sum',
        thresholds: [
          [null, 'green'],
          [50, 'orange'],
          [100, 'red'],
        ],
        queries: [
          influx(
            select({
              select: [col('sum', RAIN, 'rain 24 h')],
              from: FLOOD,
              time: 'time > now() - 24h',
              where: chosenDevices,
              interval: false,
              by: [TAGS.device],
            }),
            perDevice,
          ),
        ],
      }),
    )
    .withPanel(rainTotals('Rain per day', day, 24))
    .withRow(new dashboard.RowBuilder('Gauges'))
    .withPanel(
      timeseries({
        title: 'Battery',
        unit: unitOf('flood', 'battery_v'),
        width: 24,
        queries: [
          influx(
            select({
              select: [col('mean', field('flood', 'battery_v'), 'battery')],
              from: FLOOD,
              where: chosenDevices,
              by: [TAGS.device],
            }),
            perDevice,
          ),
        ],
      }),
    );
  return d.build();
}

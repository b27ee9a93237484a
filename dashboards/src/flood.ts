// Flood: each river gauge against its alarm levels 1/2/3 (from the registry metadata of the fleet),
// street-flood depth, and rain per hour and per 24 hours.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { type Fleet } from '../../devices/index.ts';
import { localDay, type DashboardContext } from './dashboard.ts';
import { field, unitOf } from './names.ts';
import { barGauge, totals, influx, stat, timeseries, type Step } from './panels.ts';
import { col, equals, select, tagIn, tagMatches } from './query.ts';
import { chosenDevices, kindDashboard } from './variables.ts';
import { MEASUREMENTS, TAGS } from '../../measurements/index.ts';

const FLOOD = MEASUREMENTS.flood;
const LEVEL = field('flood', 'water_level_m');
const RAIN = field('flood', 'rain_mm');
/** Alarm 1, 2, 3 (BĐ1–BĐ3). */
const ALARM_COLOURS = ['yellow', 'orange', 'red'] as const;
const perDevice = { alias: '$tag_device' };

interface RiverGauge {
  readonly id: string;
  readonly title: string;
  readonly levels: readonly [number, number, number];
}

export function riverGauges(fleet: Fleet): RiverGauge[] {
  return fleet.devices.flatMap((d) =>
    d.kind === 'flood' && d.meta.type === 'river' && d.meta.alarm_levels_m !== undefined
      ? [
          {
            id: d.id,
            title: d.meta.river !== undefined ? `${d.meta.station ?? d.name} (${d.meta.river})` : d.name,
            levels: d.meta.alarm_levels_m,
          },
        ]
      : [],
  );
}

function floodDevices(fleet: Fleet, type: 'street' | 'rain'): string[] {
  return fleet.devices.filter((d) => d.kind === 'flood' && d.meta.type === type).map((d) => d.id);
}

/** Rain of the rain gauges summed per `interval`, as steps (bars of several gauges would hide each other). */
function rainTotals(title: string, interval: string, gauges: readonly string[], width: number) {
  return totals({
    title,
    style: 'steps',
    unit: unitOf('flood', 'rain_mm'),
    width,
    query: {
      select: [col('sum', RAIN, 'rain')],
      from: FLOOD,
      where: [tagIn(TAGS.device, gauges), ...chosenDevices],
      interval,
      by: [TAGS.device],
      fill: '0',
    },
    alias: perDevice.alias,
  });
}

function alarmSteps(levels: readonly number[]): Step[] {
  return [[null, 'green'], ...levels.map((l, i) => [l, ALARM_COLOURS[i] ?? 'red'] as const)];
}

function riverPanels(g: RiverGauge) {
  const steps = alarmSteps(g.levels);
  const description = `Water level above the gauge datum; dashed lines: alarm levels ${g.levels.join(' / ')} m.`;
  const latest = select({
    select: [col('last', LEVEL, 'water level')],
    from: FLOOD,
    where: [equals(TAGS.device, g.id)],
    interval: false,
  });
  return [
    timeseries({
      title: `${g.title} water level`,
      description,
      unit: unitOf('flood', 'water_level_m'),
      width: 18,
      thresholds: steps,
      thresholdsStyle: 'dashed',
      // The alarm lines are in view in dry weather too.
      softMin: 0,
      softMax: g.levels[2] + 0.5,
      queries: [
        influx(
          select({
            select: [col('max', LEVEL, 'water level')],
            from: FLOOD,
            where: [equals(TAGS.device, g.id)],
          }),
        ),
      ],
    }),
    stat({
      title: `${g.title} now`,
      description,
      unit: unitOf('flood', 'water_level_m'),
      width: 6,
      height: 8,
      decimals: 2,
      thresholds: steps,
      colorMode: 'background',
      queries: [influx(latest)],
    }),
  ];
}

export function floodDashboard({ fleet, timezone }: DashboardContext): dashboard.Dashboard {
  const day = localDay(timezone);
  const d = kindDashboard('flood', {
    uid: 'city-flood',
    title: 'Flood',
    description:
      'River levels against alarm levels 1/2/3, street-flood depth, rain per hour and per 24 hours.',
    from: 'now-3d',
    refresh: '1m',
  }).withRow(new dashboard.RowBuilder('Rivers'));
  for (const g of riverGauges(fleet)) for (const p of riverPanels(g)) d.withPanel(p);

  const streets = floodDevices(fleet, 'street');
  const rain = floodDevices(fleet, 'rain');
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
              where: [tagIn(TAGS.device, streets), ...chosenDevices],
              by: [TAGS.device],
            }),
            perDevice,
          ),
        ],
      }),
    )
    .withRow(new dashboard.RowBuilder('Rain'))
    .withPanel(rainTotals('Rain per hour', '1h', rain, 16))
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
              where: [tagIn(TAGS.device, rain), tagMatches(TAGS.district, 'district')],
              interval: false,
              by: [TAGS.device],
            }),
            perDevice,
          ),
        ],
      }),
    )
    .withPanel(rainTotals('Rain per day', day, rain, 24))
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

// Streetlights: lamps on and off against the sun, power against each street's rated wattage, energy per
// street and lighting faults. Nothing here is taken from a fleet file: the power panel repeats per `street`
// tag and draws the rated power and limit each lamp's readings carry from the registry, and energy per
// street groups by the same tag, so a lamp or a street onboarded through the API appears by itself.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { alertEventsTable } from './alerts.ts';
import type { DashboardContext } from './dashboard.ts';
import { field, registryField, unitOf } from './names.ts';
import {
  barGauge,
  influx,
  limitLine,
  stateTimeline,
  thresholdsConfig,
  timeseries,
  valueText,
} from './panels.ts';
import { col, equals, isTrue, select, tagMatches, transform } from './query.ts';
import { statusField, statusTag, STATUS_MEASUREMENT } from './health.ts';
import { chosenDevices, commandAnnotations, kindDashboard, streetVariable } from './variables.ts';
import { ALERT_TAGS, MEASUREMENTS, TAGS } from '../../measurements/index.ts';

const LIGHTS = MEASUREMENTS.streetlight;
const perDevice = { alias: '$tag_device' };
/** The sun's upper limb on the horizon, with standard refraction: sunrise and sunset. */
const HORIZON_DEG = -0.833;
/** The Huế rule silent-streetlight's `for`: a longer gap in a lamp's reports is not bridged. */
const LAMP_SILENT_MS = 60 * 60_000;

const sunMappings: dashboard.ValueMapping[] = [
  {
    type: dashboard.MappingType.RangeToText,
    options: { from: -90, to: HORIZON_DEG, result: { text: 'night', color: 'dark-blue', index: 0 } },
  },
  {
    type: dashboard.MappingType.RangeToText,
    options: { from: HORIZON_DEG, to: 90, result: { text: 'day', color: 'yellow', index: 1 } },
  },
];

const RATED = registryField('streetlight', 'rated_w');
const LIMIT = registryField('streetlight', 'power_limit_w');

/** The power of the lamps of one street against their rated power and limit; repeated per street. */
function powerPanel() {
  const onStreet = tagMatches(TAGS.street, 'street');
  return timeseries({
    title: '$street: power',
    description:
      'Each lamp of the street. Dashed lines: the rated power in the registry (green), and the limit the tolerance adds to it (red), above which lamp-power-too-high fires.',
    unit: unitOf('streetlight', 'power_w'),
    // The whole row: Grafana splits it among the copies, at most three side by side.
    width: 24,
    min: 0,
    repeat: { variable: 'street', perRow: 3 },
    overrides: [limitLine('rated', 'green'), limitLine('limit', 'red')],
    queries: [
      influx(
        select({
          select: [col('mean', field('streetlight', 'power_w'), 'power')],
          from: LIGHTS,
          where: [onStreet, ...chosenDevices],
          by: [TAGS.device],
        }),
        perDevice,
      ),
      influx(
        select({
          select: [col('max', RATED, 'rated'), col('max', LIMIT, 'limit')],
          from: LIGHTS,
          where: [onStreet, ...chosenDevices],
          fill: 'previous',
        }),
      ),
    ],
  });
}

export function streetlightsDashboard(_context: DashboardContext): dashboard.Dashboard {
  const lampOn = field('streetlight', 'lamp_on');
  const d = kindDashboard('streetlight', {
    uid: 'city-streetlights',
    title: 'Streetlights',
    description:
      'Lamps on and off against sunset and sunrise, power against rated wattage, energy per street, faults.',
    from: 'now-2d',
    refresh: '1m',
  })
    .withVariable(streetVariable())
    .annotation(commandAnnotations('streetlight'))
    .withRow(new dashboard.RowBuilder('On and off'))
    .withPanel(
      stateTimeline({
        title: 'Lamps on and off, and the sun',
        description: `Each lamp's reports, and on the row "sun" night (the sun below ${HORIZON_DEG}°, after sunset and before sunrise) and day at the lamps: a lamp should be on at night only. A lamp silent for over an hour shows no state.`,
        unit: 'none',
        width: 24,
        height: 12,
        bridgeGapsMs: LAMP_SILENT_MS,
        mappings: [
          valueText({ true: { text: 'on', color: 'yellow' }, false: { text: 'off', color: 'dark-blue' } }),
        ],
        overrides: [
          {
            name: 'sun',
            properties: [
              {
                id: 'thresholds',
                value: thresholdsConfig([
                  [null, 'dark-blue'],
                  [HORIZON_DEG, 'yellow'],
                ]),
              },
              { id: 'color', value: { mode: 'thresholds' } },
              { id: 'mappings', value: sunMappings },
            ],
          },
        ],
        queries: [
          influx(
            select({
              select: [col('last', lampOn, 'lamp')],
              from: LIGHTS,
              where: chosenDevices,
              by: [TAGS.device],
            }),
            perDevice,
          ),
          influx(
            select({
              select: [col('mean', statusField('sun_altitude_deg'), 'sun')],
              from: STATUS_MEASUREMENT,
              where: [equals(statusTag('kind'), 'streetlight'), ...chosenDevices],
            }),
          ),
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Lamps on',
        description: 'Lamps whose last report says on.',
        unit: 'short',
        width: 24,
        min: 0,
        queries: [
          influx(
            select({
              select: [col('count', 'on', 'lamps on')],
              from: {
                subquery: select({
                  select: [col('last', lampOn, 'on')],
                  from: LIGHTS,
                  where: chosenDevices,
                  by: [TAGS.device],
                  fill: 'previous',
                }),
              },
              where: [isTrue('on')],
            }),
          ),
        ],
      }),
    )
    .withRow(new dashboard.RowBuilder('Power and energy'))
    .withPanel(powerPanel());
  d.withPanel(
    barGauge({
      title: 'Energy per street',
      description:
        'Energy drawn over the dashboard range, from the lamps’ cumulative meters, per the `street` tag each reading carries from the registry: a lamp or a street onboarded later appears here without regenerating the dashboard.',
      unit: unitOf('streetlight', 'energy_kwh'),
      width: 12,
      reduce: 'sum',
      queries: [
        influx(
          select({
            select: [col('sum', 'kwh', 'energy')],
            from: {
              subquery: select({
                select: [
                  transform('non_negative_difference', 'last', field('streetlight', 'energy_kwh'), 'kwh'),
                ],
                from: LIGHTS,
                where: [...chosenDevices, tagMatches(TAGS.street, 'street')],
                interval: '1h',
                by: [TAGS.device, TAGS.street],
              }),
            },
            interval: false,
            by: [TAGS.street],
          }),
          { alias: '$tag_street' },
        ),
      ],
    }),
  ).withPanel(
    timeseries({
      title: 'Supply voltage',
      unit: unitOf('streetlight', 'voltage_v'),
      width: 12,
      queries: [
        influx(
          select({
            select: [col('mean', field('streetlight', 'voltage_v'), 'voltage')],
            from: LIGHTS,
            where: chosenDevices,
            by: [TAGS.device],
          }),
          perDevice,
        ),
      ],
    }),
  );

  const [rule, kind, device, district, severity, , event] = ALERT_TAGS;
  d.withRow(new dashboard.RowBuilder('Faults')).withPanel(
    alertEventsTable({
      title: 'Lighting faults raised',
      description: 'Lamp failure, day burning and power too high, as the rules raised them.',
      columns: [rule, device, severity],
      fields: ['message', 'state'],
      where: [equals(kind, 'streetlight'), equals(event, 'raised'), tagMatches(district, 'district')],
      newest: 500,
    }),
  );
  return d.build();
}

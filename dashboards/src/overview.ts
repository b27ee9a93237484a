// The city at a glance: every device on a map coloured by status, open alerts by severity and owner,
// the readings coming in, and the devices gone silent.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

import { severityStats, ownerGauge } from './alerts.ts';
import { newDashboard } from './dashboard.ts';
import {
  PLATFORM_MEASUREMENT,
  platformField,
  platformUnit,
  STATUS_MEASUREMENT,
  statusField,
  statusTag,
} from './health.ts';
import { COLOR, geomap, mapped, influx, stat, table, timeseries, valueText, type Step } from './panels.ts';
import { col, equals, select, tagMatches } from './query.ts';
import { alertAnnotations, districtVariable, kindVariable } from './variables.ts';
import { DEVICE_STATUSES } from '../../measurements/index.ts';

const STATUS_COLOUR = { ok: COLOR.ok, alerting: COLOR.critical, silent: COLOR.silent } as const;
const statusSteps: Step[] = DEVICE_STATUSES.map((s, code) => [code === 0 ? null : code, STATUS_COLOUR[s]]);
const statusNames = valueText(
  Object.fromEntries(DEVICE_STATUSES.map((s, code) => [String(code), { text: s, color: STATUS_COLOUR[s] }])),
);
const chosen = [tagMatches(statusTag('kind'), 'kind'), tagMatches(statusTag('district'), 'district')];
const byDevice = [statusTag('device'), statusTag('kind'), statusTag('district')];

/** Each device's last status in the range, with its position and name. */
function lastStatus(): string {
  return select({
    select: [
      col('last', statusField('lat'), 'lat'),
      col('last', statusField('lon'), 'lon'),
      col('last', statusField('status_code'), 'status_code'),
      col('last', statusField('name'), 'name'),
      col('last', statusField('open_alerts'), 'open_alerts'),
    ],
    from: STATUS_MEASUREMENT,
    where: chosen,
    interval: false,
    by: byDevice,
  });
}

export function overviewDashboard(): dashboard.Dashboard {
  const silentCode = DEVICE_STATUSES.indexOf('silent');
  const silent = select({
    select: [col('raw', 'name'), col('raw', 'status_code', 'status')],
    from: { subquery: lastStatus() },
    where: [equals('status_code', silentCode)],
    interval: false,
    by: byDevice,
  });
  const d = newDashboard({
    uid: 'city-overview',
    title: 'City overview',
    description:
      'Every device on the map by status, open alerts by severity and owner, readings per second, silent devices.',
    from: 'now-6h',
    refresh: '30s',
  })
    .withVariable(kindVariable())
    .withVariable(districtVariable([STATUS_MEASUREMENT]))
    .annotation(alertAnnotations());
  for (const p of severityStats(6)) d.withPanel(p);
  d.withPanel(
    stat({
      title: 'Silent devices',
      unit: 'short',
      width: 6,
      noValue: '0',
      colorMode: 'background',
      thresholds: [
        [null, COLOR.ok],
        [1, COLOR.silent],
      ],
      queries: [
        influx(
          select({
            select: [col('count', 'status_code', 'silent')],
            from: { subquery: lastStatus() },
            where: [equals('status_code', silentCode)],
            interval: false,
          }),
          { format: 'table' },
        ),
      ],
    }),
  )
    .withPanel(
      geomap({
        title: 'Devices',
        description: 'Green: ok. Red: an alert is open. Purple: silent (an absence rule fired).',
        unit: 'none',
        width: 16,
        height: 16,
        colorField: 'status_code',
        thresholds: statusSteps,
        overrides: [mapped('status_code', statusNames)],
        queries: [influx(lastStatus(), { format: 'table' })],
      }),
    )
    .withPanel(ownerGauge(8, 16))
    .withPanel(
      timeseries({
        title: 'Readings per second',
        unit: platformUnit('readings_per_s'),
        width: 24,
        min: 0,
        queries: [
          influx(
            select({
              select: [col('mean', platformField('readings_per_s'), 'readings/s')],
              from: PLATFORM_MEASUREMENT,
            }),
          ),
        ],
      }),
    )
    .withPanel(
      table({
        title: 'Silent devices',
        description: 'Devices with an open alert of an absence rule: nothing heard from them for too long.',
        unit: 'none',
        width: 24,
        height: 8,
        noValue: 'No silent device',
        overrides: [mapped('status', statusNames)],
        queries: [influx(silent, { format: 'table' })],
      }),
    );
  return d.build();
}

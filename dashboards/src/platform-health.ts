// Platform health, from the points the platform writes about itself every few seconds: ingest rate,
// rejected messages by reason, spool depth, InfluxDB write latency, connected clients.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { newDashboard, type DashboardContext } from './dashboard.ts';
import {
  PLATFORM_MEASUREMENT,
  platformField,
  platformUnit,
  REJECTIONS_MEASUREMENT,
  rejectionsField,
  rejectionsTag,
} from './health.ts';
import { bars, influx, stat, timeseries } from './panels.ts';
import { col, select } from './query.ts';

type PlatformField = Parameters<typeof platformField>[0];

function series(
  title: string,
  fields: readonly [PlatformField, string, 'mean' | 'max' | 'sum'][],
  width = 12,
) {
  return timeseries({
    title,
    unit: platformUnit(fields[0]![0]),
    width,
    min: 0,
    queries: [
      influx(
        select({
          select: fields.map(([f, alias, fn]) => col(fn, platformField(f), alias)),
          from: PLATFORM_MEASUREMENT,
        }),
      ),
    ],
  });
}

function now(title: string, f: PlatformField, width = 4) {
  return stat({
    title,
    unit: platformUnit(f),
    width,
    queries: [
      influx(
        select({
          select: [col('last', platformField(f), title)],
          from: PLATFORM_MEASUREMENT,
          interval: false,
        }),
        {
          format: 'table',
        },
      ),
    ],
  });
}

export function platformHealthDashboard(_ctx: DashboardContext): dashboard.Dashboard {
  return newDashboard({
    uid: 'city-platform',
    title: 'Platform health',
    description:
      'Ingest rate, rejected messages by reason, spool depth, InfluxDB write latency, connected devices.',
    from: 'now-1h',
    refresh: '10s',
  })
    .withPanel(now('Readings/s', 'readings_per_s'))
    .withPanel(now('Connected clients', 'clients'))
    .withPanel(now('Spool lines', 'spool_lines'))
    .withPanel(now('Open alerts', 'open_alerts'))
    .withPanel(now('Write max', 'write_ms_max'))
    .withPanel(now('Write failures', 'write_failures'))
    .withRow(new dashboard.RowBuilder('Ingest'))
    .withPanel(series('Readings per second', [['readings_per_s', 'accepted/s', 'mean']]))
    .withPanel(
      series('Readings in and stored', [
        ['readings', 'accepted', 'sum'],
        ['stored', 'stored', 'sum'],
        ['rejected', 'rejected', 'sum'],
      ]),
    )
    .withPanel(
      bars({
        title: 'Rejected messages by reason',
        description:
          'Every refused message is kept as a dead letter with its reason code (README, "Error codes").',
        unit: 'short',
        width: 24,
        query: {
          select: [col('sum', rejectionsField('count'), 'rejected')],
          from: REJECTIONS_MEASUREMENT,
          by: [rejectionsTag('reason'), rejectionsTag('kind')],
          fill: 'none',
        },
        alias: '$tag_reason ($tag_kind)',
      }),
    )
    .withRow(new dashboard.RowBuilder('Storage'))
    .withPanel(series('Spool depth (lines)', [['spool_lines', 'pending lines', 'max']], 8))
    .withPanel(series('Spool depth (bytes)', [['spool_bytes', 'pending bytes', 'max']], 8))
    .withPanel(series('InfluxDB write failures', [['write_failures', 'failures', 'sum']], 8))
    .withPanel(
      series('InfluxDB write latency', [
        ['write_ms_mean', 'mean', 'mean'],
        ['write_ms_max', 'max', 'max'],
      ]),
    )
    .withPanel(series('Connected MQTT clients', [['clients', 'clients', 'max']]))
    .build();
}

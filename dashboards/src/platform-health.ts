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
import { totals, influx, stat, timeseries } from './panels.ts';
import { col, select } from './query.ts';

type PlatformField = Parameters<typeof platformField>[0];

function series(
  title: string,
  fields: readonly [PlatformField, string, 'mean' | 'max' | 'sum'][],
  width = 12,
  /** Sums need a fixed interval, or their height changes with the zoom. */
  interval?: string,
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
          ...(interval !== undefined ? { interval } : {}),
        }),
      ),
    ],
  });
}

/** One figure: the latest value, or the sum or maximum over the dashboard's range. */
function figure(title: string, f: PlatformField, fn: 'last' | 'sum' | 'max' = 'last', width = 4) {
  return stat({
    title,
    unit: platformUnit(f),
    width,
    queries: [
      influx(
        select({
          select: [col(fn, platformField(f), title)],
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
      'Ingest rate, rejected messages by reason, spool depth, InfluxDB write latency, connected devices, event-loop lag.',
    from: 'now-1h',
    refresh: '10s',
  })
    .withPanel(figure('Readings/s', 'readings_per_s'))
    .withPanel(figure('Connected clients', 'clients'))
    .withPanel(figure('Spool lines', 'spool_lines'))
    .withPanel(figure('Open alerts', 'open_alerts'))
    .withPanel(figure('Longest write', 'write_ms_max', 'max'))
    .withPanel(figure('Write failures', 'write_failures', 'sum'))
    .withRow(new dashboard.RowBuilder('Ingest'))
    .withPanel(series('Readings per second', [['readings_per_s', 'accepted/s', 'mean']]))
    .withPanel(
      series(
        'Readings accepted, lines stored, messages rejected, per minute',
        [
          ['readings', 'accepted', 'sum'],
          ['stored', 'stored', 'sum'],
          ['rejected', 'rejected', 'sum'],
        ],
        12,
        '1m',
      ),
    )
    .withPanel(
      totals({
        title: 'Rejected messages by reason, per minute',
        description:
          'Every refused message is kept as a dead letter with its reason code (README, "Error codes").',
        unit: 'short',
        width: 24,
        stack: true,
        query: {
          select: [col('sum', rejectionsField('count'), 'rejected')],
          from: REJECTIONS_MEASUREMENT,
          interval: '1m',
          by: [rejectionsTag('reason'), rejectionsTag('kind')],
          fill: 'none',
        },
        alias: '$tag_reason ($tag_kind)',
      }),
    )
    .withRow(new dashboard.RowBuilder('Storage'))
    .withPanel(series('Spool depth (lines)', [['spool_lines', 'pending lines', 'max']], 8))
    .withPanel(series('Spool depth (bytes)', [['spool_bytes', 'pending bytes', 'max']], 8))
    .withPanel(series('InfluxDB write failures per minute', [['write_failures', 'failures', 'sum']], 8, '1m'))
    .withPanel(
      series('InfluxDB write latency', [
        ['write_ms_mean', 'mean', 'mean'],
        ['write_ms_max', 'max', 'max'],
      ]),
    )
    .withPanel(series('Connected MQTT clients', [['clients', 'clients', 'max']]))
    .withRow(new dashboard.RowBuilder('Process'))
    .withPanel(
      series('Event-loop lag', [
        ['event_loop_lag_ms_p99', 'p99', 'max'],
        ['event_loop_lag_ms_max', 'max', 'max'],
      ]),
    )
    .build();
}

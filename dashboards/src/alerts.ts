// Alerts: what is open now, by severity and owner, the history of events, how long owners take to
// acknowledge (against their own targets) and to resolve, escalations, and the notifications' deliveries. "Open now" is the last event of each (rule, device) within the last 30
// days whose `open` is 1: an alert open longer than that drops out of these panels (the API lists it).
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

import { localDay, newDashboard, type DashboardContext } from './dashboard.ts';
import { alertField, alertUnit, notificationField } from './names.ts';
import { barGauge, COLOR, mapped, totals, influx, stat, table, valueText } from './panels.ts';
import { col, tagCol, equals, notEquals, select, tagMatches } from './query.ts';
import { alertAnnotations, districtVariable, kindVariable } from './variables.ts';
import {
  ALERT_TAGS,
  type AlertField,
  type AlertTag,
  MEASUREMENTS,
  NOTIFICATION_TAGS,
  SEVERITY_RANK,
} from '../../measurements/index.ts';

const ALERTS = MEASUREMENTS.alerts;
const [RULE, KIND, DEVICE, DISTRICT, SEVERITY, OWNER, EVENT] = ALERT_TAGS;
const NOTIFICATIONS = MEASUREMENTS.notifications;
const [AGENCY, RECEIVER, RECEIVER_TYPE, OUTCOME] = NOTIFICATION_TAGS;
const OPEN_WINDOW = 'time > now() - 30d';
const chosen = [tagMatches(KIND, 'kind'), tagMatches(DISTRICT, 'district')];

/** The last event of each open alert, with `columns` of its fields, keyed by `by` tags. */
function openAlerts(columns: readonly string[], by: readonly string[]): string {
  return select({
    select: [alertField('open'), ...columns].map((c) => col('last', c)),
    from: ALERTS,
    time: OPEN_WINDOW,
    where: chosen,
    interval: false,
    by: [RULE, DEVICE, ...by],
  });
}

export type SeverityName = keyof typeof SEVERITY_RANK;

/** Open alerts of one severity now. */
export function openCount(severity: SeverityName): string {
  return select({
    select: [col('count', alertField('open'), severity)],
    from: { subquery: openAlerts([alertField('severity_rank')], []) },
    time: OPEN_WINDOW,
    where: [equals(alertField('open'), 1), equals(alertField('severity_rank'), SEVERITY_RANK[severity])],
    interval: false,
  });
}

/** Open alerts now per owner. */
export function openByOwner(): string {
  return select({
    select: [col('count', alertField('open'), 'open alerts')],
    from: { subquery: openAlerts([], [OWNER]) },
    time: OPEN_WINDOW,
    where: [equals(alertField('open'), 1)],
    interval: false,
    by: [OWNER],
  });
}

const SEVERITY_COLOUR: Record<SeverityName, string> = {
  info: COLOR.info,
  warning: COLOR.warning,
  critical: COLOR.critical,
};

export function severityStats(width = 4) {
  return (Object.keys(SEVERITY_RANK) as SeverityName[]).reverse().map((s) =>
    stat({
      title: `Open ${s}`,
      unit: 'short',
      width,
      noValue: '0',
      colorMode: 'background',
      thresholds: [
        [null, COLOR.ok],
        [1, SEVERITY_COLOUR[s]],
      ],
      queries: [influx(openCount(s), { format: 'table' })],
    }),
  );
}

export function ownerGauge(width = 12, height = 8) {
  return barGauge({
    title: 'Open alerts by owner',
    unit: 'short',
    width,
    height,
    min: 0,
    thresholds: [
      [null, COLOR.ok],
      [1, COLOR.warning],
    ],
    queries: [influx(openByOwner(), { alias: '$tag_owner' })],
  });
}

const severityNames = valueText(
  Object.fromEntries(
    Object.entries(SEVERITY_RANK).map(([name, rank]) => [
      String(rank),
      { text: name, color: SEVERITY_COLOUR[name as SeverityName] },
    ]),
  ),
);

export function openTable(width = 24) {
  const columns = ['alert_id', 'severity_rank', 'state', 'level', 'message'] as const;
  return table({
    title: 'Open alerts',
    description: 'Every alert open or acknowledged now. Acknowledge and resolve them through the API.',
    unit: 'none',
    width,
    sortBy: { column: 'severity', desc: true },
    overrides: [mapped('severity', severityNames)],
    queries: [
      influx(
        select({
          select: [
            col('raw', alertField('alert_id'), 'id'),
            col('raw', alertField('severity_rank'), 'severity'),
            col('raw', alertField('state'), 'state'),
            col('raw', alertField('level'), 'level'),
            col('raw', alertField('message'), 'message'),
          ],
          from: { subquery: openAlerts(columns.map(alertField), [KIND, DISTRICT, OWNER]) },
          time: OPEN_WINDOW,
          where: [equals(alertField('open'), 1)],
          interval: false,
          by: [RULE, DEVICE, KIND, DISTRICT, OWNER],
        }),
        { format: 'table' },
      ),
    ],
  });
}

export interface AlertEventsOptions {
  readonly title: string;
  readonly description: string;
  /** Tags shown as columns, under their own names. */
  readonly columns: readonly AlertTag[];
  readonly fields: readonly AlertField[];
  readonly where: readonly string[];
  readonly newest: number;
}

/** The newest alert events as a table, newest first. */
export function alertEventsTable(o: AlertEventsOptions) {
  return table({
    title: o.title,
    description: o.description,
    unit: 'none',
    width: 24,
    sortBy: { column: 'Time', desc: true },
    queries: [
      influx(
        select({
          select: [...o.columns.map((t) => tagCol(t)), ...o.fields.map((f) => col('raw', alertField(f)))],
          from: ALERTS,
          where: o.where,
          interval: false,
          newest: o.newest,
        }),
        { format: 'table' },
      ),
    ],
  });
}

function timeTo(fieldName: 'ack_ms' | 'resolve_ms', title: string, day: string) {
  return [
    barGauge({
      title: `Mean time to ${title} by owner`,
      description: `Over the alerts ${title === 'acknowledge' ? 'acknowledged' : 'resolved'} in the dashboard range.`,
      unit: alertUnit(fieldName),
      width: 12,
      min: 0,
      queries: [
        influx(
          select({
            select: [col('mean', alertField(fieldName), `time to ${title}`)],
            from: ALERTS,
            where: chosen,
            interval: false,
            by: [OWNER],
          }),
          { alias: '$tag_owner' },
        ),
      ],
    }),
    totals({
      title: `Time to ${title} per owner, daily mean`,
      unit: alertUnit(fieldName),
      width: 12,
      style: 'points',
      query: {
        select: [col('mean', alertField(fieldName), `time to ${title}`)],
        from: ALERTS,
        where: chosen,
        interval: day,
        by: [OWNER],
        fill: 'none',
      },
      alias: '$tag_owner',
    }),
  ];
}

/** Each owner held to its own acknowledge targets: the share acknowledged in time, and the times. */
function againstTargets() {
  return [
    barGauge({
      title: 'Acknowledged within target, by owner',
      description:
        "The share of acknowledgements in the dashboard range that came within the owner agency's target for the alert's severity (its registry record, as it was then).",
      unit: alertUnit('ack_in_target'),
      width: 12,
      min: 0,
      max: 1,
      thresholds: [
        [null, COLOR.critical],
        [0.8, COLOR.warning],
        [0.95, COLOR.ok],
      ],
      queries: [
        influx(
          select({
            select: [col('mean', alertField('ack_in_target'), 'within target')],
            from: ALERTS,
            where: chosen,
            interval: false,
            by: [OWNER],
          }),
          { alias: '$tag_owner' },
        ),
      ],
    }),
    barGauge({
      title: 'Mean time to acknowledge against target, by owner',
      unit: alertUnit('ack_ms'),
      width: 12,
      min: 0,
      queries: [
        influx(
          select({
            select: [
              col('mean', alertField('ack_ms'), 'acknowledged after'),
              col('mean', alertField('ack_target_ms'), 'target'),
            ],
            from: ALERTS,
            where: chosen,
            interval: false,
            by: [OWNER],
          }),
          { alias: '$tag_owner: $col' },
        ),
      ],
    }),
  ];
}

/** Escalations and the notifications' deliveries: attempts by outcome, the dead ones, and their latency. */
function notificationPanels() {
  return [
    totals({
      title: 'Escalations per hour, by owner',
      description: 'Alerts referred to the next step of their escalation chain, not acknowledged in time.',
      unit: 'short',
      width: 12,
      noValue: '0',
      query: {
        select: [col('count', alertField('alert_id'), 'referred')],
        from: ALERTS,
        where: [equals(EVENT, 'referred'), ...chosen],
        interval: '1h',
        by: [OWNER],
        fill: 'none',
      },
      alias: '$tag_owner',
    }),
    stat({
      title: 'Dead deliveries',
      description:
        'Notifications given up after their last attempt in the dashboard range: follow them up by hand (GET /api/deliveries?status=dead).',
      unit: 'short',
      width: 6,
      noValue: '0',
      colorMode: 'background',
      reduce: 'sum',
      thresholds: [
        [null, COLOR.ok],
        [1, COLOR.critical],
      ],
      queries: [
        influx(
          select({
            select: [col('count', notificationField('delivery_id'), 'dead')],
            from: NOTIFICATIONS,
            where: [equals(OUTCOME, 'dead')],
            interval: false,
          }),
          { format: 'table' },
        ),
      ],
    }),
    barGauge({
      title: 'Delivery latency by receiver type, mean and max',
      unit: 'ms',
      width: 6,
      min: 0,
      queries: [
        influx(
          select({
            select: [
              col('mean', notificationField('latency_ms'), 'mean'),
              col('max', notificationField('latency_ms'), 'max'),
            ],
            from: NOTIFICATIONS,
            interval: false,
            by: [RECEIVER_TYPE],
          }),
          { alias: '$tag_type $col' },
        ),
      ],
    }),
    totals({
      title: 'Delivery attempts per hour, by outcome',
      unit: 'short',
      width: 12,
      stack: true,
      query: {
        select: [col('count', notificationField('delivery_id'), 'attempts')],
        from: NOTIFICATIONS,
        interval: '1h',
        by: [OUTCOME],
        fill: '0',
      },
      alias: '$tag_outcome',
    }),
    table({
      title: 'Failed delivery attempts',
      description: 'The newest attempts that failed, with what the receiver answered.',
      unit: 'none',
      width: 12,
      noValue: 'none failed',
      sortBy: { column: 'Time', desc: true },
      queries: [
        influx(
          select({
            select: [
              tagCol(AGENCY),
              tagCol(RECEIVER),
              tagCol(OUTCOME),
              col('raw', notificationField('attempt'), 'attempt'),
              col('raw', notificationField('detail'), 'detail'),
            ],
            from: NOTIFICATIONS,
            where: [notEquals(OUTCOME, 'delivered')],
            interval: false,
            newest: 100,
          }),
          { format: 'table' },
        ),
      ],
    }),
  ];
}

export function alertsDashboard({ timezone }: DashboardContext): dashboard.Dashboard {
  const day = localDay(timezone);
  const d = newDashboard({
    uid: 'city-alerts',
    title: 'Alerts',
    description:
      'Open alerts by severity and owner, their history, time to acknowledge (against targets) and to resolve per owner, escalations and notification deliveries.',
    from: 'now-7d',
    refresh: '30s',
  })
    .withVariable(kindVariable())
    .withVariable(districtVariable([ALERTS]))
    .annotation(alertAnnotations())
    .withRow(new dashboard.RowBuilder('Open now'));
  for (const p of severityStats()) d.withPanel(p);
  d.withPanel(ownerGauge())
    .withPanel(openTable())
    .withRow(new dashboard.RowBuilder('History'))
    .withPanel(
      totals({
        title: 'Alerts raised per hour',
        unit: 'short',
        width: 24,
        stack: true,
        query: {
          select: [col('count', alertField('alert_id'), 'raised')],
          from: ALERTS,
          where: [equals(EVENT, 'raised'), ...chosen],
          interval: '1h',
          by: [SEVERITY],
          fill: '0',
        },
        alias: '$tag_severity',
      }),
    )
    .withPanel(
      alertEventsTable({
        title: 'Alert events',
        description: 'Every transition: raised, escalated, acknowledged (by whom, with a note), resolved.',
        columns: [EVENT, RULE, DEVICE, SEVERITY, OWNER],
        fields: ['alert_id', 'message', 'by', 'note'],
        where: chosen,
        newest: 1000,
      }),
    )
    .withRow(new dashboard.RowBuilder('Response'));
  for (const p of [
    ...againstTargets(),
    ...timeTo('ack_ms', 'acknowledge', day),
    ...timeTo('resolve_ms', 'resolve', day),
  ])
    d.withPanel(p);
  d.withRow(new dashboard.RowBuilder('Escalations and notifications'));
  for (const p of notificationPanels()) d.withPanel(p);
  return d.build();
}

// Template variables and annotations shared by the dashboards. District, kind and device are
// multi-value with "All" = `.*`, so one query form, `"tag" =~ /^$var$/`, serves a choice, several and all.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { type Kind } from '../../devices/index.ts';

import { alertField } from './names.ts';
import { newDashboard, type DashboardOptions } from './dashboard.ts';
import { COLOR, DATASOURCE, built, influx } from './panels.ts';
import { col, tagCol, equals, select, showTagValues, tagMatches } from './query.ts';
import { ALERT_TAGS, COMMAND_TAGS, KINDS, MEASUREMENTS, TAGS } from '../../measurements/index.ts';

const ALL = '.*';

function queryVariable(name: string, label: string, query: string): cog.Builder<dashboard.VariableModel> {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .allowCustomValue(false)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue(ALL)
    .current({ text: 'All', value: '$__all' });
}

/** Districts the chosen measurements have data for. */
export function districtVariable(measurements: readonly string[]): cog.Builder<dashboard.VariableModel> {
  return queryVariable('district', 'District', showTagValues(TAGS.district, measurements));
}

/** The kinds of device, from the same list ingest validates against. */
export function kindVariable(): cog.Builder<dashboard.VariableModel> {
  return new dashboard.CustomVariableBuilder('kind')
    .label('Kind')
    .values(KINDS.join(','))
    .multi(true)
    .includeAll(true)
    .allValue(ALL)
    .allowCustomValue(false)
    .current({ text: 'All', value: '$__all' });
}

/** Devices of one kind (or of the `$kind` variable's kinds), in the chosen districts. */
export function deviceVariable(kind: Kind | '$kind'): cog.Builder<dashboard.VariableModel> {
  const from = kind === '$kind' ? { regex: '/^$kind$/' } : [MEASUREMENTS[kind]];
  return queryVariable(
    'device',
    'Device',
    showTagValues(TAGS.device, from, [tagMatches(TAGS.district, 'district')]),
  );
}

/** Streets the lamps of the chosen districts are on, from the `street` tag their readings carry. */
export function streetVariable(): cog.Builder<dashboard.VariableModel> {
  return queryVariable(
    'street',
    'Street',
    showTagValues(TAGS.street, [MEASUREMENTS.streetlight], [tagMatches(TAGS.district, 'district')]),
  );
}

/** Stations of the river gauges of the chosen districts, from the `station` tag their readings carry. */
export function stationVariable(): cog.Builder<dashboard.VariableModel> {
  return queryVariable(
    'station',
    'Station',
    showTagValues(
      TAGS.station,
      [MEASUREMENTS.flood],
      [equals(TAGS.gauge, 'river'), tagMatches(TAGS.district, 'district')],
    ),
  );
}

/** Selects readings of the chosen district(s) and device(s). */
export const chosenDevices = [tagMatches(TAGS.district, 'district'), tagMatches(TAGS.device, 'device')];

const [ruleTag, kindTag, deviceTag, districtTag, severityTag, , eventTag] = ALERT_TAGS;

/** Alert events as annotations: the history of alerts of a kind (or of `$kind`) on every time series. */
export function alertAnnotations(kind?: Kind): cog.Builder<dashboard.AnnotationQuery> {
  const query = select({
    select: [
      col('raw', alertField('message'), 'text'),
      tagCol(ruleTag, 'rule'),
      tagCol(deviceTag, 'device'),
      tagCol(severityTag, 'severity'),
      tagCol(eventTag, 'event'),
    ],
    from: MEASUREMENTS.alerts,
    where: [
      kind !== undefined ? equals(kindTag, kind) : tagMatches(kindTag, 'kind'),
      tagMatches(districtTag, 'district'),
    ],
    interval: false,
  });
  return new dashboard.AnnotationQueryBuilder()
    .name('Alerts')
    .datasource(DATASOURCE)
    .enable(true)
    .iconColor(COLOR.critical)
    .target(
      built({
        ...influx(query, { format: 'table' }),
        refId: 'Anno',
        fromAnnotations: true,
        textColumn: 'text',
        tagsColumn: 'event,rule,device,severity',
      }),
    );
}

const [cmdDevice, cmdKind, cmdDistrict, cmdType, cmdState] = COMMAND_TAGS;

/**
 * Commands as annotations, where they ended: acknowledged (carried out), failed (refused), expired, and a
 * check that found a lamp's reading otherwise (mismatched); of the kind, in `$district`, to `$device`.
 * The text is the command id (GET /api/commands/:id has the rest).
 */
export function commandAnnotations(kind: Kind): cog.Builder<dashboard.AnnotationQuery> {
  const query = select({
    select: [
      col('raw', 'command_id', 'text'),
      tagCol(cmdType, 'type'),
      tagCol(cmdState, 'state'),
      tagCol(cmdDevice, 'device'),
    ],
    from: MEASUREMENTS.commands,
    where: [
      equals(cmdKind, kind),
      tagMatches(cmdDistrict, 'district'),
      tagMatches(cmdDevice, 'device'),
      `${JSON.stringify(cmdState)} =~ /^(acknowledged|failed|expired|mismatched)$/`,
    ],
    interval: false,
  });
  return new dashboard.AnnotationQueryBuilder()
    .name('Commands')
    .datasource(DATASOURCE)
    .enable(true)
    .iconColor(COLOR.info)
    .target(
      built({
        ...influx(query, { format: 'table' }),
        refId: 'Cmd',
        fromAnnotations: true,
        textColumn: 'text',
        tagsColumn: 'type,state,device',
      }),
    );
}

/** A dashboard of one kind of device: district and device variables, the kind's alerts as annotations. */
export function kindDashboard(kind: Kind, options: DashboardOptions): dashboard.DashboardBuilder {
  return newDashboard(options)
    .withVariable(districtVariable([MEASUREMENTS[kind]]))
    .withVariable(deviceVariable(kind))
    .annotation(alertAnnotations(kind));
}

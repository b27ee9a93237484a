// Panels as the dashboards use them, on the builders and types Grafana generates from its own schema
// (@grafana/grafana-foundation-sdk), so what the generator writes type-checks against that schema. Every
// panel function takes a unit: a panel without one does not compile.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarGaugePanel } from '@grafana/grafana-foundation-sdk/bargauge';
import * as geomapTypes from '@grafana/grafana-foundation-sdk/geomap';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TextPanel } from '@grafana/grafana-foundation-sdk/text';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { select, type SelectOptions } from './query.ts';

/** The provisioned InfluxDB data source (dashboards/provisioning/datasources). */
export const DATASOURCE: common.DataSourceRef = { type: 'influxdb', uid: 'city-influxdb' };

/** A typed value where the builders expect a builder. */
export function built<T>(value: T): cog.Builder<T> {
  return { build: () => value };
}

/** An InfluxQL query of a panel, as Grafana's InfluxDB data source stores a raw query. */
export interface InfluxQuery extends cog.Dataquery {
  refId: string;
  datasource: common.DataSourceRef;
  rawQuery: true;
  query: string;
  resultFormat: 'time_series' | 'table';
  /** Legend name of each series, `$tag_device` naming them by a tag. */
  alias?: string;
}

export interface TargetOptions {
  readonly format?: 'time_series' | 'table';
  readonly alias?: string;
}

export function influx(query: string, options: TargetOptions = {}): Omit<InfluxQuery, 'refId'> {
  return {
    datasource: DATASOURCE,
    rawQuery: true,
    query,
    resultFormat: options.format ?? 'time_series',
    // Without an alias Grafana names a series `measurement.column`; `$col` is the column's alias alone.
    ...(options.alias !== undefined
      ? { alias: options.alias }
      : options.format !== 'table'
        ? { alias: '$col' }
        : {}),
    _implementsDataqueryVariant: () => undefined,
  };
}

type Query = Omit<InfluxQuery, 'refId'>;

interface Targeted {
  withTarget(target: cog.Builder<cog.Dataquery>): unknown;
}

function withTargets(panel: Targeted, queries: readonly Query[]): void {
  queries.forEach((q, i) => {
    const target: InfluxQuery = { ...q, refId: String.fromCharCode(65 + i) };
    panel.withTarget(built(target));
  });
}

export type Step = readonly [value: number | null, color: string];

export function thresholdsConfig(steps: readonly Step[]): dashboard.ThresholdsConfig {
  return {
    mode: dashboard.ThresholdsMode.Absolute,
    steps: steps.map(([value, color]) => ({ value, color })),
  };
}

export function thresholds(steps: readonly Step[]): cog.Builder<dashboard.ThresholdsConfig> {
  return built(thresholdsConfig(steps));
}

/** Colours used for statuses across the dashboards. */
export const COLOR = {
  ok: 'green',
  info: 'blue',
  warning: 'orange',
  critical: 'red',
  silent: 'purple',
  neutral: 'text',
} as const;

export function valueText(entries: Record<string, { text: string; color?: string }>): dashboard.ValueMapping {
  const options: Record<string, dashboard.ValueMappingResult> = {};
  Object.entries(entries).forEach(([value, r], index) => {
    options[value] = { text: r.text, index, ...(r.color !== undefined ? { color: r.color } : {}) };
  });
  return { type: dashboard.MappingType.ValueToText, options };
}

/** A column whose values are codes shown as text (and coloured, in a table): severity 3 → "critical". */
export function mapped(
  column: string,
  mapping: dashboard.ValueMapping,
): { name: string; properties: dashboard.DynamicConfigValue[] } {
  return {
    name: column,
    properties: [
      { id: 'mappings', value: [mapping] },
      { id: 'custom.cellOptions', value: { type: 'color-background' } },
    ],
  };
}

export function legend(calcs: string[] = [], right = false): cog.Builder<common.VizLegendOptions> {
  return built({
    displayMode: calcs.length > 0 ? common.LegendDisplayMode.Table : common.LegendDisplayMode.List,
    placement: right ? common.LegendPlacement.Right : common.LegendPlacement.Bottom,
    showLegend: true,
    calcs,
  });
}

interface Common {
  readonly title: string;
  readonly description?: string;
  /** Grafana's unit id (`conμgm3`, `suffix: m`, `short`, `none` for identifiers and text). */
  readonly unit: string;
  readonly queries: readonly Query[];
  readonly width?: number;
  readonly height?: number;
  readonly min?: number;
  readonly max?: number;
  readonly decimals?: number;
  readonly thresholds?: readonly Step[];
  readonly mappings?: readonly dashboard.ValueMapping[];
  /** Relative time of this panel, overriding the dashboard's (`24h`). */
  readonly timeFrom?: string;
  readonly noValue?: string;
  readonly transformations?: readonly dashboard.DataTransformerConfig[];
  readonly overrides?: readonly { name: string; properties: dashboard.DynamicConfigValue[] }[];
  /** One copy of the panel per chosen value of a template variable (`$street` in the queries and title),
   * side by side, at most `perRow` in a row. */
  readonly repeat?: { readonly variable: string; readonly perRow: number };
}

interface Shared {
  title(t: string): unknown;
  description(d: string): unknown;
  unit(u: string): unknown;
  datasource(d: common.DataSourceRef): unknown;
  span(w: number): unknown;
  height(h: number): unknown;
  min(v: number): unknown;
  max(v: number): unknown;
  decimals(v: number): unknown;
  thresholds(t: cog.Builder<dashboard.ThresholdsConfig>): unknown;
  mappings(m: dashboard.ValueMapping[]): unknown;
  timeFrom(t: string): unknown;
  noValue(v: string): unknown;
  withTransformation(t: dashboard.DataTransformerConfig): unknown;
  overrideByName(name: string, properties: dashboard.DynamicConfigValue[]): unknown;
  repeat(variable: string): unknown;
  repeatDirection(direction: 'h' | 'v'): unknown;
  maxPerRow(count: number): unknown;
}

function configure<P extends Shared & Targeted>(panel: P, o: Common, width = 12, height = 8): P {
  panel.title(o.title);
  if (o.description !== undefined) panel.description(o.description);
  panel.unit(o.unit);
  panel.datasource(DATASOURCE);
  panel.span(o.width ?? width);
  panel.height(o.height ?? height);
  if (o.min !== undefined) panel.min(o.min);
  if (o.max !== undefined) panel.max(o.max);
  if (o.decimals !== undefined) panel.decimals(o.decimals);
  panel.thresholds(thresholds(o.thresholds ?? [[null, COLOR.ok]]));
  if (o.mappings !== undefined) panel.mappings([...o.mappings]);
  if (o.timeFrom !== undefined) panel.timeFrom(o.timeFrom);
  if (o.noValue !== undefined) panel.noValue(o.noValue);
  for (const t of o.transformations ?? []) panel.withTransformation(t);
  for (const { name, properties } of o.overrides ?? []) panel.overrideByName(name, properties);
  if (o.repeat !== undefined) {
    panel.repeat(o.repeat.variable);
    panel.repeatDirection('h');
    panel.maxPerRow(o.repeat.perRow);
  }
  withTargets(panel, o.queries);
  return panel;
}

/** A series drawn as a limit: a thin dashed line in a fixed colour, unfilled (an alarm level, a rated
 * power), for limits that are data (they differ per device and follow the registry) rather than panel
 * thresholds. */
export function limitLine(
  name: string,
  color: string,
): { name: string; properties: dashboard.DynamicConfigValue[] } {
  return {
    name,
    properties: [
      { id: 'color', value: { mode: 'fixed', fixedColor: color } },
      { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
      { id: 'custom.fillOpacity', value: 0 },
      { id: 'custom.lineInterpolation', value: common.LineInterpolation.StepAfter },
    ],
  };
}

/**
 * Thresholds taken from another query's columns (Grafana's "Config from query results"): each column's
 * last value becomes a step in its colour, for the panel's other queries. That query is not shown.
 */
export function thresholdsFromQuery(
  refId: string,
  steps: readonly (readonly [column: string, color: string])[],
): dashboard.DataTransformerConfig {
  return {
    id: 'configFromData',
    options: {
      configRefId: refId,
      mappings: steps.map(([fieldName, color]) => ({
        fieldName,
        handlerKey: 'threshold1',
        handlerArguments: { threshold: { color } },
      })),
    },
  };
}

/** How long a gap in a series is bridged: longer means the device went quiet (see the absence rules). */
export const BRIDGE_GAPS_MS = 30 * 60_000;

export interface TimeseriesOptions extends Common {
  /** Draw the thresholds: as dashed lines (alarm levels, limits) or as coloured bands (index categories). */
  readonly thresholdsStyle?: 'dashed' | 'bands';
  /** How values are drawn: lines (default), bars, steps (a total per interval), or points (sparse means). */
  readonly style?: 'lines' | 'bars' | 'steps' | 'points';
  /** Stack the series (counts of parts of a whole: alerts by severity). */
  readonly stack?: boolean;
  /** The axis reaches at least these, so limits are in view before the data reaches them. */
  readonly softMin?: number;
  readonly softMax?: number;
  readonly legendCalcs?: string[];
}

const perDevice = (o: Common): boolean => o.queries.some((q) => q.alias?.includes('$tag_') === true);

export function timeseries(o: TimeseriesOptions): cog.Builder<dashboard.Panel> {
  const panel = configure(new TimeseriesPanel(), o);
  // Many devices: the legend as a table at the right, so it does not push the plot away.
  panel.legend(legend(o.legendCalcs ?? ['mean', 'max', 'lastNotNull'], perDevice(o)));
  panel.tooltip(built({ mode: common.TooltipDisplayMode.Multi, sort: common.SortOrder.Descending }));
  panel.spanNulls(BRIDGE_GAPS_MS);
  panel.lineWidth(1);
  const style = o.style ?? 'lines';
  panel.fillOpacity(style === 'bars' ? 80 : 10);
  if (style === 'bars') panel.drawStyle(common.GraphDrawStyle.Bars);
  if (style === 'steps') panel.lineInterpolation(common.LineInterpolation.StepAfter);
  if (style === 'points') panel.showPoints(common.VisibilityMode.Always);
  if (o.stack === true) panel.stacking(built({ mode: common.StackingMode.Normal, group: 'A' }));
  if (o.softMin !== undefined) panel.axisSoftMin(o.softMin);
  if (o.softMax !== undefined) panel.axisSoftMax(o.softMax);
  if (o.thresholdsStyle !== undefined) {
    const mode =
      o.thresholdsStyle === 'bands'
        ? common.GraphThresholdsStyleMode.LineAndArea
        : common.GraphThresholdsStyleMode.Dashed;
    panel.thresholdsStyle(built({ mode }));
  }
  return panel;
}

export interface TotalsOptions extends Omit<TimeseriesOptions, 'queries'> {
  /** One query: a sum or count per `GROUP BY time()`, one series per group. */
  readonly query: SelectOptions;
  /** Legend name of each series: `$tag_device`. */
  readonly alias: string;
}

/** A sum or a count per interval (rain per hour, alerts raised per hour), from 0 up: bars by default. */
export function totals(o: TotalsOptions): cog.Builder<dashboard.Panel> {
  return timeseries({
    ...o,
    min: o.min ?? 0,
    style: o.style ?? 'bars',
    queries: [influx(select(o.query), { alias: o.alias })],
  });
}

export interface StatOptions extends Common {
  /** How the series reduce to one number: the latest by default. */
  readonly reduce?: 'lastNotNull' | 'sum' | 'mean' | 'max';
  readonly colorMode?: 'value' | 'background';
  /** Show each value's name: for a stat of several series (one per station). */
  readonly names?: boolean;
}

export function stat(o: StatOptions): cog.Builder<dashboard.Panel> {
  const panel = configure(new StatPanel(), o, 6, 4);
  panel.reduceOptions(built({ calcs: [o.reduce ?? 'lastNotNull'], values: false }));
  panel.colorMode(
    o.colorMode === 'background' ? common.BigValueColorMode.Background : common.BigValueColorMode.Value,
  );
  panel.graphMode(common.BigValueGraphMode.None);
  panel.textMode(o.names === true ? common.BigValueTextMode.ValueAndName : common.BigValueTextMode.Value);
  return panel;
}

export function barGauge(o: StatOptions): cog.Builder<dashboard.Panel> {
  const panel = configure(new BarGaugePanel(), o, 12, 8);
  panel.reduceOptions(built({ calcs: [o.reduce ?? 'lastNotNull'], values: false }));
  panel.displayMode(common.BarGaugeDisplayMode.Basic);
  panel.orientation(common.VizOrientation.Horizontal);
  return panel;
}

export interface TableOptions extends Common {
  readonly sortBy?: { readonly column: string; readonly desc: boolean };
}

export function table(o: TableOptions): cog.Builder<dashboard.Panel> {
  const panel = configure(new TablePanel(), o, 24, 10);
  panel.filterable(true);
  if (o.sortBy !== undefined) {
    panel.sortBy([built({ displayName: o.sortBy.column, desc: o.sortBy.desc })]);
  }
  return panel;
}

export interface StateTimelineOptions extends Common {
  /** Gaps up to this are bridged; a longer one shows as no data (a device gone quiet). */
  readonly bridgeGapsMs: number;
}

export function stateTimeline(o: StateTimelineOptions): cog.Builder<dashboard.Panel> {
  const panel = configure(new StateTimelinePanel(), o, 24, 10);
  panel.spanNulls(o.bridgeGapsMs);
  panel.mergeValues(true);
  panel.showValue(common.VisibilityMode.Never);
  panel.legend(legend());
  return panel;
}

export interface GeomapOptions extends Common {
  /** The numeric field that colours the markers through the thresholds. */
  readonly colorField: string;
}

export function geomap(o: GeomapOptions): cog.Builder<dashboard.Panel> {
  const panel = configure(new geomapTypes.PanelBuilder(), o, 12, 14);
  // Opens on all the devices, wherever the city is.
  panel.view(built({ id: geomapTypes.MapCenterID.Fit, allLayers: true, padding: 10, maxZoom: 15 }));
  panel.controls(built({ showZoom: true, mouseWheelZoom: true, showAttribution: true }));
  panel.basemap(built({ type: 'default', name: 'Basemap' }));
  panel.layers([
    built({
      type: 'markers',
      name: 'Devices',
      tooltip: true,
      location: { mode: common.FrameGeometrySourceMode.Coords, latitude: 'lat', longitude: 'lon' },
      config: {
        showLegend: true,
        style: {
          size: { fixed: 8 },
          color: { field: o.colorField, fixed: 'green' },
          opacity: 0.9,
        },
      },
    }),
  ]);
  panel.tooltip(built({ mode: geomapTypes.TooltipMode.Details }));
  return panel;
}

export function text(title: string, markdown: string, width = 24, height = 4): cog.Builder<dashboard.Panel> {
  return new TextPanel().title(title).content(markdown).span(width).height(height);
}

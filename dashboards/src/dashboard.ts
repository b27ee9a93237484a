// What every dashboard of the platform shares: the folder's tag, the browser's time zone, a shared
// crosshair, read-only (the source is here, not in Grafana's UI) and links to the other dashboards.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { built } from './panels.ts';

export const TAG = 'city';

export interface DashboardContext {
  /** The city's time zone (IANA): daily totals are its days, midnight to midnight. */
  readonly timezone: string;
}

/** The city's time zone of the Huế fleet, the default. */
export const DEFAULT_TIMEZONE = 'Asia/Ho_Chi_Minh';

/**
 * `GROUP BY time()` of one local day: `1d, -7h` in Huế, whose midnight is 17:00 UTC. An offset, not
 * InfluxQL's `tz()`, which needs the time-zone database on the InfluxDB host. The offset is the one of
 * 1 January 2026 (fixed, so the generated JSON does not change with the seasons): in a zone with summer
 * time, days are an hour off for part of the year (Vietnam has none).
 */
export function localDay(timezone: string, at: Date = new Date(Date.UTC(2026, 0, 1))): string {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value;
  const m = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name ?? '');
  if (m === null) throw new Error(`no UTC offset for the time zone ${timezone}`);
  const minutes = m[1] === undefined ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  return minutes === 0 ? '1d' : `1d, ${-minutes}m`;
}

export interface DashboardOptions {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  /** Default range, as Grafana writes it: `now-24h`. */
  readonly from: string;
  readonly refresh: string;
}

export function newDashboard(o: DashboardOptions): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(o.title)
    .uid(o.uid)
    .description(o.description)
    .tags([TAG])
    .timezone('browser')
    .readonly()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: o.from, to: 'now' })
    .refresh(o.refresh)
    .timepicker(built({ refresh_intervals: ['10s', '30s', '1m', '5m', '15m', '1h'] }))
    .link(
      built({
        title: 'City dashboards',
        type: dashboard.DashboardLinkType.Dashboards,
        tags: [TAG],
        asDropdown: true,
        icon: 'external link',
        tooltip: '',
        url: '',
        targetBlank: false,
        includeVars: true,
        keepTime: true,
      }),
    );
}

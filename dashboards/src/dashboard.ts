// What every dashboard of the platform shares: the folder's tag, the browser's time zone, a shared
// crosshair, read-only (the source is here, not in Grafana's UI) and links to the other dashboards.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { Fleet } from '../../devices/index.ts';
import { built } from './panels.ts';

export const TAG = 'city';

export interface DashboardContext {
  /** The fleet the dashboards are made for: per-station and per-street panels come from it. */
  readonly fleet: Fleet;
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

/** The mean position of some devices, where a map opens. */
export function centre(points: readonly { location: { lat: number; lon: number } }[]): {
  lat: number;
  lon: number;
} {
  const n = Math.max(points.length, 1);
  const round = (x: number): number => Math.round((x / n) * 1e4) / 1e4;
  return {
    lat: round(points.reduce((s, p) => s + p.location.lat, 0)),
    lon: round(points.reduce((s, p) => s + p.location.lon, 0)),
  };
}

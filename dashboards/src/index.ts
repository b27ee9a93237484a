// The dashboards' source: each function makes one Grafana dashboard.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { airQualityDashboard } from './air-quality.ts';
import { alertsDashboard } from './alerts.ts';
import type { DashboardContext } from './dashboard.ts';
import { floodDashboard } from './flood.ts';
import { overviewDashboard } from './overview.ts';
import { platformHealthDashboard } from './platform-health.ts';
import { streetlightsDashboard } from './streetlights.ts';

export { DATASOURCE } from './panels.ts';
export { DEFAULT_TIMEZONE, type DashboardContext } from './dashboard.ts';

export const DASHBOARDS: readonly ((ctx: DashboardContext) => dashboard.Dashboard)[] = [
  overviewDashboard,
  airQualityDashboard,
  floodDashboard,
  streetlightsDashboard,
  alertsDashboard,
  platformHealthDashboard,
];

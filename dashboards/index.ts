// The dashboards component's public entry: the generated Grafana dashboards, rendered from their
// TypeScript source (dashboards/src), and the folder Grafana's provider reads them from.
import { fileURLToPath } from 'node:url';
import type * as grafana from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARDS, DEFAULT_TIMEZONE } from './src/index.ts';

export { DATASOURCE, DEFAULT_TIMEZONE } from './src/index.ts';

/** Where the generated JSON is committed and where the dashboard provider reads it. */
export const DASHBOARD_DIR = fileURLToPath(new URL('./json/', import.meta.url));

interface PanelLike {
  id?: number;
  panels?: PanelLike[];
}

/** Panel ids in reading order, rows' panels included: stable ids for links and annotations. */
function numberPanels(panels: PanelLike[]): void {
  let id = 0;
  const walk = (list: PanelLike[]): void => {
    for (const p of list) {
      p.id = ++id;
      if (p.panels !== undefined) walk(p.panels);
    }
  };
  walk(panels);
}

/**
 * Each dashboard as `{ file, dashboard, text }`: the file name is its uid, the text what is committed.
 * `timezone` is the city's (IANA), whose days the daily totals are.
 */
export function renderDashboards(
  timezone: string = DEFAULT_TIMEZONE,
): { readonly file: string; readonly dashboard: grafana.Dashboard; readonly text: string }[] {
  return DASHBOARDS.map((make) => {
    const d = make({ timezone });
    numberPanels(d.panels ?? []);
    d.templating = { list: d.templating.list ?? [] };
    d.annotations = { list: d.annotations.list ?? [] };
    return { file: `${d.uid ?? ''}.json`, dashboard: d, text: JSON.stringify(d, null, 2) + '\n' };
  });
}

// The committed dashboards are what their source makes, hold together the way Grafana needs (ids,
// grid, units, data source, variables), and read only measurements, fields and tags the platform writes.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { parse as parseYaml } from 'yaml';
import { loadFleet, type Fleet } from '../devices/index.ts';

import { DASHBOARD_DIR, DATASOURCE, renderDashboards } from './index.ts';
import { queryParts } from '../test/kits/influxql-parts.ts';
import {
  ALERT_FIELDS,
  ALERT_TAGS,
  AQI,
  AQI_FIELDS,
  FIELDS,
  HEALTH_MEASUREMENTS,
  KINDS,
  MEASUREMENTS,
  COMMANDS,
  NOTIFICATIONS,
  REGISTRY_FIELDS,
  TAGS,
} from '../measurements/index.ts';

interface Target {
  refId?: string;
  query?: string;
  rawQuery?: boolean;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  type: string;
  name: string;
  query?: string;
  datasource?: { uid?: string };
}
interface DashboardJson {
  uid: string;
  title: string;
  schemaVersion: number;
  time: { from: string; to: string };
  refresh: string;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: { name: string; target?: Target }[] };
}

const files = readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json'));
const committed: [string, DashboardJson][] = files.map((f) => [
  f,
  JSON.parse(readFileSync(path.join(DASHBOARD_DIR, f), 'utf8')) as DashboardJson,
]);

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Every InfluxQL a dashboard runs, named for a failure message. */
function queries(d: DashboardJson): [string, string][] {
  return [
    ...d.templating.list.flatMap((v) =>
      v.type === 'query' && v.query !== undefined
        ? [[`variable ${v.name}`, v.query] as [string, string]]
        : [],
    ),
    ...d.annotations.list.flatMap((a) =>
      a.target?.query !== undefined ? [[`annotation ${a.name}`, a.target.query] as [string, string]] : [],
    ),
    ...allPanels(d.panels).flatMap((p) =>
      (p.targets ?? []).map((t) => [`${p.title ?? p.type} / ${t.refId}`, t.query ?? ''] as [string, string]),
    ),
  ];
}

/** What the platform writes: measurement → fields and tags, from the writers' own definitions. */
function catalogue(): Map<string, { fields: Set<string>; tags: Set<string> }> {
  const map = new Map<string, { fields: Set<string>; tags: Set<string> }>();
  const readingTags = Object.values(TAGS);
  for (const kind of KINDS) {
    const fields = [...Object.keys(FIELDS[kind]), ...Object.keys(REGISTRY_FIELDS[kind])];
    map.set(MEASUREMENTS[kind], { fields: new Set(fields), tags: new Set(readingTags) });
  }
  map.set(MEASUREMENTS.alerts, { fields: new Set(Object.keys(ALERT_FIELDS)), tags: new Set(ALERT_TAGS) });
  map.set(AQI.name, {
    fields: new Set([...Object.values(AQI_FIELDS.vn), ...Object.values(AQI_FIELDS.us)]),
    tags: new Set([TAGS.device, TAGS.district]),
  });
  for (const m of [...Object.values(HEALTH_MEASUREMENTS), NOTIFICATIONS, COMMANDS]) {
    map.set(m.name, { fields: new Set(Object.keys(m.fields)), tags: new Set<string>(m.tags) });
  }
  return map;
}

/** `SHOW TAG VALUES [FROM ...] WITH KEY = "k" [WHERE ...]`, which the InfluxQL parts kit (SELECT only) leaves out. */
function showTagValuesParts(
  q: string,
): { measurements: string[]; fields: string[]; tags: string[] } | undefined {
  const m = /^SHOW TAG VALUES(?: FROM (.+?))? WITH KEY = "([^"]+)"(?: WHERE (.*))?$/.exec(q);
  if (m === null) return undefined;
  const quoted = (text = ''): string[] => [...text.matchAll(/"([^"]+)"/g)].map((x) => x[1]!);
  return { measurements: quoted(m[1]), fields: [], tags: [m[2]!, ...quoted(m[3])] };
}

let fleet: Fleet;
beforeAll(async () => {
  fleet = await loadFleet();
});

/** The names a fleet file gives (device ids, streets, stations): a query holding one would not follow the
 * registry. */
function fleetNames(f: Fleet): string[] {
  return f.devices.flatMap((d) => [
    d.id,
    ...(d.kind === 'streetlight' ? [d.meta.street] : []),
    ...(d.kind === 'flood' ? [d.meta.station ?? '', d.meta.river ?? ''].filter((n) => n !== '') : []),
  ]);
}

describe('the generated dashboards', () => {
  it('are committed exactly as dashboards/src makes them, and nothing else is in the folder', () => {
    const rendered = renderDashboards();
    expect(files.sort()).toEqual(rendered.map((r) => r.file).sort());
    for (const r of rendered) {
      expect(
        readFileSync(path.join(DASHBOARD_DIR, r.file), 'utf8'),
        `${r.file}: run npm run dashboards`,
      ).toBe(r.text);
    }
  });

  it('name no device, street, station or river of the fleet file in a query: they follow the registry', () => {
    const names = new Set(fleetNames(fleet));
    expect(names.size).toBeGreaterThan(30);
    for (const [, d] of committed) {
      for (const [name, q] of queries(d)) {
        for (const n of names) expect(q.includes(n), `${name} names ${n}: ${q}`).toBe(false);
      }
    }
  });

  it('cover the operations centre: overview, air quality, flood, streetlights, alerts, platform health', () => {
    expect(committed.map(([, d]) => d.title).sort()).toEqual(
      ['Air quality', 'Alerts', 'City overview', 'Flood', 'Platform health', 'Streetlights'].sort(),
    );
  });

  it("are written at the dashboard schema version the README gives as the lowest Grafana's", () => {
    const readme = readFileSync(path.join(DASHBOARD_DIR, '..', '..', 'README.md'), 'utf8');
    const stated = Number(/dashboard schema version, (\d+)\)/.exec(readme)?.[1]);
    for (const [file, d] of committed)
      expect((d as { schemaVersion?: number }).schemaVersion, file).toBe(stated);
  });

  it('query the provisioned InfluxDB data source by its uid', () => {
    const provisioned = parseYaml(
      readFileSync(new URL('./provisioning/datasources/influxdb.yaml', import.meta.url), 'utf8'),
    ) as { datasources: { uid: string; type: string }[] };
    expect(provisioned.datasources.map((s) => s.uid)).toContain(DATASOURCE.uid);
    for (const [file, d] of committed) {
      for (const p of allPanels(d.panels).filter((p) => p.targets !== undefined)) {
        expect(p.datasource, `${file}: ${p.title}`).toEqual(DATASOURCE);
        for (const t of p.targets ?? []) {
          expect(t.datasource, `${file}: ${p.title}`).toEqual(DATASOURCE);
          expect(t.rawQuery, `${file}: ${p.title}`).toBe(true);
        }
      }
      for (const v of d.templating.list.filter((v) => v.type === 'query')) {
        expect(v.datasource?.uid, `${file}: variable ${v.name}`).toBe(DATASOURCE.uid);
      }
    }
  });

  it.each(committed)('%s: a uid Grafana accepts, a schema version, a time range and a refresh', (_f, d) => {
    expect(d.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.time.from).toMatch(/^now-\d+[mhd]$/);
    expect(d.refresh).toMatch(/^\d+[sm]$/);
  });

  it.each(committed)('%s: unique panel ids, on the 24-column grid, without overlaps', (_f, d) => {
    const panels = allPanels(d.panels);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const boxes = panels.map((p) => ({ title: p.title, ...p.gridPos! }));
    for (const b of boxes) {
      expect(b.x + b.w, `${b.title}`).toBeLessThanOrEqual(24);
      expect(b.w * b.h, `${b.title}`).toBeGreaterThan(0);
    }
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });

  it.each(committed)('%s: a unit Grafana knows on every panel that shows data', (_f, d) => {
    const known = new Set<unknown>(Object.values(units));
    for (const p of allPanels(d.panels).filter((p) => p.targets !== undefined)) {
      const unit = p.fieldConfig?.defaults?.unit ?? '';
      // Grafana's unit ids, or its custom units (`suffix: m`).
      expect(known.has(unit) || /^(suffix|prefix|si|count):./.test(unit), `${p.title}: ${unit}`).toBe(true);
    }
  });

  it.each(committed)('%s: every variable a query uses is defined on the dashboard', (_f, d) => {
    const macros = new Set([
      'timeFilter',
      '__interval',
      '__interval_ms',
      '__range',
      '__range_s',
      '__range_ms',
      '__from',
      '__to',
    ]);
    const defined = new Set(d.templating.list.map((v) => v.name));
    for (const [name, q] of queries(d)) {
      for (const m of q.matchAll(/\$\{?(\w+)/g)) {
        const used = m[1]!;
        if (used.startsWith('tag_')) continue;
        expect(macros.has(used) || defined.has(used), `${name}: $${used} in ${q}`).toBe(true);
      }
    }
  });

  it.each(committed)('%s: reads only measurements, fields and tags the platform writes', (_f, d) => {
    const written = catalogue();
    for (const [name, q] of queries(d)) {
      const parts = showTagValuesParts(q) ?? queryParts(q);
      const measurements = parts.measurements.map((m) => {
        const known = written.get(m);
        expect(known, `${name}: measurement ${m} is not written by the platform`).toBeDefined();
        return known!;
      });
      if (measurements.length === 0) {
        // `SHOW TAG VALUES` of all or of `/^$kind$/` measurements: tags of the readings.
        for (const t of parts.tags) expect(Object.values(TAGS), `${name}: tag ${t}`).toContain(t);
        continue;
      }
      for (const f of parts.fields) {
        expect(
          measurements.some((m) => m.fields.has(f)),
          `${name}: field ${f} in ${q}`,
        ).toBe(true);
      }
      for (const t of parts.tags) {
        expect(
          measurements.some((m) => m.tags.has(t)),
          `${name}: tag ${t} in ${q}`,
        ).toBe(true);
      }
    }
  });
});

// Grafana does not install here, so this is the proof that the dashboards work: the platform runs with the
// seeded Huế fleet and a day of simulated history (test/kits/dashboard-history.ts), and every query of every
// generated dashboard is run against the platform's InfluxDB by the query runner (test/kits/dashboard-queries.ts).
// The runner is first run on two fixtures: one using every query form, which must pass, and one with
// broken queries, each of which must be reported.
import path from 'node:path';
import type { DeviceInput } from '../devices/index.ts';
import type { Series } from '../influx/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  eventually,
  rows,
  startTestPlatform,
  type TestPlatform,
} from '../test/kits/platform.ts';
import { loadHistory } from '../test/kits/dashboard-history.ts';
import {
  annotationCases,
  checkCase,
  dashboardFiles,
  dataSourceMinInterval,
  HOUR_MS,
  panelAnswers,
  panelCases,
  readDashboard,
  resolveContexts,
  runDashboard,
  TIMED_MEASUREMENTS,
  type Contexts,
  type Env,
} from '../test/kits/dashboard-queries.ts';

/** The query runner's own fixtures: a dashboard whose queries all run, and one whose queries do not. */
const FIXTURES = path.resolve(import.meta.dirname, '../test/kits/dashboard-fixtures');

// ---- The tests ----

let platform: TestPlatform;
let env: Env;

beforeAll(async () => {
  platform = await startTestPlatform({
    CITY_SEED_FLEET: 'true',
    CITY_HEALTH_INTERVAL_MS: '1000',
    CITY_STATUS_INTERVAL_MS: '1000',
  });
  await loadHistory(platform);
  for (const m of TIMED_MEASUREMENTS) {
    await eventually(async () =>
      (await rows(platform, `SELECT * FROM "${m}" LIMIT 1`)).length > 0 ? true : undefined,
    );
  }
  const now = Date.now();
  env = {
    run: (q) => platform.influx.query(q, { epoch: 'ms' }),
    range: { from: now - 26 * HOUR_MS, to: now + 5 * 60_000 },
    minInterval: dataSourceMinInterval(),
  };
}, 90_000);

afterAll(async () => {
  await platform?.destroy();
});

describe('the query runner, on fixtures', () => {
  it('finds no problem in a dashboard using every query form', async () => {
    const run = await runDashboard(readDashboard(path.join(FIXTURES, 'good.json')), env);
    expect(Object.fromEntries(run.variables)).toEqual({});
    const problems = [...run.cases].filter(([, p]) => p.length > 0);
    expect(problems).toEqual([]);
    expect([...run.cases.keys()]).toHaveLength(12);
  });

  it('reports each broken query of the broken fixture, and nothing else', async () => {
    const run = await runDashboard(readDashboard(path.join(FIXTURES, 'broken.json')), env);
    expect(Object.fromEntries(run.variables)).toEqual({ ghost: ['no values'] });
    // What each case must report: nothing for the good ones.
    const expected: Record<string, RegExp> = {
      'Good / A': /^$/,
      'Syntax error / A': /^All: INFLUX_ERR_QUERY: .*dimensions/,
      'Field typo / A': /^All: no series with a non-null value — in: SELECT mean\("pm2_5"\)/,
      'No alias / A': /^columns without an alias: mean \( "pm25" \)$/,
      'Variable typo / A': /^All: unknown variable \$distrct/,
      'Multi-value variable outside a regex / A':
        /"device" = '\.\*'.* \| no single value of device shows data$/,
      'Alias that is not a column / A': /^$/,
      'Alias that is not a column / B': /^All: columns \["time","last_/,
      'Empty without noValue / A': /^All: no series with a non-null value/,
      'Another data source / A': /^data source prom, not city-influxdb \| not a raw InfluxQL query$/,
      'Two statements / A': /after the statement/,
      'annotation Wrong text column': /^All: no column text for Grafana to read$/,
    };
    expect([...run.cases.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, problems] of run.cases) {
      expect({ name, problems: problems.join(' | ') }).toEqual({
        name,
        problems: expect.stringMatching(expected[name]!) as unknown,
      });
    }
  });
});

const files = dashboardFiles();

it('dashboards/json holds the generated dashboards', () => {
  expect(files.length).toBeGreaterThan(0);
});

describe.each(files.map((file) => ({ file, dashboard: readDashboard(file) })))(
  '$dashboard.title',
  ({ dashboard }) => {
    const variables = dashboard.templating.list;
    const cases = [...panelCases(dashboard.panels), ...annotationCases(dashboard.annotations.list)];
    let contexts: Contexts;

    beforeAll(async () => {
      contexts = await resolveContexts(variables, env);
    });

    if (variables.length > 0) {
      it.each(variables)('variable $name', ({ name }) => {
        expect(contexts.variableProblems.get(name) ?? []).toEqual([]);
      });
    }
    if (cases.length > 0) {
      it.each(cases)('$name', async (c) => {
        expect(await checkCase(c, contexts, env)).toEqual([]);
      });
    }
  },
);

/** The last non-null value of a column across an answer's series (the newest bucket of a chart). */
function lastOf(series: readonly Series[], column: string): unknown {
  const values = series.flatMap((s) => s.values.map((row) => row[s.columns.indexOf(column)]));
  return values.filter((v) => v !== null && v !== undefined).at(-1);
}

describe('a device onboarded after the dashboards were generated', () => {
  const at = { lat: 16.455, lon: 107.56 };
  const devices: DeviceInput[] = [
    {
      id: 'sl-le-duan-01',
      kind: 'streetlight',
      name: 'Lê Duẩn 01',
      district: 'Phú Xuân',
      location: at,
      meta: { street: 'Lê Duẩn', rated_w: 120, tolerance_pct: 10 },
    },
    {
      id: 'rg-onboarded',
      kind: 'flood',
      name: 'River gauge onboarded later',
      district: 'Phú Xuân',
      location: at,
      meta: { type: 'river', station: 'Onboarded', river: 'Hương', alarm_levels_m: [1.5, 3, 4.5] },
    },
  ];
  const readings = {
    'sl-le-duan-01': { lamp_on: true, power_w: 140 },
    'rg-onboarded': { water_level_m: 3.2 },
  };

  beforeAll(async () => {
    for (const d of devices) {
      const { secret } = await platform.registry.provisionDevice(d);
      const client = await connectClient(platform.mqttUrl, {
        clientId: d.id,
        username: d.id,
        password: secret,
      });
      await client.publishAsync(
        `city/${d.kind}/${d.id}/telemetry`,
        JSON.stringify(readings[d.id as keyof typeof readings]),
        { qos: 1 },
      );
      await client.endAsync();
    }
    await eventually(async () =>
      (await rows(platform, `SELECT * FROM "flood" WHERE "device" = 'rg-onboarded'`)).length > 0
        ? true
        : undefined,
    );
  });

  it("is on its street's power panel, against the rated power and limit of its registry record", async () => {
    const streetlights = readDashboard(files.find((f) => f.endsWith('city-streetlights.json'))!);
    const answers = await panelAnswers(streetlights, '$street: power', { street: 'Lê Duẩn' }, env);
    expect(answers.get('A')?.map((s) => s.tags?.device)).toEqual(['sl-le-duan-01']);
    expect(lastOf(answers.get('A')!, 'power')).toBe(140);
    // 120 W rated, 10 % tolerance: lamp-power-too-high's limit is 132 W, drawn from the reading itself.
    expect([lastOf(answers.get('B')!, 'rated'), lastOf(answers.get('B')!, 'limit')]).toEqual([120, 132]);
  });

  it('has its own river row: its level, coloured by the alarm levels of its registry record', async () => {
    const flood = readDashboard(files.find((f) => f.endsWith('city-flood.json'))!);
    const answers = await panelAnswers(flood, '$station: now', { station: 'Onboarded' }, env);
    expect(lastOf(answers.get('A')!, 'water level')).toBe(3.2);
    expect(['alarm 1', 'alarm 2', 'alarm 3'].map((c) => lastOf(answers.get('B')!, c))).toEqual([1.5, 3, 4.5]);
  });
});

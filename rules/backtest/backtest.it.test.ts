// The backtest against the real influxd of the integration tier: a Kim Long flood and a calm day at Phú Ốc
// are written as line protocol into a fresh database, and the Huế flood rules are run over them.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFleet } from '../../devices/index.ts';
import { encodeLine, encodeTags, selectLast } from '../../influx/index.ts';
import { freshDatabase, type FreshDatabase } from '../../test/kits/influx.ts';
import type { RuleDevice } from '../engine/rule-device.ts';
import { isRulesError } from '../errors.ts';
import { backtestRules, type BacktestDeps } from './backtest.ts';
import { BacktestReport, type BacktestInput } from './types.ts';

const MIN = 60_000;
/** Midnight in Huế (UTC+7) on 27 October 2025, the day Kim Long peaked near 5.05 m. */
const T0 = Date.parse('2025-10-27T00:00:00+07:00');
const iso = (offsetMin: number) => new Date(T0 + offsetMin * MIN).toISOString();

// Kim Long every 10 minutes (alarm levels 1.0 / 2.0 / 3.5 m, `for: 10m`, clear under 0.95 m): past alarm
// 1 at 20 and 30 min, alarm 2 at 60 and 70, alarm 3 at 100 and 110, under the clear at 170.
const KIM_LONG = [
  0.8, 0.9, 1.05, 1.1, 1.6, 1.9, 2.1, 2.2, 2.8, 3.2, 3.6, 3.7, 3.3, 2.5, 1.8, 1.2, 0.97, 0.9, 0.85, 0.8,
];
const PHU_OC_READINGS = 24; // 1.2 m every 10 minutes for 4 hours: under its alarm 1 (1.5 m)

let db: FreshDatabase;
let devices: RuleDevice[];
let source: string;
let queries = 0;

beforeAll(async () => {
  db = await freshDatabase('backtest');
  const fleet = await loadFleet();
  devices = fleet.devices;
  source = await readFile(new URL('../hue/flood.yaml', import.meta.url), 'utf8');
  const kimLong = encodeTags({ device: 'rg-kim-long', district: 'Kim Long' });
  const phuOc = encodeTags({ device: 'rg-phu-oc', district: 'Hương Trà' });
  const lines = [
    ...KIM_LONG.map((level, i) => encodeLine('flood', kimLong, { water_level_m: level }, T0 + i * 10 * MIN)),
    ...Array.from({ length: PHU_OC_READINGS }, (_, i) =>
      encodeLine('flood', phuOc, { water_level_m: 1.2, battery_v: 12.5 }, T0 + i * 10 * MIN),
    ),
  ];
  await db.client.write(lines.join('\n'));
});
afterAll(async () => {
  await db.drop();
});

const deps = (over: Partial<BacktestDeps> = {}): BacktestDeps => ({
  influx: {
    query: (q, options) => {
      queries++;
      return db.client.query(q, options);
    },
  },
  devices: () => devices,
  clock: () => T0 + 7 * 24 * 60 * MIN,
  ...over,
});
const input = (fromMin: number, toMin: number): BacktestInput => ({
  source,
  name: 'flood.yaml',
  from: T0 + fromMin * MIN,
  to: T0 + toMin * MIN,
});
const alarms = (r: BacktestReport) => r.transitions.filter((t) => t.rule === 'river-alarm-level');
const summary = (r: BacktestReport, rule: string) => r.rules.find((s) => s.rule === rule);

describe('backtestRules', () => {
  it('replays a flood through alarm 1, 2 and 3 and back as one alert', async () => {
    const report = BacktestReport.parse(await backtestRules(input(0, 240), deps()));
    expect(
      alarms(report).map(({ at, type, level, severity, value, threshold }) => ({
        at,
        type,
        level,
        severity,
        value,
        threshold,
      })),
    ).toEqual([
      { at: iso(30), type: 'raise', level: 1, severity: 'warning', value: 1.1, threshold: 1 },
      { at: iso(70), type: 'escalate', level: 2, severity: 'warning', value: 2.2, threshold: 2 },
      { at: iso(110), type: 'escalate', level: 3, severity: 'critical', value: 3.7, threshold: 3.5 },
      { at: iso(170), type: 'clear', level: 3, severity: 'critical', value: 0.9, threshold: 0.95 },
    ]);
    expect(alarms(report)[0]?.message).toBe(
      'Trạm thủy văn Kim Long (Hương): water level 1.1 m, past alarm level 1 (1 m)',
    );
    expect(summary(report, 'river-alarm-level')).toEqual({
      rule: 'river-alarm-level',
      title: 'River above alarm level',
      devices: 2,
      raised: 1,
      escalated: 2,
      cleared: 1,
      openAtEnd: 0,
    });
    // The rise from 1.1 to 1.6 m in 10 minutes is a fast rise too.
    expect(summary(report, 'river-fast-rise')?.raised).toBeGreaterThan(0);
    expect(report.readings).toBe(KIM_LONG.length + PHU_OC_READINGS);
    expect(report.devices).toBe(devices.filter((d) => d.kind === 'flood').length);
    expect(report.truncated).toBe(false);
  });

  it('reports only inside [from, to), with the state warmed up before from', async () => {
    const report = await backtestRules(input(50, 110), deps());
    // The alert opened at 30 min, before `from`: inside the range it escalates, it is not raised again.
    expect(alarms(report).map((t) => [t.at, t.type])).toEqual([[iso(70), 'escalate']]);
    expect(report.transitions.every((t) => t.at >= iso(50) && t.at < iso(110))).toBe(true);
    expect(summary(report, 'river-alarm-level')).toMatchObject({ raised: 0, escalated: 1, openAtEnd: 1 });
    expect(report.readings).toBe(12); // 50..100 min at both gauges
    expect([report.from, report.to]).toEqual([iso(50), iso(110)]);
  });

  it('ends at the clock, so the future is not read as silence', async () => {
    const report = await backtestRules(input(0, 7 * 24 * 60), deps({ clock: () => T0 + 120 * MIN }));
    expect(report.to).toBe(iso(120));
    expect(alarms(report).map((t) => t.type)).toEqual(['raise', 'escalate', 'escalate']);
  });

  it('gives the same report reading three rows a page as reading all at once', async () => {
    const whole = await backtestRules(input(0, 240), deps());
    const before = queries;
    const paged = await backtestRules(input(0, 240), deps({ pageSize: 3 }));
    expect(paged).toEqual(whole);
    // A page after the first starts again at the last row of the one before (rows of one device may share
    // a time): 2 new rows a page. 20 rows are read in 10 pages, 24 in 12; one query for each other device.
    expect(queries - before).toBe(10 + 12 + (whole.devices - 2));
  });

  it('lists at most maxTransitions and says so, counting them all', async () => {
    const whole = await backtestRules(input(0, 240), deps());
    const capped = await backtestRules(input(0, 240), deps({ maxTransitions: 2 }));
    expect(capped.truncated).toBe(true);
    expect(capped.transitions).toEqual(whole.transitions.slice(0, 2));
    expect(capped.rules).toEqual(whole.rules);
  });

  it('refuses a rule file that does not validate, before reading anything', async () => {
    const before = queries;
    const bad = { ...input(0, 240), source: source.replace('severity: warning', 'severity: urgent') };
    const err: unknown = await backtestRules(bad, deps()).catch((e: unknown) => e);
    expect(isRulesError(err, 'RULES_ERR_SCHEMA')).toBe(true);
    expect(String(err)).toMatch(/flood\.yaml:\d+:\d+/);
    expect(queries).toBe(before);
  });

  it('writes nothing: no alert reaches the database', async () => {
    await backtestRules(input(0, 240), deps());
    const [alerts = []] = await db.client.query(selectLast({ measurement: 'alerts' }));
    expect(alerts).toEqual([]);
  });
});

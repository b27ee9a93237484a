// The health and device-status lines: built from snapshots by pure functions, named only as
// HEALTH_MEASUREMENTS says, and written on timers that a failed append does not stop.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IngestError } from '../ingest/index.ts';
import { absenceRuleIds, parseRuleFile } from '../rules/index.ts';
import { DEVICE_STATUSES, HEALTH_MEASUREMENTS } from '../measurements/index.ts';
import {
  deviceStatusLines,
  intervalCounts,
  platformLines,
  startHealthPoints,
  type DeviceSnapshot,
  type PlatformSnapshot,
  type StatusDevice,
} from './health-points.ts';
import type { MetricTotals } from './metrics.ts';
import { sunAltitudeDeg } from '../devices/index.ts';

const AT = 1_760_000_000_000;

/** Splits at `sep` where it is neither escaped by a backslash nor inside a quoted string. */
function splitLine(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      cur += c + s[++i]!;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  return [...out, cur];
}

const unescape = (s: string) => s.replace(/\\(.)/g, '$1');

/** A line as InfluxDB reads it (enough of line protocol for these lines). */
function parse(line: string) {
  expect(line.endsWith('\n')).toBe(true);
  const [head = '', fieldSet = '', time = ''] = splitLine(line.slice(0, -1), ' ');
  const [measurement = '', ...tagPairs] = splitLine(head, ',');
  const pairs = (list: string[]) =>
    Object.fromEntries(
      list.map((p) => {
        const [k = '', v = ''] = splitLine(p, '=');
        return [unescape(k), v];
      }),
    );
  const fields = Object.fromEntries(
    Object.entries(pairs(splitLine(fieldSet, ','))).map(([k, v]) => [
      k,
      v.startsWith('"') ? v.slice(1, -1).replace(/\\(["\\])/g, '$1') : Number(v),
    ]),
  );
  const tags = Object.fromEntries(Object.entries(pairs(tagPairs)).map(([k, v]) => [k, unescape(v)]));
  return { measurement, tags, fields, time: Number(time) };
}

/** Every line's measurement, tag keys and field keys and types are those HEALTH_MEASUREMENTS declares. */
function expectDeclared(lines: readonly string[]): void {
  for (const line of lines) {
    const p = parse(line);
    const spec = Object.values(HEALTH_MEASUREMENTS).find((m) => m.name === p.measurement);
    expect(spec, p.measurement).toBeDefined();
    expect(Object.keys(p.tags).sort()).toEqual([...spec!.tags].sort());
    const declared: Record<string, { type: string }> = spec!.fields;
    for (const [key, value] of Object.entries(p.fields)) {
      expect(declared[key]?.type, `${p.measurement}.${key}`).toBe(typeof value);
    }
  }
}

const snapshot = (over: Partial<PlatformSnapshot> = {}): PlatformSnapshot => ({
  at: AT,
  host: 'ops 1',
  intervalMs: 10_000,
  readings: 250,
  stored: 240,
  writeFailures: 1,
  rejections: [
    { kind: 'flood', reason: 'INGEST_ERR_RANGE', count: 3 },
    { kind: 'unknown', reason: 'INGEST_ERR_TOPIC', count: 0 },
    { kind: 'air_quality', reason: 'INGEST_ERR_SCHEMA', count: 2 },
  ],
  spool: { pendingLines: 12, pendingBytes: 3_400 },
  clients: 7,
  writes: { batches: 4, sumMs: 100, maxMs: 40 },
  openAlerts: 2,
  eventLoop: { p99Ms: 12.5, maxMs: 31 },
  ...over,
});

describe('platformLines', () => {
  it('writes the interval as one platform point and a rejections point per refused (kind, reason)', () => {
    expect(platformLines(snapshot())).toEqual([
      'platform,host=ops\\ 1 readings=250,readings_per_s=25,stored=240,rejected=5,write_failures=1,' +
        'spool_lines=12,spool_bytes=3400,clients=7,write_ms_mean=25,write_ms_max=40,open_alerts=2,' +
        `event_loop_lag_ms_p99=12.5,event_loop_lag_ms_max=31 ${AT}\n`,
      `rejections,kind=flood,reason=INGEST_ERR_RANGE count=3 ${AT}\n`,
      `rejections,kind=air_quality,reason=INGEST_ERR_SCHEMA count=2 ${AT}\n`,
    ]);
  });

  it('leaves out the write times when no batch was confirmed, and writes no rejections when none', () => {
    const lines = platformLines(snapshot({ writes: { batches: 0, sumMs: 0, maxMs: 0 }, rejections: [] }));
    expect(lines).toHaveLength(1);
    const { fields } = parse(lines[0]!);
    expect(Object.keys(fields)).not.toContain('write_ms_mean');
    expect(Object.keys(fields)).not.toContain('write_ms_max');
    expect(fields).toMatchObject({ rejected: 0, readings: 250 });
  });

  it('writes only what HEALTH_MEASUREMENTS declares', () => {
    const lines = platformLines(snapshot());
    expectDeclared(lines);
    expect(Object.keys(parse(lines[0]!).fields).sort()).toEqual(
      Object.keys(HEALTH_MEASUREMENTS.platform.fields).sort(),
    );
  });
});

describe('intervalCounts', () => {
  const totals = (readings: number, rejected: MetricTotals['rejected']): MetricTotals => ({
    readings,
    stored: readings * 2,
    writeFailures: readings % 7,
    rejected,
  });

  it('subtracts the totals at the start of the interval, keeping only pairs refused during it', () => {
    const before = totals(100, [
      { kind: 'flood', reason: 'INGEST_ERR_RANGE', count: 4 },
      { kind: 'air_quality', reason: 'INGEST_ERR_JSON', count: 1 },
    ]);
    const after = totals(130, [
      { kind: 'flood', reason: 'INGEST_ERR_RANGE', count: 6 },
      { kind: 'air_quality', reason: 'INGEST_ERR_JSON', count: 1 },
      { kind: 'unknown', reason: 'INGEST_ERR_TOPIC', count: 2 },
    ]);
    expect(intervalCounts(before, after)).toEqual({
      readings: 30,
      stored: 60,
      writeFailures: (130 % 7) - (100 % 7),
      rejections: [
        { kind: 'flood', reason: 'INGEST_ERR_RANGE', count: 2 },
        { kind: 'unknown', reason: 'INGEST_ERR_TOPIC', count: 2 },
      ],
    });
  });
});

const HUE = { lat: 16.4637, lon: 107.5909 };
const device = (id: string, over: Partial<StatusDevice> = {}): StatusDevice => ({
  id,
  kind: 'flood',
  name: `Gauge ${id}`,
  district: 'Kim Long',
  location: HUE,
  status: 'active',
  ...over,
});

describe('deviceStatusLines', () => {
  const devices = [
    device('rg-a'),
    device('rg-b'),
    device('rg-c'),
    device('aq-d', { kind: 'air_quality', district: 'Phú Xuân', location: { lat: 16.47, lon: 107.58 } }),
    device('rg-gone', { status: 'decommissioned' }),
  ];
  const input: DeviceSnapshot = {
    at: AT,
    devices,
    openAlerts: [
      { device: 'rg-b', rule: 'river-alarm-level' },
      { device: 'rg-b', rule: 'river-fast-rise' },
      { device: 'rg-c', rule: 'river-alarm-level' },
      { device: 'rg-c', rule: 'silent-flood-gauge' },
      { device: 'rg-gone', rule: 'river-alarm-level' },
    ],
    silenceRules: new Set(['silent-flood-gauge']),
  };
  const byDevice = () => new Map(deviceStatusLines(input).map((l) => [parse(l).tags.device!, parse(l)]));

  it('reports ok without open alerts, alerting with one, silent when one is an absence rule', () => {
    const got = byDevice();
    expect(
      [...got].map(([id, p]) => [id, p.fields.status, p.fields.status_code, p.fields.open_alerts]),
    ).toEqual([
      ['rg-a', 'ok', 0, 0],
      ['rg-b', 'alerting', 1, 2],
      ['rg-c', 'silent', 2, 2],
      ['aq-d', 'ok', 0, 0],
    ]);
    expect(DEVICE_STATUSES).toEqual(['ok', 'alerting', 'silent']);
  });

  it("carries the device's tags, name, place and the sun's altitude there at that instant", () => {
    const aq = byDevice().get('aq-d')!;
    expect(aq).toEqual({
      measurement: 'device_status',
      tags: { device: 'aq-d', kind: 'air_quality', district: 'Phú Xuân' },
      fields: {
        name: 'Gauge aq-d',
        lat: 16.47,
        lon: 107.58,
        status: 'ok',
        status_code: 0,
        open_alerts: 0,
        sun_altitude_deg: sunAltitudeDeg(AT, 16.47, 107.58),
      },
      time: AT,
    });
    expectDeclared(deviceStatusLines(input));
  });

  it('leaves decommissioned devices out', () => {
    expect(byDevice().has('rg-gone')).toBe(false);
  });

  it('flattens a name with a line break rather than losing the round', () => {
    const lines = deviceStatusLines({ ...input, devices: [device('rg-a', { name: 'Kim "Long"\ngauge' })] });
    expect(parse(lines[0]!).fields.name).toBe('Kim "Long" gauge');
  });

  it('finds the silence rules by their absence condition', () => {
    const parsed = parseRuleFile(
      [
        'rules:',
        '  - { id: quiet, title: Quiet, severity: info, owner: ops, message: quiet,',
        '      select: { kind: flood }, condition: { type: absence, for: 30m } }',
        '  - { id: deep, title: Deep, severity: info, owner: ops, message: deep, select: { kind: flood },',
        '      condition: { type: threshold, field: water_level_m, op: ">=", value: 2 } }',
      ].join('\n'),
      'rules.yaml',
    );
    expect(parsed.ok).toBe(true);
    expect([...absenceRuleIds(parsed.ok ? parsed.rules : [])]).toEqual(['quiet']);
  });
});

describe('startHealthPoints', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function harness(failFirst: boolean) {
    let now = AT;
    let readings = 0;
    const appended: string[] = [];
    const errors: unknown[] = [];
    let calls = 0;
    const log = pino(
      { level: 'error' },
      { write: (s: string) => void errors.push((JSON.parse(s) as { err?: unknown }).err) },
    );
    const start = () =>
      startHealthPoints(
        { healthIntervalMs: 1_000, statusIntervalMs: 5_000 },
        {
          log,
          clock: () => now,
          host: 'ops',
          since: AT - 2_000,
          metrics: {
            totals: () => Promise.resolve({ readings, stored: 0, writeFailures: 0, rejected: [] }),
            takeWriteTimes: () => ({ batches: 0, sumMs: 0, maxMs: 0 }),
            takeEventLoopLag: () => ({ p99Ms: 10, maxMs: 10 }),
          },
          spool: {
            append: (text, _lines, done) => {
              if (failFirst && calls++ === 0)
                return done(new IngestError('INGEST_ERR_SPOOL_FULL', 'spool full'));
              appended.push(text);
              done();
            },
            stats: () => ({ pendingBytes: 0, pendingLines: 0, segments: 1 }),
          },
          clients: () => 0,
          openAlerts: () => Promise.resolve([]),
          devices: () => [device('rg-a')],
          rules: () => [],
        },
      );
    const advance = async (ms: number, more: number) => {
      now += ms;
      readings += more;
      await vi.advanceTimersByTimeAsync(ms);
    };
    const points = (m: string) => appended.flatMap((t) => t.split('\n')).filter((l) => l.startsWith(m));
    return { start, advance, points, errors };
  }

  it('writes both at once, then on each interval, with the readings of that interval', async () => {
    vi.useFakeTimers();
    const h = harness(false);
    const report = await h.start();
    expect(h.points('platform')).toHaveLength(1);
    expect(h.points('device_status')).toHaveLength(1);
    await h.advance(1_000, 40);
    await h.advance(1_000, 10);
    expect(h.points('platform').map((l) => parse(`${l}\n`).fields.readings)).toEqual([0, 40, 10]);
    expect(parse(`${h.points('platform')[1]!}\n`).fields.readings_per_s).toBe(40);
    await report.close();
  });

  it('logs a failed append and keeps writing; stops writing once closed', async () => {
    vi.useFakeTimers();
    const h = harness(true);
    const report = await h.start();
    expect(h.errors).toHaveLength(1);
    await h.advance(1_000, 5);
    const written = h.points('platform').length;
    expect(written).toBeGreaterThan(0);
    await report.close();
    await report.close();
    await h.advance(10_000, 5);
    expect(h.points('platform')).toHaveLength(written);
  });
});

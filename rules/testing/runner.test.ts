import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../schema.ts';
import { diff, formatOffset, sameNumber, type Observed } from './compare.ts';
import { prepare } from '../../test/kits/rule-fixtures.ts';
import type { Expected } from './prepare.ts';
import { formatResults, runRuleTest, type RuleTestResult } from './runner.ts';

const HEAD = `rule_files: [rules.yaml]
start: 2025-10-27T00:00:00+07:00
tests:
  - name: gauge 1 passes alarm 1 and falls back
    rules: [river-alarm]
    readings:
      - { device: g1, every: 10m, fields: { water_level_m: [0.9, 1.05, 1.1, 0.97, 0.9] } }
`;

function run(text: string): RuleTestResult {
  const prepared = prepare(text);
  if (!prepared.ok) throw new Error(JSON.stringify(prepared.problems));
  const [test] = prepared.tests;
  if (test === undefined) throw new Error('no test');
  return runRuleTest(test);
}

describe('runRuleTest', () => {
  it('passes when the transitions are exactly those expected', () => {
    const r = run(`${HEAD}    expect:
      - { at: 20m, rule: river-alarm, device: g1, type: raise, severity: warning, level: 1, value: 1.1 }
      - { at: 40m, rule: river-alarm, device: g1, type: clear, threshold: 0.95 }
`);
    expect(r.status).toBe('passed');
    expect(r.report).toBe('');
    expect(r.got.map((t) => t.message)).toEqual([
      'Gauge 1: 1.1 m, past alarm level 1',
      'Gauge 1: cleared (River above alarm level)',
    ]);
  });

  it('fails on a wrong expectation with a diff that says what differs', () => {
    const r = run(`${HEAD}    expect:
      - { at: 10m, rule: river-alarm, device: g1, type: raise, level: 1 }
`);
    expect(r.status).toBe('failed');
    expect(r.report.split('\n')).toEqual([
      'expected 1 transition(s), got 2; times from 2025-10-26T17:00:00.000Z',
      '  (- expected, not seen; + seen, not expected)',
      '  - { at: 10m, rule: river-alarm, device: g1, type: raise, level: 1 }',
      '  + { at: 20m, rule: river-alarm, device: g1, type: raise, severity: warning, level: 1, value: 1.1, ' +
        'threshold: 1, message: "Gauge 1: 1.1 m, past alarm level 1" }',
      '    (differs in at)',
      '  + { at: 40m, rule: river-alarm, device: g1, type: clear, severity: warning, level: 1, value: 0.9, ' +
        'threshold: 0.95, message: "Gauge 1: cleared (River above alarm level)" }',
    ]);
  });

  it('compares the message exactly and the numbers within a relative 1e-9', () => {
    const expectation = (value: number, message: string) => `${HEAD}    expect:
      - { at: 20m, rule: river-alarm, device: g1, type: raise, value: ${value}, message: '${message}' }
      - { at: 40m, rule: river-alarm, device: g1, type: clear }
`;
    expect(run(expectation(1.1000000000001, 'Gauge 1: 1.1 m, past alarm level 1')).status).toBe('passed');
    expect(run(expectation(1.1001, 'Gauge 1: 1.1 m, past alarm level 1')).status).toBe('failed');
    expect(run(expectation(1.1, 'Gauge 1: 1.1 m, past alarm level 1.')).report).toContain(
      '(differs in message)',
    );
  });

  it('fails when the right transitions are expected in the wrong order', () => {
    const r = run(`${HEAD}    expect:
      - { at: 40m, rule: river-alarm, device: g1, type: clear }
      - { at: 20m, rule: river-alarm, device: g1, type: raise }
`);
    expect(r.status).toBe('failed');
  });

  it('feeds a reading before the tick at the same time', () => {
    // Silent for exactly 30 min at 30m, but the reading at 30m comes first: no silence at all.
    const r = run(`rule_files: [rules.yaml]
start: 2025-10-27T00:00:00+07:00
tests:
  - name: just in time
    rules: [silent]
    readings: [{ device: g1, every: 30m, fields: { water_level_m: [0.5, 0.5, 0.5] } }]
    until: 1h29m
    expect: []
`);
    expect(r.status).toBe('passed');
  });

  it('runs a device defined in the test, with its own metadata', () => {
    const r = run(`rule_files: [rules.yaml]
start: 2025-10-27T00:00:00+07:00
tests:
  - name: a gauge with higher alarm levels
    rules: [river-alarm]
    devices:
      - { id: g9, kind: flood, name: Gauge 9, tags: [river], meta: { type: river, alarm_levels_m: [1.5, 3, 4.5] } }
    readings: [{ device: g9, every: 10m, fields: { water_level_m: [1.2, 1.4, 1.5, 1.6] } }]
    expect: [{ at: 30m, rule: river-alarm, device: g9, type: raise, threshold: 1.5, message: 'Gauge 9: 1.6 m, past alarm level 1' }]
`);
    expect(r.status).toBe('passed');
  });

  it('lets time pass in ticks up to until, with no reading', () => {
    const r = run(`rule_files: [rules.yaml]
start: 2025-10-27T00:00:00+07:00
tests:
  - name: never heard from
    devices: [g1]
    tick: 7m
    until: 1h
    expect: [{ at: 35m, rule: silent, device: g1, type: raise, value: 2100000 }]
`);
    expect(r.status).toBe('passed');
  });
});

describe('the failure report', () => {
  const start = Date.parse('2025-10-27T00:00:00+07:00');
  const o = (min: number, type: Observed['type']): Observed => ({
    at: start + min * 60_000,
    rule: 'r',
    device: 'd',
    type,
    severity: 'warning',
    level: 1,
    value: 1,
    threshold: 1,
    message: 'm',
  });
  const e = (min: number, type: Expected['type']): Expected => ({
    at: start + min * 60_000,
    rule: 'r',
    device: 'd',
    type,
  });

  it('aligns the lists, so one extra transition is one + line', () => {
    const lines = diff([e(10, 'raise'), e(30, 'clear')], [o(10, 'raise'), o(20, 'escalate'), o(30, 'clear')]);
    expect(lines.map((l) => l.op)).toEqual([' ', '+', ' ']);
  });

  it('lists one line per test, and the report under a failed one', () => {
    const passed = {
      file: 'a.test.yaml',
      name: 'ok',
      line: 4,
      status: 'passed',
      got: [],
      report: '',
    } as const;
    const failed = { ...passed, name: 'bad', line: 9, status: 'failed', report: 'line 1\nline 2' } as const;
    expect(formatResults([passed, failed]).split('\n')).toEqual([
      'ok   a.test.yaml:4 ok',
      'FAIL a.test.yaml:9 bad',
      '       line 1',
      '       line 2',
    ]);
  });

  it('writes times as the test file does, so a + line can be pasted into expect', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 62 * 86_400 }), (s) => {
        const text = formatOffset(s * 1000);
        expect(text === '0' ? 0 : parseDuration(text)).toBe(s * 1000);
      }),
    );
    expect(formatOffset(5_400_000)).toBe('1h30m');
  });

  it('takes numbers within a relative 1e-9 as equal', () => {
    expect(sameNumber(0.1 + 0.2, 0.3)).toBe(true);
    expect(sameNumber(1e12, 1e12 + 1)).toBe(true);
    expect(sameNumber(0.3, 0.3001)).toBe(false);
  });
});

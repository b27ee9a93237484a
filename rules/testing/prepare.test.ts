import { describe, expect, it } from 'vitest';
import { GAUGE, prepare } from '../../test/kits/rule-fixtures.ts';
import type { PrepareResult } from './prepare.ts';

const at = (r: PrepareResult) => (r.ok ? [] : r.problems.map((p) => `${p.line}:${p.column} ${p.code}`));
const messages = (r: PrepareResult) => (r.ok ? [] : r.problems.map((p) => p.message));

const HEAD = `rule_files: [rules.yaml]
start: 2025-10-27T00:00:00+07:00
tests:
`;

describe('a test file that does not validate', () => {
  it('gives every problem at its line and column', () => {
    const r = prepare(`rule_files: [rules.yaml]
tests:
  - name: a
    readings:
      - { device: g1, at: 10 minutes, fields: { water_level_m: 1 } }
    expcet: []
  - name: a
    expect: [{ at: 0, rule: river-alarm, device: g1, type: rise }]
`);
    expect(at(r)).toEqual([
      '3:5 RULE_TEST_ERR_SCHEMA', // the first test has no expect: at the mapping that lacks it
      '3:5 RULE_TEST_ERR_SCHEMA', // no start, on the file or the test
      '5:27 RULE_TEST_ERR_SCHEMA', // at: 10 minutes
      '6:5 RULE_TEST_ERR_SCHEMA', // expcet: the unknown key, where it is
      '7:5 RULE_TEST_ERR_SCHEMA', // no start
      '7:11 RULE_TEST_ERR_SCHEMA', // a second test named "a"
      '8:60 RULE_TEST_ERR_SCHEMA', // type: rise
    ]);
    expect(messages(r)).toContainEqual(
      expect.stringContaining('tests[0].readings[0].at: a time after start'),
    );
    expect(messages(r)).toContainEqual('tests[0].expcet: unknown key "expcet"');
    expect(messages(r)).toContainEqual(expect.stringContaining('a second test named "a"'));
  });

  it('says what is wrong with a series and with an inline device', () => {
    const r = prepare(`${HEAD}  - name: s
    devices:
      - { id: g2, kind: flood, meta: { type: river, alarm_levels_m: [2, 1, 3] } }
    readings:
      - { device: g1, every: 10m, fields: { water_level_m: [1, 2], battery_v: [12, 12, 12] } }
      - { device: g1, at: 1h, count: 3, fields: { water_level_m: 1 } }
    expect: []
`);
    expect(at(r)).toEqual([
      '6:69 RULE_TEST_ERR_SCHEMA', // alarm levels must ascend, at the list
      '8:43 RULE_TEST_ERR_SCHEMA', // lists of different lengths
      '9:38 RULE_TEST_ERR_SCHEMA', // count without every
    ]);
    expect(messages(r)[0]).toContain('devices[0].meta.alarm_levels_m: alarm levels must ascend');
  });

  it('reports YAML syntax as such', () => {
    const r = prepare(`${HEAD}  - name: [unclosed\n    expect: []\n`);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.every((p) => p.code === 'RULE_TEST_ERR_YAML' && p.line >= 4)).toBe(true);
  });
});

describe('a test checked against its rules and fleet', () => {
  it('finds unknown devices and rules, and devices no rule under test watches', () => {
    const r = prepare(`${HEAD}  - name: d
    rules: [river-alarm, no-such-rule]
    devices: [nope, l1, g1, g1]
    readings:
      - { device: ghost, at: 0, fields: { water_level_m: 1 } }
    expect:
      - { at: 0, rule: silent, device: g3, type: raise }
`);
    expect(at(r)).toEqual([
      '5:26 RULE_TEST_ERR_RULE', // no-such-rule
      '6:15 RULE_TEST_ERR_DEVICE', // nope: not in the fleet
      '6:21 RULE_TEST_ERR_DEVICE', // l1: a streetlight, no rule under test applies
      '6:29 RULE_TEST_ERR_DEVICE', // g1 twice
      '8:19 RULE_TEST_ERR_DEVICE', // ghost
      '10:24 RULE_TEST_ERR_RULE', // silent: not among the rules under test
      '10:40 RULE_TEST_ERR_DEVICE', // g3: not in this test
    ]);
    expect(messages(r)[2]).toBe('tests[0].devices[1]: no rule under test applies to device l1');
  });

  it('checks each reading as ingest would, at the value that is wrong', () => {
    const r = prepare(`${HEAD}  - name: r
    readings:
      - device: g1
        every: 10m
        fields: { water_level_m: [1.2, 1.3, 80, 1.4] }
      - { device: g1, at: 1h, fields: { pm25: 12, water_level_m: 1 } }
      - { device: g1, at: 2h, fields: { battery_v: 12.4 } }
      - { device: g1, every: 1m, fields: { water_level_m: [1, 1, 1], battery_v: 99 } }
    expect: []
`);
    expect(at(r)).toEqual([
      '8:45 RULE_TEST_ERR_READING', // 80 m: above the field's range, at the 80
      '9:47 RULE_TEST_ERR_READING', // pm25 is no flood field
      '10:39 RULE_TEST_ERR_READING', // none of water_level_m, distance_m, rain_mm
      '11:81 RULE_TEST_ERR_READING', // 99 V at every step of the series: once
    ]);
    expect(messages(r)[1]).toBe('tests[0].readings[1].fields.pm25: flood readings have no field pm25');
  });

  it('refuses readings and expectations after the end of the test', () => {
    const r = prepare(`${HEAD}  - name: u
    readings: [{ device: g1, every: 10m, fields: { water_level_m: [1, 1, 1, 1] } }]
    until: 20m
    expect: [{ at: 1h, rule: silent, device: g1, type: raise }]
`);
    expect(at(r)).toEqual(['5:16 RULE_TEST_ERR_TIME', '7:20 RULE_TEST_ERR_TIME']);
  });
});

describe('a prepared test', () => {
  it('has its readings in time order at absolute times, series expanded', () => {
    const r = prepare(`${HEAD}  - name: p
    readings:
      - { device: g1, at: 25m, fields: { water_level_m: 2 } }
      - { device: g1, from: 10m, every: 10m, fields: { water_level_m: [1, null, 3], rain_mm: [0, 0.2, null] } }
      - { device: g1, from: 1h, every: 1h, fields: { water_level_m: [null, 4], rain_mm: [null, null] } }
      - { device: g1, every: 5m, count: 2, fields: { rain_mm: 0.2 } }
    expect: []
`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [test] = r.tests;
    const start = Date.parse('2025-10-27T00:00:00+07:00');
    const min = 60_000;
    expect(test?.readings.map((x) => [(x.time - start) / min, x.fields])).toEqual([
      [0, { rain_mm: 0.2 }],
      [5, { rain_mm: 0.2 }],
      [10, { water_level_m: 1, rain_mm: 0 }],
      [20, { rain_mm: 0.2 }], // null: not in this report
      [25, { water_level_m: 2 }],
      [30, { water_level_m: 3 }],
      [120, { water_level_m: 4 }], // the step at 1h had no value at all: no report
    ]);
    expect(test?.devices).toEqual([GAUGE]);
    expect(test?.rules.map((x) => x.id)).toEqual(['river-alarm', 'silent']);
    expect([test?.until, test?.tickMs, test?.line]).toEqual([start + 120 * min, 60_000, 4]);
  });
});

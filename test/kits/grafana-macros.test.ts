import { describe, expect, it } from 'vitest';
import {
  ALL,
  calculateInterval,
  escapeRegex,
  expandQuery,
  intervalToMs,
  isUsedInRegex,
  MacroError,
  referencedVariables,
  roundInterval,
  secondsToHms,
  type MacroContext,
  type TemplateVariable,
} from './grafana-macros.ts';

const HOUR = 3_600_000;
const FROM = 1_750_000_000_000;
const range = { from: FROM, to: FROM + 6 * HOUR };

const ctx = (variables: TemplateVariable[] = [], extra: Partial<MacroContext> = {}): MacroContext => ({
  range,
  variables,
  ...extra,
});

const district = (current: TemplateVariable['current'], more: Partial<TemplateVariable> = {}) => ({
  name: 'district',
  current,
  options: ['Kim Long', 'Thuận Hóa', 'Phú Xuân'],
  ...more,
});

describe('time macros', () => {
  it('$timeFilter is the absolute range in epoch milliseconds, both ends included', () => {
    expect(expandQuery('SELECT 1 WHERE $timeFilter', ctx())).toBe(
      `SELECT 1 WHERE time >= ${FROM}ms and time <= ${FROM + 6 * HOUR}ms`,
    );
  });

  it('$__range, $__range_s and $__range_ms are the range length; $__from and $__to its ends', () => {
    expect(expandQuery('$__range $__range_s $__range_ms $__from $__to', ctx())).toBe(
      `21600s 21600 21600000 ${FROM} ${FROM + 6 * HOUR}`,
    );
  });

  it('$__interval is the range over maxDataPoints, rounded; $interval is its old name', () => {
    // 6 h / 1000 points = 21.6 s, rounded to 20 s.
    expect(expandQuery('time($__interval) time($interval) $__interval_ms', ctx())).toBe(
      'time(20s) time(20s) 20000',
    );
    // 6 h / 100 points = 216 s, rounded to 5 m.
    expect(expandQuery('$__interval', ctx([], { maxDataPoints: 100 }))).toBe('5m');
  });

  it('$__interval never goes under the minimum interval', () => {
    expect(expandQuery('$__interval $__interval_ms', ctx([], { minInterval: '1m' }))).toBe('1m 60000');
    expect(expandQuery('$__interval', ctx([], { minInterval: '>10s', maxDataPoints: 100_000 }))).toBe('10s');
  });

  it('the built-in names take ${} and [[ ]] too', () => {
    expect(expandQuery('${__interval} [[__interval]] ${__range_s:raw}', ctx())).toBe('20s 20s 21600');
  });
});

describe('rangeutil', () => {
  it('roundInterval follows Grafana ladder at its edges', () => {
    expect(roundInterval(9)).toBe(1);
    expect(roundInterval(12_499)).toBe(10_000);
    expect(roundInterval(12_500)).toBe(15_000);
    expect(roundInterval(89_999)).toBe(60_000);
    expect(roundInterval(90_000)).toBe(120_000);
    expect(roundInterval(3_700_000)).toBe(3_600_000);
    expect(roundInterval(4e9)).toBe(31_536_000_000);
  });

  it('secondsToHms keeps the largest unit only', () => {
    expect([0.5, 20, 90, 3600, 5400, 86_400, 31_536_000].map(secondsToHms)).toEqual([
      '500ms',
      '20s',
      '1m',
      '1h',
      '1h',
      '1d',
      '1y',
    ]);
  });

  it('intervalToMs reads Grafana intervals, a bare number as seconds', () => {
    expect(['500ms', '10s', '1m', '2h', '1d', '30'].map(intervalToMs)).toEqual([
      500, 10_000, 60_000, 7_200_000, 86_400_000, 30_000,
    ]);
    expect(() => intervalToMs('soon')).toThrow(MacroError);
  });

  it('calculateInterval for 26 h 5 min at 1000 points and a 10 s floor is 2 m', () => {
    const r = { from: 0, to: 26 * HOUR + 5 * 60_000 };
    expect(calculateInterval(r, 1000, '10s')).toEqual({ interval: '2m', intervalMs: 120_000 });
  });
});

describe('template variables', () => {
  it('a single value outside a regex is inserted raw', () => {
    const q = `SELECT "x" FROM "m" WHERE "district" = '$district'`;
    expect(expandQuery(q, ctx([district('Phú Xuân')]))).toBe(
      `SELECT "x" FROM "m" WHERE "district" = 'Phú Xuân'`,
    );
  });

  it('a single value inside a regex after =~ or !~ is regex-escaped', () => {
    const v = { name: 'device', current: 'a.b/c' };
    expect(expandQuery(`WHERE "device" =~ /^$device$/`, ctx([v]))).toBe(`WHERE "device" =~ /^a\\.b\\/c$/`);
    expect(expandQuery(`WHERE "device" !~ /$device/`, ctx([v]))).toBe(`WHERE "device" !~ /a\\.b\\/c/`);
  });

  it('a number is inserted as it is, even in a regex', () => {
    expect(expandQuery('WHERE "level" =~ /^$n$/', ctx([{ name: 'n', current: '1.5', multi: true }]))).toBe(
      'WHERE "level" =~ /^1.5$/',
    );
  });

  it('several values of a multi-value variable become an escaped regex group', () => {
    const v = district(['Kim Long', 'a+b'], { multi: true });
    expect(expandQuery('"district" =~ /^$district$/', ctx([v]))).toBe('"district" =~ /^(Kim Long|a\\+b)$/');
  });

  it('a multi-value variable is escaped wherever it is used', () => {
    const v = { name: 'device', current: 'a.b', multi: true };
    expect(expandQuery(`"device" = '$device'`, ctx([v]))).toBe(`"device" = 'a\\.b'`);
  });

  it('All stands for every option, as a group', () => {
    const v = district(ALL, { includeAll: true, multi: true });
    expect(expandQuery('"district" =~ /^$district$/', ctx([v]))).toBe(
      '"district" =~ /^(Kim Long|Thuận Hóa|Phú Xuân)$/',
    );
  });

  it('All of a single-value variable is a group in a regex, comma-joined outside one', () => {
    const v = district(ALL, { includeAll: true });
    expect(expandQuery('"district" =~ /^$district$/', ctx([v]))).toBe(
      '"district" =~ /^(Kim Long|Thuận Hóa|Phú Xuân)$/',
    );
    expect(expandQuery(`"district" = '$district'`, ctx([v]))).toBe(
      `"district" = 'Kim Long,Thuận Hóa,Phú Xuân'`,
    );
  });

  it('a custom allValue is inserted raw, and is itself interpolated', () => {
    const v = district(ALL, { includeAll: true, multi: true, allValue: '.*' });
    expect(expandQuery('"district" =~ /^$district$/', ctx([v]))).toBe('"district" =~ /^.*$/');
    const w = { name: 'w', current: ALL, includeAll: true, allValue: '$district' };
    expect(expandQuery('[[w]]', ctx([district('Kim Long'), w]))).toBe('Kim Long');
  });

  it('All with no options and no allValue is an error', () => {
    expect(() => expandQuery('$d', ctx([{ name: 'd', current: ALL, includeAll: true }]))).toThrow(/All/);
  });

  it('${var} and [[var]] are the same variable; only $var counts as used in a regex', () => {
    const v = { name: 'device', current: 'a.b' };
    expect(expandQuery('${device} [[device]] $device', ctx([v]))).toBe('a.b a.b a.b');
    expect(expandQuery('"device" =~ /^${device}$/', ctx([v]))).toBe('"device" =~ /^a.b$/');
    expect(isUsedInRegex('"device" =~ /^$device$/ AND x', 'device')).toBe(true);
    expect(isUsedInRegex(`"device" = '$device' AND "k" =~ /x/`, 'device')).toBe(false);
  });

  it('${var:regex} always escapes; :csv, :pipe, :singlequote and :doublequote join', () => {
    const v = { name: 'd', current: ['a.b', "o'k"], multi: true };
    expect(expandQuery('${d:regex}|${d:csv}|[[d:pipe]]', ctx([v]))).toBe("(a\\.b|o'k)|a.b,o'k|a.b|o'k");
    expect(expandQuery('${d:singlequote} ${d:doublequote}', ctx([v]))).toBe(`'a.b','o\\'k' "a.b","o'k"`);
    expect(expandQuery('${one:regex}', ctx([{ name: 'one', current: 'a.b' }]))).toBe('a\\.b');
  });

  it('an unknown format is an error', () => {
    expect(() => expandQuery('${d:shout}', ctx([{ name: 'd', current: 'x' }]))).toThrow(MacroError);
  });

  it('a variable that is not defined throws, naming it', () => {
    let error: unknown;
    try {
      expandQuery('WHERE "district" =~ /^$distrct$/', ctx([district('Kim Long')]));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MacroError);
    expect((error as MacroError).code).toBe('MACRO_ERR_UNKNOWN_VARIABLE');
    expect((error as MacroError).message).toContain('$distrct');
  });

  it('a regex end anchor before the closing slash is not a variable', () => {
    expect(expandQuery('"device" =~ /^sl-.*$/ AND $timeFilter', ctx())).toContain('/^sl-.*$/ AND time >= ');
  });

  it('referencedVariables names every variable in any spelling, once', () => {
    const q =
      'SELECT x FROM m WHERE $timeFilter AND d =~ /^$district$/ AND e = ${device:regex} [[window]] $district';
    expect([...referencedVariables(q)]).toEqual(['timeFilter', 'district', 'device', 'window']);
  });

  it('escapeRegex escapes what Grafana escapes, the slash included', () => {
    expect(escapeRegex('a\\^$*+?.()|[]{}/-z')).toBe('a\\\\\\^\\$\\*\\+\\?\\.\\(\\)\\|\\[\\]\\{\\}\\/-z');
  });
});

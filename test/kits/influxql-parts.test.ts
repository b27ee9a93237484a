import { describe, expect, it } from 'vitest';
import { queryParts, QueryPartsError, tokenize } from './influxql-parts.ts';

describe('queryParts', () => {
  it('reads the example panel query: measurement, field, alias, tags in WHERE and GROUP BY', () => {
    const q =
      'SELECT mean("pm25") AS "PM2.5" FROM "air_quality" WHERE $timeFilter AND "district" =~ /^$district$/ ' +
      'GROUP BY time($__interval), "device" fill(null)';
    expect(queryParts(q)).toEqual({
      measurements: ['air_quality'],
      measurementPatterns: [],
      fields: ['pm25'],
      fieldWildcard: false,
      aliases: ['PM2.5'],
      unaliased: [],
      tags: ['district', 'device'],
    });
  });

  it('takes a macro with a duration unit as one time, not a field: ${__from}ms', () => {
    const q =
      'SELECT mean("pm25") AS "m" FROM "air_quality" WHERE time >= ${__from}ms - 24h AND time <= ${__to}ms ' +
      'GROUP BY time(1h)';
    const parts = queryParts(q);
    expect(parts.fields).toEqual(['pm25']);
    expect(parts.tags).toEqual([]);
  });

  it('reads several items, bare identifiers, nested calls and arithmetic', () => {
    const q =
      'SELECT max(water_level_m) AS "Level", moving_average(mean("rain_mm"), 3) * 6 AS "Rain", ' +
      'last("battery_v") / 12 AS "Battery" FROM flood WHERE time > now() - 1h';
    const parts = queryParts(q);
    expect(parts.measurements).toEqual(['flood']);
    expect(parts.fields).toEqual(['water_level_m', 'rain_mm', 'battery_v']);
    expect(parts.aliases).toEqual(['Level', 'Rain', 'Battery']);
    expect(parts.tags).toEqual([]);
  });

  it('through a subquery: fields and measurements from the inner statement, aliases from the outer', () => {
    const q =
      'SELECT sum("open") AS "Open alerts" FROM (SELECT last("open") AS "open" FROM "alerts" ' +
      `WHERE $timeFilter AND "owner" = 'flood control' GROUP BY "rule", "device") GROUP BY "severity"`;
    const parts = queryParts(q);
    expect(parts.measurements).toEqual(['alerts']);
    expect(parts.fields).toEqual(['open']);
    expect(parts.aliases).toEqual(['Open alerts']);
    expect(parts.tags).toEqual(['severity', 'owner', 'rule', 'device']);
  });

  it('an outer WHERE on an inner column adds no field key', () => {
    const q =
      'SELECT count("v") AS "n" FROM (SELECT max("pm25") AS "v" FROM "air_quality" GROUP BY "device") WHERE "v" > 50';
    expect(queryParts(q).fields).toEqual(['pm25']);
  });

  it('tells tags from fields in WHERE by what they are compared with, casts first', () => {
    const q =
      `SELECT "message" AS "text" FROM "alerts" WHERE "event" = 'raised' AND "level" >= 2 AND "open" = 1 ` +
      `AND "kind" != '$kind' AND "rule"::tag = "x" AND "state"::field = 'open' AND "flag" = true`;
    const parts = queryParts(q);
    expect(parts.tags).toEqual(['event', 'kind', 'rule']);
    expect(parts.fields).toEqual(['message', 'level', 'open', 'state', 'flag']);
  });

  it('a ::tag cast in the SELECT list is a tag', () => {
    const parts = queryParts('SELECT last("pm25") AS "v", "district"::tag AS "d" FROM "air_quality"');
    expect(parts.fields).toEqual(['pm25']);
    expect(parts.tags).toEqual(['district']);
  });

  it('reports items without an alias', () => {
    const parts = queryParts('SELECT mean("pm25"), max("pm10") AS "PM10" FROM "air_quality"');
    expect(parts.aliases).toEqual(['PM10']);
    expect(parts.unaliased).toEqual(['mean ( "pm25" )']);
  });

  it('regex and qualified sources, wildcards', () => {
    const parts = queryParts('SELECT count(*) AS "n" FROM /^air_.*$/, "city"."autogen"."flood"');
    expect(parts.measurementPatterns).toEqual(['^air_.*$']);
    expect(parts.measurements).toEqual(['flood']);
    expect(parts.fieldWildcard).toBe(true);
    expect(queryParts('SELECT /pm/ AS "x" FROM "air_quality"').fieldWildcard).toBe(true);
  });

  it('keeps quoted identifiers with escaped quotes and dots whole', () => {
    const parts = queryParts('SELECT last("a\\"b.c") AS "x \\"y\\"" FROM "m.n"');
    expect(parts.fields).toEqual(['a"b.c']);
    expect(parts.aliases).toEqual(['x "y"']);
    expect(parts.measurements).toEqual(['m.n']);
  });

  it('reads the clauses after GROUP BY without taking their words for tags', () => {
    const q =
      `SELECT last("power_w") AS "W" FROM "streetlight" WHERE "device" =~ /^(a|b)$/ GROUP BY "device" ` +
      `fill(none) ORDER BY time DESC LIMIT 10 SLIMIT 5 tz('Asia/Ho_Chi_Minh')`;
    expect(queryParts(q).tags).toEqual(['device']);
  });

  it('throws on what is not one SELECT', () => {
    expect(() => queryParts('SHOW TAG VALUES WITH KEY = "district"')).toThrow(QueryPartsError);
    expect(() => queryParts('SELECT "a" AS "a" FROM "m"; SELECT "b" AS "b" FROM "m"')).toThrow(
      /after the statement/,
    );
    expect(() => queryParts('SELECT "a" AS "a" FROM (SELECT "a" FROM "m"')).toThrow(QueryPartsError);
    expect(() => queryParts('SELECT "a" AS "a" FROM "m" WHERE "d" =~ /^x')).toThrow(/unterminated regex/);
  });
});

describe('tokenize', () => {
  it('a slash after an operand divides, after an operator or keyword it opens a regex', () => {
    expect(tokenize('"a" / 2').map((t) => t.kind)).toEqual(['ident', 'op', 'number']);
    expect(tokenize('max("a") / 2').map((t) => t.kind)).toEqual([
      'ident',
      'op',
      'ident',
      'op',
      'op',
      'number',
    ]);
    expect(tokenize('"a" =~ /x\\/y/').map((t) => [t.kind, t.value])).toEqual([
      ['ident', 'a'],
      ['op', '=~'],
      ['regex', 'x\\/y'],
    ]);
  });

  it('keeps Grafana macros as tokens of their own', () => {
    expect(tokenize('$timeFilter ${d:regex} [[d]] time($__interval)').map((t) => t.kind)).toEqual([
      'macro',
      'macro',
      'macro',
      'ident',
      'op',
      'macro',
      'op',
    ]);
  });
});

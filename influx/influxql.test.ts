import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  and,
  createDatabase,
  duration,
  durationMs,
  escapeRegex,
  ident,
  regexAnyOf,
  regexLiteral,
  selectHistory,
  selectLast,
  selectRaw,
  str,
  timeLiteral,
  timeRange,
  whereTags,
} from './influxql.ts';

/**
 * The string scanner of InfluxQL (influxql/scanner.go ScanString), restated: returns the decoded value and
 * where the literal ends, or throws where the server would report a bad string or bad escape.
 */
function scanString(text: string, start: number): { value: string; end: number } {
  const quote = text[start];
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === quote) return { value, end: i + 1 };
    if (ch === '\n') throw new Error('bad string');
    if (ch === '\\') {
      const next = text[++i];
      if (next === 'n') value += '\n';
      else if (next === '\\' || next === '"' || next === "'") value += next;
      else throw new Error('bad escape');
    } else value += ch;
  }
  throw new Error('unterminated');
}

const nasty = fc.string({
  unit: fc.oneof(
    fc.constantFrom("'", '"', '\\', '\n', '\t', '/', ' OR 1=1 --', ';', 'ế', '😀'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => c !== '\0' && c !== '\r'),
  ),
  maxLength: 20,
});

describe('str and ident', () => {
  it('produce one literal that decodes to exactly the input', () => {
    fc.assert(
      fc.property(nasty, (value) => {
        const name = value === '' ? 'x' : value;
        for (const [literal, expected] of [
          [str(value), value],
          [ident(name), name],
        ] as const) {
          const scanned = scanString(literal, 0);
          expect(scanned.end).toBe(literal.length);
          expect(scanned.value).toBe(expected);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('quote as InfluxQL expects', () => {
    expect(str("it's a\\b\nc")).toBe("'it\\'s a\\\\b\\nc'");
    expect(ident('my "field"')).toBe('"my \\"field\\""');
  });

  it('refuse NUL, CR and empty identifiers', () => {
    expect(() => str('a\0b')).toThrow(expect.objectContaining({ code: 'INFLUX_ERR_QUERY_INPUT' }));
    expect(() => str('a\rb')).toThrow(expect.objectContaining({ code: 'INFLUX_ERR_QUERY_INPUT' }));
    expect(() => ident('a\rb')).toThrow(expect.objectContaining({ code: 'INFLUX_ERR_QUERY_INPUT' }));
    expect(() => ident('')).toThrow(expect.objectContaining({ code: 'INFLUX_ERR_QUERY_INPUT' }));
  });
});

describe('regexLiteral', () => {
  it('escapes every slash so the literal cannot end early', () => {
    expect(regexLiteral('a/b')).toBe('/a\\/b/');
    expect(regexLiteral('a\\/b')).toBe('/a\\/b/');
    expect(regexLiteral('a\\\\/b')).toBe('/a\\\\\\/b/');
    expect(regexLiteral('^x$')).toBe('/^x$/');
  });

  it('refuses raw newlines and a trailing backslash', () => {
    for (const bad of ['a\nb', 'a\rb', 'a\\', 'a\\\nb', 'a\0']) {
      expect(() => regexLiteral(bad)).toThrow(expect.objectContaining({ code: 'INFLUX_ERR_QUERY_INPUT' }));
    }
  });

  it('escapeRegex matches the text literally (checked with JavaScript RegExp, which reads \\xHH as RE2 does)', () => {
    fc.assert(
      fc.property(nasty, nasty, (value, other) => {
        const re = new RegExp(`^(?:${escapeRegex(value)})$`, 'u');
        expect(re.test(value)).toBe(true);
        expect(re.test(other)).toBe(other === value);
        expect(escapeRegex(value)).not.toMatch(/\\\//);
      }),
    );
    expect(regexAnyOf(['a/b', 'c'])).toBe('/^(?:a\\x2fb|c)$/');
  });
});

describe('durations and times', () => {
  it.each(['30s', '5m', '1h', '1d', '2w', '90d'])('accepts %s', (d) => {
    expect(duration(d)).toBe(d);
  });

  it.each(['', '5', '0s', '5M', '1.5h', '-1h', '5mo', '1h30m', '5m) fill(0', ' 5m', '1234567s'])(
    'rejects %j',
    (d) => {
      expect(() => duration(d)).toThrow(expect.objectContaining({ code: 'INFLUX_ERR_QUERY_INPUT' }));
    },
  );

  it('measures durations', () => {
    expect(durationMs('5m')).toBe(300_000);
    expect(durationMs('1d')).toBe(86_400_000);
  });

  it('writes times as integer epoch milliseconds', () => {
    expect(timeLiteral(1_700_000_000_123)).toBe('1700000000123ms');
    expect(timeLiteral(new Date(5))).toBe('5ms');
    expect(() => timeLiteral(1.5)).toThrow(expect.objectContaining({ code: 'INFLUX_ERR_QUERY_INPUT' }));
    expect(() => timeLiteral(new Date(Number.NaN))).toThrow(
      expect.objectContaining({ code: 'INFLUX_ERR_QUERY_INPUT' }),
    );
  });
});

describe('conditions', () => {
  it('builds tag filters in key order', () => {
    expect(whereTags({ district: ['Huế', "Phú 'Hội'"], device: 'aq-1', gateway: undefined })).toBe(
      `"device" = 'aq-1' AND ("district" = 'Huế' OR "district" = 'Phú \\'Hội\\'')`,
    );
    expect(whereTags({ gateway: undefined })).toBeUndefined();
    expect(() => whereTags({ device: [] })).toThrow(
      expect.objectContaining({ code: 'INFLUX_ERR_QUERY_INPUT' }),
    );
  });

  it('joins conditions', () => {
    expect(and(whereTags({ device: 'a' }), undefined, timeRange(1, 2))).toBe(
      `("device" = 'a') AND (time >= 1ms AND time < 2ms)`,
    );
    expect(and(undefined)).toBeUndefined();
  });
});

describe('statements', () => {
  it('selectHistory groups by time with fill(none)', () => {
    expect(
      selectHistory({
        measurement: 'flood',
        fields: ['water_level_m', 'rain_mm'],
        device: "fl'1",
        from: 1000,
        to: 2000,
        every: '5m',
        fn: 'mean',
      }),
    ).toBe(
      `SELECT mean("water_level_m") AS "water_level_m", mean("rain_mm") AS "rain_mm" FROM "flood" ` +
        `WHERE "device" = 'fl\\'1' AND time >= 1000ms AND time < 2000ms GROUP BY time(5m) fill(none)`,
    );
  });

  it('selectHistory without a bucket aggregates the whole range; refuses a bad duration or function', () => {
    expect(selectHistory({ measurement: 'm', fields: ['f'], device: 'd', from: 0, to: 1, fn: 'max' })).toBe(
      `SELECT max("f") AS "f" FROM "m" WHERE "device" = 'd' AND time >= 0ms AND time < 1ms`,
    );
    const base = { measurement: 'm', fields: ['f'], device: 'd', from: 0, to: 1 } as const;
    expect(() => selectHistory({ ...base, fn: 'mean', every: '5m; DROP' })).toThrow(
      expect.objectContaining({ code: 'INFLUX_ERR_QUERY_INPUT' }),
    );
    expect(() => selectHistory({ ...base, fn: 'mean) FROM x; --' as 'mean' })).toThrow(
      expect.objectContaining({ code: 'INFLUX_ERR_QUERY_INPUT' }),
    );
  });

  it('selectLast returns the latest row per group', () => {
    expect(
      selectLast({ measurement: 'air_quality', where: whereTags({ district: 'Huế' }), groupBy: ['device'] }),
    ).toBe(
      `SELECT * FROM "air_quality" WHERE "district" = 'Huế' GROUP BY "device" ORDER BY time DESC LIMIT 1`,
    );
    expect(selectLast({ measurement: 'm', fields: ['a', 'b'], retentionPolicy: 'rp' })).toBe(
      `SELECT "a", "b" FROM "rp"."m" ORDER BY time DESC LIMIT 1`,
    );
  });

  it('createDatabase validates the retention', () => {
    expect(createDatabase('city', '90d')).toBe('CREATE DATABASE "city" WITH DURATION 90d');
    expect(createDatabase('city', 'INF')).toBe('CREATE DATABASE "city" WITH DURATION INF');
    expect(() => createDatabase('city', '90 days')).toThrow(
      expect.objectContaining({ code: 'INFLUX_ERR_QUERY_INPUT' }),
    );
  });
});

describe('selectRaw', () => {
  it('writes the query with every name and value escaped by the InfluxQL builders', () => {
    const q = selectRaw({
      measurement: 'flood',
      fields: ['water_level_m', 'rain_mm'],
      device: "x' OR ''='",
      from: 1000,
      to: 2000,
      limit: 50,
    });
    expect(q).toBe(
      `SELECT "water_level_m", "rain_mm" FROM "flood" WHERE "device" = ${str("x' OR ''='")} AND ` +
        `${timeRange(1000, 2000)} ORDER BY time ASC LIMIT 50`,
    );
  });

  it('quotes any device id as one string literal', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('\0') && !s.includes('\r')),
        (device) => {
          const q = selectRaw({
            measurement: 'flood',
            fields: ['rain_mm'],
            device,
            from: 0,
            to: 1,
            limit: 1,
          });
          expect(q).toContain(`"device" = ${str(device)}`);
        },
      ),
    );
  });

  it('refuses an empty field list and a limit that is not a positive integer', () => {
    const base = { measurement: 'flood', device: 'd', from: 0, to: 1 };
    expect(() => selectRaw({ ...base, fields: [], limit: 1 })).toThrow();
    expect(() => selectRaw({ ...base, fields: ['rain_mm'], limit: 1.5 })).toThrow();
  });
});

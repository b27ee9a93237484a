import { Point } from '@influxdata/influxdb-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../devices/index.ts';
import { isInfluxError } from './errors.ts';
import {
  createReadingEncoder,
  encodeLine,
  encodeReading,
  encodeTags,
  type LineFieldValue,
} from './line-protocol.ts';

// Characters that need escaping, mixed with any other writable character (no control character, no
// backslash: those are refused, see line-protocol.ts).
const special = fc.constantFrom(',', '=', ' ', '"', "'", '#', 'é', '😀', 'Huế');
// eslint-disable-next-line no-control-regex -- the characters the encoder refuses
const REFUSED = /[\u0000-\u001f\u007f\\]/;
const ordinary = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !REFUSED.test(c));
const text = (minLength: number) =>
  fc.string({ unit: fc.oneof(special, ordinary), minLength, maxLength: 12 });
const measurement = text(1).filter((m) => !m.startsWith('#'));
// Field keys start with a letter so that JavaScript keeps their insertion order (integer-like keys move first).
const fieldKey = text(0).map((k) => `f${k}`);
const fieldValue: fc.Arbitrary<LineFieldValue> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.string({ unit: fc.oneof(special, ordinary, fc.constantFrom('\\', '\t')), maxLength: 12 }),
);

/** The same line through Point, the client library's well-tested encoder. */
function reference(
  name: string,
  tags: Record<string, string>,
  fields: [string, LineFieldValue][],
  time: number,
): string | undefined {
  const point = new Point(name).timestamp(time);
  for (const [k, v] of Object.entries(tags)) point.tag(k, v);
  for (const [k, v] of fields) {
    if (typeof v === 'number') point.floatField(k, v);
    else if (typeof v === 'string') point.stringField(k, v);
    else point.fields[k] = v ? 'true' : 'false'; // Point writes T/F; both are valid booleans
  }
  return point.toLineProtocol();
}

describe('encodeLine', () => {
  it('matches Point#toLineProtocol for random valid input', () => {
    fc.assert(
      fc.property(
        measurement,
        // `__proto__` is left out: Point stores tags in a plain object, where it sets the prototype instead.
        fc.dictionary(
          text(1).filter((k) => k !== '__proto__'),
          text(0),
          { maxKeys: 4 },
        ),
        fc.uniqueArray(fc.tuple(fieldKey, fieldValue), { minLength: 1, maxLength: 5, selector: ([k]) => k }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (name, tags, fieldList, time) => {
          const sorted = [...fieldList].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)); // Point sorts fields
          const line = encodeLine(name, encodeTags(tags), Object.fromEntries(sorted), time);
          expect(line).toBe(reference(name, tags, sorted, time));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('writes every number as a float, never with the integer suffix', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })), (n) => {
        const line = encodeLine('m', '', { v: n }, 1);
        expect(line).not.toMatch(/i 1$/);
        expect(Number(line.slice('m v='.length, -2))).toBe(n === 0 ? 0 : n);
      }),
    );
    expect(encodeLine('m', '', { v: 12 }, 5)).toBe('m v=12 5');
  });

  it('writes booleans as true/false', () => {
    expect(encodeLine('streetlight', '', { lamp_on: true, b: false }, 7)).toBe(
      'streetlight lamp_on=true,b=false 7',
    );
  });

  it.each([
    ['a newline in a tag value', () => encodeTags({ device: 'a\nb' })],
    ['a carriage return in a tag key', () => encodeTags({ 'a\rb': 'x' })],
    ['a backslash in a tag value', () => encodeTags({ device: 'a\\' })],
    ['a newline in the measurement', () => encodeLine('m\n', '', { v: 1 }, 1)],
    ['a measurement starting with #', () => encodeLine('#m', '', { v: 1 }, 1)],
    ['a newline in a field key', () => encodeLine('m', '', { 'v\n': 1 }, 1)],
    ['a newline in a string value', () => encodeLine('m', '', { v: 'a\nb' }, 1)],
    ['NaN', () => encodeLine('m', '', { v: Number.NaN }, 1)],
    ['Infinity', () => encodeLine('m', '', { v: Number.POSITIVE_INFINITY }, 1)],
    ['no fields', () => encodeLine('m', '', {}, 1)],
    ['a fractional time', () => encodeLine('m', '', { v: 1 }, 1.5)],
  ])('refuses %s with INFLUX_ERR_LINE', (_what, encode) => {
    expect(encode).toThrow(expect.objectContaining({ code: 'INFLUX_ERR_LINE' }));
    try {
      encode();
    } catch (err) {
      expect(isInfluxError(err, 'INFLUX_ERR_LINE')).toBe(true);
    }
  });
});

describe('encodeTags', () => {
  it('sorts by key, leaves out empty values and escapes', () => {
    expect(encodeTags({ gateway: undefined, district: 'Phú Hội', device: 'aq-01', x: '' })).toBe(
      ',device=aq-01,district=Phú\\ Hội',
    );
    expect(encodeTags({ 'k=,': 'v=, ' })).toBe(',k\\=\\,=v\\=\\,\\ ');
    expect(encodeTags({})).toBe('');
    expect(encodeTags(JSON.parse('{"__proto__": "x"}') as Record<string, string>)).toBe(',__proto__=x');
  });
});

describe('encodeReading', () => {
  const reading: Reading = {
    kind: 'flood',
    device: 'fl-07',
    time: 1_700_000_000_123,
    fields: { water_level_m: 2.5 },
  };

  it('uses the kind as measurement and the millisecond time', () => {
    expect(encodeReading(reading, encodeTags({ device: 'fl-07' }))).toBe(
      'flood,device=fl-07 water_level_m=2.5 1700000000123',
    );
  });

  it('encodes each device tag set once until invalidated', () => {
    const asked: string[] = [];
    const encoder = createReadingEncoder((device) => {
      asked.push(device);
      return { device, district: 'Kim Long' };
    });
    const line = encoder.encode(reading);
    encoder.encode({ ...reading, time: reading.time + 1 });
    encoder.invalidate('fl-07');
    encoder.encode(reading);
    expect(line).toBe('flood,device=fl-07,district=Kim\\ Long water_level_m=2.5 1700000000123');
    expect(asked).toEqual(['fl-07', 'fl-07']);
  });
});

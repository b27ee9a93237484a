// InfluxDB line protocol, written by hand because it is the hot path (every reading, 30k+/s): one string
// built per reading, tag sets encoded once per device and reused. Checked against
// `@influxdata/influxdb-client`'s Point#toLineProtocol in line-protocol.test.ts.
//
// Escaping (line protocol reference, "Special characters"): measurement: comma and space; tag keys, tag
// values and field keys: comma, equals sign and space; string field values: double quote and backslash.
//
// Refused outright (INFLUX_ERR_LINE), because no escaping writes them the same way on 1.x, 2.x and 3.x:
// - control characters (U+0000–U+001F, U+007F): a newline ends the line, and the client library writes
//   `\n`/`\t`, which InfluxDB 1.x stores as the two characters backslash and `n`;
// - backslashes in names and tags: 1.x keeps `\\` as two backslashes where the 2.x reference reads one, and
//   a trailing backslash escapes the separator after it (`t=a\ f=1` is a parse error);
// - a measurement starting with `#`: the line is read as a comment and silently dropped (seen on 1.6.7).
import type { Reading } from '../devices/index.ts';
import { InfluxError } from './errors.ts';

export type LineFieldValue = number | boolean | string;
export type TagSet = Readonly<Record<string, string | undefined>>;

/** Characters that can never appear in a measurement, tag or field key, or tag value. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;
const MEASUREMENT_SPECIAL = /[, ]/;
const MEASUREMENT_SPECIAL_ALL = /[, ]/g;
const KEY_SPECIAL = /[,= ]/;
const KEY_SPECIAL_ALL = /[,= ]/g;
const STRING_SPECIAL = /["\\]/;
const STRING_SPECIAL_ALL = /["\\]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const STRING_FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f]/; // tab is fine inside quotes

const STRING_FORBIDDEN_ALL = new RegExp(STRING_FORBIDDEN.source, 'g');

/** Text for a string field with the control characters it cannot carry made spaces (a note typed with
 * line breaks, a receiver's multi-line answer): kept whole elsewhere, flattened for InfluxDB. */
export function flatText(text: string): string {
  return text.replace(STRING_FORBIDDEN_ALL, ' ');
}

function refuse(what: string, value: string, why: string): never {
  throw new InfluxError('INFLUX_ERR_LINE', `${what} ${JSON.stringify(value)} ${why}`);
}

export function escapeMeasurement(name: string): string {
  if (name === '') refuse('measurement', name, 'is empty');
  if (FORBIDDEN.test(name)) refuse('measurement', name, 'contains a control character or backslash');
  if (name.charCodeAt(0) === 0x23) refuse('measurement', name, 'starts with # (a comment line)');
  return MEASUREMENT_SPECIAL.test(name) ? name.replace(MEASUREMENT_SPECIAL_ALL, '\\$&') : name;
}

/** Escapes a tag key, tag value or field key. */
export function escapeKey(key: string, what = 'key'): string {
  if (key === '') refuse(what, key, 'is empty');
  if (FORBIDDEN.test(key)) refuse(what, key, 'contains a control character or backslash');
  return KEY_SPECIAL.test(key) ? key.replace(KEY_SPECIAL_ALL, '\\$&') : key;
}

/**
 * Encodes a tag set once, for reuse on every line of the same device: `,k1=v1,k2=v2` sorted by key (the
 * order InfluxDB recommends, and the one Point uses), tags with an empty or missing value left out.
 * Returns '' for no tags.
 */
export function encodeTags(tags: TagSet): string {
  let out = '';
  for (const key of Object.keys(tags).sort()) {
    const value = tags[key];
    if (value === undefined || value === '') continue;
    out += `,${escapeKey(key, 'tag key')}=${escapeKey(value, 'tag value')}`;
  }
  return out;
}

function encodeValue(key: string, value: LineFieldValue): string {
  if (typeof value === 'number') {
    // Always a float: never the `i` suffix, so a field's type cannot flip with the value (`12` is a float).
    if (!Number.isFinite(value)) refuse('field', key, `has the non-finite value ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (STRING_FORBIDDEN.test(value)) refuse('field', key, 'has a string value with a control character');
  return STRING_SPECIAL.test(value) ? `"${value.replace(STRING_SPECIAL_ALL, '\\$&')}"` : `"${value}"`;
}

/** `,k=v,k=v` for fields to append to a line's own (`encodeLine`'s `encodedExtra`); '' for none. */
export function encodeFields(fields: Readonly<Record<string, LineFieldValue | undefined>>): string {
  let out = '';
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    if (value === undefined) continue;
    const k = KEY_SPECIAL.test(key) || FORBIDDEN.test(key) || key === '' ? escapeKey(key, 'field key') : key;
    out += ',' + k + '=' + encodeValue(key, value);
  }
  return out;
}

/**
 * One line: `measurement<encodedTags> k=v,... <timeMs>` for writes with `precision=ms`.
 * `encodedTags` must come from encodeTags, `encodedExtra` (fields after the line's own) from encodeFields.
 * Throws INFLUX_ERR_LINE for a value that cannot be written.
 */
export function encodeLine(
  measurement: string,
  encodedTags: string,
  fields: Readonly<Record<string, LineFieldValue>>,
  timeMs: number,
  encodedExtra = '',
): string {
  if (!Number.isSafeInteger(timeMs)) refuse('time', String(timeMs), 'is not an integer of milliseconds');
  const own = encodeFields(fields);
  if (own === '') refuse('line for', measurement, 'has no fields');
  return `${escapeMeasurement(measurement)}${encodedTags} ${own.slice(1)}${encodedExtra} ${timeMs}`;
}

/** A canonical reading as one line: measurement = kind; `encodedTags` from encodeTags (device, district...),
 * `encodedExtra` from encodeFields (the registry's fields of its device). */
export function encodeReading(reading: Reading, encodedTags: string, encodedExtra = ''): string {
  return encodeLine(reading.kind, encodedTags, reading.fields, reading.time, encodedExtra);
}

export interface ReadingEncoder {
  /** The reading as one line, with its device's tags encoded once and cached. */
  encode(reading: Reading): string;
  /** Forget a device's cached tags (after its district or gateway changes). */
  invalidate(device?: string): void;
}

/**
 * An encoder that caches each device's encoded tag set. `tagsOf` returns the tags of a device (the
 * `device` tag included); it is called once per device until invalidated.
 */
export function createReadingEncoder(tagsOf: (device: string) => TagSet): ReadingEncoder {
  const cache = new Map<string, string>();
  return {
    encode(reading) {
      let tags = cache.get(reading.device);
      if (tags === undefined) {
        tags = encodeTags(tagsOf(reading.device));
        cache.set(reading.device, tags);
      }
      return encodeReading(reading, tags);
    },
    invalidate(device) {
      if (device === undefined) cache.clear();
      else cache.delete(device);
    },
  };
}

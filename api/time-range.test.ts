import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.ts';
import {
  checkBuckets,
  DEFAULT_LOOKBACK_MS,
  Every,
  instant,
  MAX_BUCKETS,
  resolveRange,
} from './time-range.ts';

const NOW = Date.UTC(2025, 9, 27, 12, 0, 0);
const Instant = instant(() => NOW);

describe('instant', () => {
  it('reads RFC 3339 with an offset and epoch milliseconds as the same instant', () => {
    expect(Instant.parse('2025-10-27T12:00:00Z')).toBe(NOW);
    expect(Instant.parse('2025-10-27T19:00:00+07:00')).toBe(NOW);
    expect(Instant.parse(String(NOW))).toBe(NOW);
  });

  it('reads a time relative to now, as Grafana and InfluxDB users write it', () => {
    expect(Instant.parse('now')).toBe(NOW);
    expect(Instant.parse('now-1h')).toBe(NOW - 3_600_000);
    expect(Instant.parse('now-7d')).toBe(NOW - 7 * 86_400_000);
    expect(Instant.parse('now+30m')).toBe(NOW + 1_800_000);
    expect(Instant.parse('now-2w')).toBe(NOW - 14 * 86_400_000);
    expect(Instant.parse('now-500ms')).toBe(NOW - 500);
  });

  it('refuses a time without an offset, words, negatives and fractions, saying what it takes', () => {
    for (const text of [
      '2025-10-27T12:00:00',
      'yesterday',
      '-1',
      '1.5',
      '',
      '01',
      'now-1y',
      'now-1',
      'now - 1h',
    ]) {
      const result = Instant.safeParse(text);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/expected RFC 3339 .*now-1h/);
    }
  });

  it('refuses a relative time before 1970 or after 2262', () => {
    expect(Instant.safeParse('now-100000w').error?.issues[0]?.message).toMatch(/between 1970-01-01 and 2262/);
  });

  it('round-trips any instant written either way', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        expect(Instant.parse(String(ms))).toBe(ms);
        expect(Instant.parse(new Date(ms).toISOString())).toBe(ms);
      }),
    );
  });
});

describe('Every', () => {
  it('takes the durations the InfluxQL builder takes', () => {
    for (const ok of ['30s', '5m', '1h', '1d', '2w']) expect(Every.safeParse(ok).success).toBe(true);
    for (const bad of ['5', '5 m', '0m', '1y', '5m)', "5m'", '1ms'])
      expect(Every.safeParse(bad).success).toBe(false);
  });
});

describe('resolveRange', () => {
  it('defaults to the day before now, and to one day before `to`', () => {
    expect(resolveRange({}, NOW)).toEqual({ from: NOW - DEFAULT_LOOKBACK_MS, to: NOW });
    expect(resolveRange({ to: NOW - 1000 }, NOW)).toEqual({
      from: NOW - 1000 - DEFAULT_LOOKBACK_MS,
      to: NOW - 1000,
    });
  });

  it('refuses an empty or inverted range', () => {
    expect(() => resolveRange({ from: NOW, to: NOW }, NOW)).toThrow(ApiError);
    expect(() => resolveRange({ from: NOW + 1 }, NOW)).toThrow(/before/);
  });
});

describe('checkBuckets', () => {
  it('allows MAX_BUCKETS buckets and refuses one more', () => {
    expect(() => checkBuckets({ from: 0, to: MAX_BUCKETS * 60_000 }, '1m')).not.toThrow();
    expect(() => checkBuckets({ from: 0, to: MAX_BUCKETS * 60_000 + 1 }, '1m')).toThrow(/buckets/);
  });
});

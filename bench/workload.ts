// The benchmark's workload, the same for every system under test: air-quality stations in Huế's central
// wards, each reading a JSON object with `ts` = publish time, and the line protocol those readings become.
// Also the measurement every system shares: when InfluxDB confirms a batch, now − ts of each line in it.
import { createLatencyHistogram, type LatencySummary } from '../simulators/index.ts';

/** Central wards usable as a device's district (docs/hue-places.md, "Administrative units"). */
const WARDS = ['Phú Xuân', 'Thuận Hóa', 'Kim Long', 'Vỹ Dạ', 'An Cựu', 'Thủy Xuân'] as const;

export interface BenchDevice {
  readonly id: string;
  readonly district: string;
}

export function benchDevices(count: number): BenchDevice[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `bench-aq-${String(i + 1).padStart(4, '0')}`,
    district: WARDS[i % WARDS.length] ?? 'Thuận Hóa',
  }));
}

// A type, not an interface, so it fits where line protocol takes any record of field values.
export type BenchFields = {
  readonly pm25: number;
  readonly pm10: number;
  readonly temperature: number;
  readonly humidity: number;
};

/**
 * Plausible values varying with the sequence number: PM2.5 9–22 µg/m³ (Huế's typical range,
 * docs/hue-places.md "Air quality"), PM10 about 1.8 times that, 24–32 °C, 70–95 %RH.
 */
export function benchFields(seq: number): BenchFields {
  const pm25 = 9 + (seq % 131) / 10;
  return {
    pm25,
    pm10: Math.round(pm25 * 18) / 10,
    temperature: 24 + (seq % 81) / 10,
    humidity: 70 + (seq % 251) / 10,
  };
}

/**
 * Millisecond timestamps unique per device: InfluxDB keeps one point per series and timestamp, so two
 * readings of one device in the same millisecond would be stored as one and look like a loss. At the
 * default load (150 readings/s per device) a bump is rare; each one moves `ts` at most a few ms ahead.
 */
export function createTimestamper(): { next(device: string, now: number): number; bumped(): number } {
  const last = new Map<string, number>();
  let bumps = 0;
  return {
    next(device, now) {
      const previous = last.get(device) ?? 0;
      let ts = Math.floor(now);
      if (ts <= previous) {
        ts = previous + 1;
        bumps++;
      }
      last.set(device, ts);
      return ts;
    },
    bumped: () => bumps,
  };
}

/** A device's MQTT payload, as a station sends it: its fields and `ts` in epoch ms. */
export function benchPayload(seq: number, ts: number): string {
  return JSON.stringify({ ...benchFields(seq), ts });
}

/** Tag values here hold spaces (`Phú Xuân`): line protocol escapes comma, equals sign and space. */
const escapeTag = (value: string): string => value.replace(/[,= ]/g, '\\$&');

/** The line the platform stores for such a reading (measurement = kind, tags device and district). */
export function benchLine(device: BenchDevice, fields: BenchFields, ts: number): string {
  return (
    `air_quality,device=${escapeTag(device.id)},district=${escapeTag(device.district)} ` +
    `pm25=${fields.pm25},pm10=${fields.pm10},temperature=${fields.temperature},humidity=${fields.humidity} ${ts}`
  );
}

/** The measurement of the bench's readings: the only lines the stored count and latency look at. */
export const BENCH_MEASUREMENT = 'air_quality';

/** Whether the line at `start` belongs to `measurement` (its name, then a comma or a space). */
function isOf(body: Uint8Array, start: number, end: number, measurement: Uint8Array): boolean {
  const after = start + measurement.length;
  if (after >= end) return false;
  for (let i = 0; i < measurement.length; i++) if (body[start + i] !== measurement[i]) return false;
  return body[after] === 0x2c || body[after] === 0x20;
}

/**
 * Calls `fn` with the trailing timestamp of every line of a line-protocol body (precision ms), or only of
 * the lines of `measurement` when given: the platform's batches also carry the alert probe's flood readings
 * and the alert transitions, whose timestamps are the probe's device time, hours in the past.
 */
export function forEachLineTime(body: Uint8Array, fn: (ts: number) => void, measurement?: string): number {
  const only = measurement === undefined ? undefined : Buffer.from(measurement);
  let lines = 0;
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf(0x0a, start);
    if (end === -1) end = body.length;
    if (end > start && (only === undefined || isOf(body, start, end, only))) {
      let i = end - 1;
      let ts = 0;
      let scale = 1;
      while (i >= start && body[i]! >= 0x30 && body[i]! <= 0x39) {
        ts += (body[i]! - 0x30) * scale;
        scale *= 10;
        i--;
      }
      fn(ts);
      lines++;
    }
    start = end + 1;
  }
  return lines;
}

export interface StoredSummary {
  readonly stored: number;
  /** Epoch ms of the first and last confirmation; null before any. */
  readonly firstStoredAt: number | null;
  readonly lastStoredAt: number | null;
  readonly latency: JsonLatency;
}

/** A LatencySummary that survives JSON: NaN (nothing recorded) becomes null. */
export interface JsonLatency {
  readonly count: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export function jsonLatency(s: LatencySummary): JsonLatency {
  const n = (v: number) => (Number.isFinite(v) ? v : null);
  return { count: s.count, p50: n(s.p50), p99: n(s.p99), max: n(s.max) };
}

/**
 * Counts confirmed readings and records publish-to-stored latency from the lines' own timestamps; only the
 * lines of `measurement` when given (the platform's batches hold other lines too).
 */
export function createStoredTracker(clock: () => number = Date.now, measurement?: string) {
  const latency = createLatencyHistogram();
  let stored = 0;
  let measureFrom = -Infinity;
  // Lines published in the warm-up are counted as stored, not timed.
  const record = (now: number, ts: number) => {
    if (ts >= measureFrom) latency.record(Math.max(0, now - ts));
  };
  let firstStoredAt: number | null = null;
  let lastStoredAt: number | null = null;
  return {
    batchStored(body: Uint8Array): void {
      const now = clock();
      // A timestamp bumped ahead of the clock (createTimestamper) counts as 0 ms, not as a negative.
      const lines = forEachLineTime(body, (ts) => record(now, ts), measurement);
      // A batch of none of the measured lines (health points, alert events, notification attempts written
      // after the load) does not stretch the time the load took to store.
      if (lines === 0) return;
      stored += lines;
      firstStoredAt ??= now;
      lastStoredAt = now;
    },
    /** The same, for a caller that kept each line's timestamp. */
    timesStored(times: readonly number[]): void {
      const now = clock();
      for (const ts of times) record(now, ts);
      stored += times.length;
      firstStoredAt ??= now;
      lastStoredAt = now;
    },
    /** Readings published before `ms` (the warm-up) are not timed. */
    measureFrom(ms: number): void {
      measureFrom = ms;
    },
    stored: () => stored,
    summary: (): StoredSummary => ({
      stored,
      firstStoredAt,
      lastStoredAt,
      latency: jsonLatency(latency.summary()),
    }),
  };
}

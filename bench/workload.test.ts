import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_SCHEMAS } from '../devices/index.ts';
import { encodeLine, encodeTags } from '../influx/index.ts';
import { lossNote, type Row } from './report.ts';
import {
  BENCH_MEASUREMENT,
  benchDevices,
  benchFields,
  benchLine,
  benchPayload,
  createStoredTracker,
  createTimestamper,
  forEachLineTime,
} from './workload.ts';

const times = (text: string) => {
  const out: number[] = [];
  forEachLineTime(Buffer.from(text), (ts) => out.push(ts));
  return out;
};

describe('the benchmark workload', () => {
  it('writes the very line the platform writes for the same reading', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.integer({ min: 1, max: 500 }), fc.nat(2 ** 42), (seq, n, ts) => {
        const device = benchDevices(n).at(-1)!;
        const fields = benchFields(seq);
        const platformLine = encodeLine(
          'air_quality',
          encodeTags({ device: device.id, district: device.district }),
          fields,
          ts,
        );
        expect(benchLine(device, fields, ts)).toBe(platformLine);
      }),
    );
  });

  it('sends payloads the platform accepts', () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), (seq) => {
        const parsed = PAYLOAD_SCHEMAS.air_quality.safeParse(
          JSON.parse(benchPayload(seq, 1_795_000_000_000)),
        );
        expect(parsed.success).toBe(true);
      }),
    );
  });

  it('reads back the trailing timestamp of every line', () => {
    expect(times('m,t=a f=1 17\nm,t=b\\ c f=2,g=3 1795000000123\n')).toEqual([17, 1795000000123]);
    expect(times('m f=1 5')).toEqual([5]);
    expect(times('\n\nm f=1 6\n\n')).toEqual([6]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1_000), fc.nat(2 ** 42)), { maxLength: 50 }), (rows) => {
        const [device] = benchDevices(1);
        const body = rows.map(([seq, ts]) => benchLine(device!, benchFields(seq), ts)).join('\n');
        expect(times(body)).toEqual(rows.map(([, ts]) => ts));
      }),
    );
  });

  it('reads only the bench measurement’s lines when asked', () => {
    const body =
      'air_quality,device=a pm25=1 10\nflood,device=p water_level_m=0.3 20\n' +
      'alerts,rule=street-flooded open=1i 30\nair_quality_x f=1 40\nair_quality f=1 50\n';
    const out: number[] = [];
    expect(forEachLineTime(Buffer.from(body), (ts) => out.push(ts), BENCH_MEASUREMENT)).toBe(2);
    expect(out).toEqual([10, 50]);
    let now = 100;
    const tracker = createStoredTracker(() => now, BENCH_MEASUREMENT);
    tracker.batchStored(Buffer.from(body));
    expect(tracker.summary()).toMatchObject({ stored: 2, latency: { count: 2, max: 90 } });
    // A later batch of other lines (health points, alert events) is not the load being stored.
    now = 20_000;
    tracker.batchStored(Buffer.from('platform,host=h readings=0 19990\n'));
    expect(tracker.summary()).toMatchObject({ stored: 2, firstStoredAt: 100, lastStoredAt: 100 });
  });

  it('counts the readings published in the warm-up as stored, without timing them', () => {
    const tracker = createStoredTracker(() => 100);
    tracker.measureFrom(40);
    tracker.batchStored(Buffer.from('air_quality f=1 10\nair_quality f=1 50\n'));
    tracker.timesStored([20, 60]);
    expect(tracker.summary()).toMatchObject({ stored: 4, latency: { count: 2, max: 50 } });
  });

  it('never gives one device the same millisecond twice', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.nat(50)), { maxLength: 200 }),
        (events) => {
          const stamps = createTimestamper();
          const seen = new Map<string, number>();
          let now = 1_795_000_000_000;
          for (const [device, step] of events) {
            now += step / 10; // the clock moves forward, often by less than a millisecond
            const ts = stamps.next(device, now);
            expect(ts).toBeGreaterThan(seen.get(device) ?? 0);
            expect(ts).toBeGreaterThanOrEqual(Math.floor(now));
            seen.set(device, ts);
          }
        },
      ),
    );
  });

  it('measures stored latency from the lines’ own timestamps', () => {
    let now = 1000;
    const tracker = createStoredTracker(() => now);
    tracker.batchStored(Buffer.from('m f=1 900\nm f=2 990\n'));
    now = 1100;
    tracker.timesStored([1100, 1150]); // a timestamp ahead of the clock counts as 0 ms
    const s = tracker.summary();
    expect(s).toMatchObject({ stored: 4, firstStoredAt: 1000, lastStoredAt: 1100 });
    expect(s.latency.count).toBe(4);
    expect(s.latency.max).toBe(100);
  });
});

describe('the loss column', () => {
  const row = (sent: number, acked: number | undefined, inDb: number): Row => ({
    system: 's',
    sent,
    acked,
    stored: inDb,
    inDb,
    perSecond: 1,
    p50: null,
    p99: null,
    max: null,
    peakRssKb: undefined,
    notes: [],
  });

  it('reports acknowledged readings missing from InfluxDB as lost', () => {
    expect(lossNote(row(100, 90, 89))).toMatch(/^LOST 1 acknowledged/);
    expect(lossNote(row(100, undefined, 99))).toMatch(/^LOST 1 written/);
    expect(lossNote(row(100, 90, 95))).toMatch(/^all acknowledged stored; 5 unacknowledged/);
    expect(lossNote(row(100, 100, 100))).toBe('InfluxDB holds all 100');
  });
});

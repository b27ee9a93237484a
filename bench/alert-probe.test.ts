import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_SCHEMAS } from '../devices/index.ts';
import {
  createAlertMatcher,
  parseAlertMessage,
  PROBE_RULE,
  PROBE_STEP_MS,
  probeOrigin,
  probePayload,
  probeReading,
  type ProbeReading,
} from './alert-probe.ts';
import { CEILING_US_PER_READING, costPct, RULES_GOALS, rulesSummary } from './rules-report.ts';
import type { Row } from './report.ts';

const NOW = 1_795_000_000_000;

/** The alert message the platform publishes for a transition at `ts` (alerts/sinks.ts). */
const alertFor = (ts: number, type: string, rule = PROBE_RULE) =>
  parseAlertMessage(
    JSON.stringify({
      alert: { id: 1, rule, device: 'bench-street-probe', state: 'open' },
      event: { id: 2, type, at: new Date(ts).toISOString(), message: 'Street flooded' },
    }),
  );

describe('the alert probe', () => {
  it('raises on the second reading of each triple and clears on the third', () => {
    const first = Array.from({ length: 6 }, (_, i) => probeReading(i, NOW));
    expect(first.map((r) => r.depth)).toEqual([0.3, 0.3, 0, 0.3, 0.3, 0]);
    expect(first.map((r) => r.expect)).toEqual([
      undefined,
      'raised',
      'resolved',
      undefined,
      'raised',
      'resolved',
    ]);
    // Past the rule's one-minute sustain between two readings; whole seconds, so RFC 3339 keeps them.
    expect(PROBE_STEP_MS).toBeGreaterThan(60_000);
    for (const r of first) expect(r.ts % 1000).toBe(0);
  });

  it('never stamps a reading later than the real clock', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.nat(10 ** 12), (readings, drift) => {
        const now = NOW + drift;
        const origin = probeOrigin(now, readings);
        expect(probeReading(readings - 1, origin).ts).toBeLessThan(now);
      }),
    );
  });

  it('publishes payloads the platform accepts for a flood gauge', () => {
    const parsed = PAYLOAD_SCHEMAS.flood.safeParse(JSON.parse(probePayload(probeReading(1, NOW))));
    expect(parsed.success).toBe(true);
  });

  it('matches each alert to the reading that caused it, whatever arrives and in whatever order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat(1000)), { maxLength: 60 }),
        (count, fates) => {
          const matcher = createAlertMatcher(true);
          const readings: ProbeReading[] = [];
          for (let i = 0; i < count; i++) {
            const r = probeReading(i, NOW);
            readings.push(r);
            matcher.published(r, i * 100);
          }
          const caused = readings.filter((r) => r.expect !== undefined);
          let delivered = 0;
          // Deliver some of them, in reverse, each at least its publish time later.
          [...caused].reverse().forEach((r, i) => {
            const [arrives, delay] = fates[i] ?? [false, 0];
            if (!arrives) return;
            delivered++;
            matcher.received(alertFor(r.ts, r.expect ?? ''), readings.indexOf(r) * 100 + delay);
          });
          const s = matcher.summary();
          expect(s).toMatchObject({ published: count, expected: caused.length, received: delivered });
          expect(s.missing).toBe(caused.length - delivered);
          expect(s.latency.count).toBe(delivered);
          expect(matcher.outstanding()).toBe(s.missing);
        },
      ),
    );
  });

  it('counts the wrong type, an unknown time, a repeat and garbage as unexpected; other rules not at all', () => {
    const matcher = createAlertMatcher(true);
    const raise = probeReading(1, NOW);
    matcher.published(raise, 0);
    matcher.received(alertFor(raise.ts, 'resolved'), 5); // a clear where a raise was due
    matcher.received(alertFor(raise.ts + 1000, 'raised'), 5);
    matcher.received(alertFor(raise.ts, 'raised'), 7);
    matcher.received(alertFor(raise.ts, 'raised'), 8);
    matcher.received(parseAlertMessage('not json'), 9);
    matcher.received(alertFor(raise.ts, 'raised', 'silent-flood-gauge'), 9);
    expect(matcher.summary()).toMatchObject({ expected: 1, received: 1, missing: 0, unexpected: 4 });
    expect(matcher.summary().latency.max).toBe(7);
  });

  it('expects nothing from a platform without rules', () => {
    const matcher = createAlertMatcher(false);
    for (let i = 0; i < 9; i++) matcher.published(probeReading(i, NOW), i);
    expect(matcher.summary()).toMatchObject({ published: 9, expected: 0, missing: 0 });
  });
});

describe('the rules engine report', () => {
  const row = (perSecond: number, engineUs: number, gcUs: number, p99: number | null, missing = 0): Row => ({
    system: 'platform',
    sent: 1,
    acked: 1,
    stored: 1,
    inDb: 1,
    perSecond,
    p50: null,
    p99: null,
    max: null,
    peakRssKb: undefined,
    notes: [],
    cpuUsPerReading: 30 + engineUs + gcUs,
    timing: {
      engineUsPerReading: engineUs,
      gcUsPerReading: gcUs,
      transitions: { count: 0, p50: null, p99: null, max: null },
    },
    alerts: {
      published: 30,
      acked: 30,
      expected: 20,
      received: 20 - missing,
      missing,
      unexpected: 0,
      latency: { count: 20 - missing, p50: p99, p99, max: p99 },
      ackLatency: { count: 30, p50: 1, p99: 2, max: 3 },
    },
  });

  it('states the cost in % of the platform without rules', () => {
    expect(costPct(100, 90, true)).toBeCloseTo(10);
    expect(costPct(40, 46, false)).toBeCloseTo(15);
    const s = rulesSummary(row(14_000, 5, 5, 12), row(15_000, 1, 3, null));
    expect(s.storedPerSecond.costPct).toBeCloseTo(100 / 15);
    expect(s.cpuUsPerReading?.costPct).toBeCloseTo((100 * 6) / 34);
    // 6 µs more a reading, against the ceiling's 33.3 µs: the maximum rate falls by 6 / 39.3.
    expect(s.ceilingCostPct).toBeCloseTo((100 * 6) / (CEILING_US_PER_READING + 6));
  });

  it('meets the goals only when every cost is under the limit and no alert is missing', () => {
    const fast = RULES_GOALS.alertP99Ms - 1;
    const base = row(15_000, 1, 3, null);
    expect(rulesSummary(row(15_000, 2, 4, fast), base).met).toEqual({ alertP99: true, cost: true });
    expect(rulesSummary(row(15_000, 5, 6, fast), base).met.cost).toBe(false); // +7 µs: 17 %
    expect(rulesSummary(row(12_000, 1, 3, fast), base).met.cost).toBe(false); // 20 % fewer stored
    expect(rulesSummary(row(15_000, 1, 3, fast, 1), base).met.alertP99).toBe(false);
    expect(rulesSummary(row(15_000, 1, 3, RULES_GOALS.alertP99Ms), base).met.alertP99).toBe(false);
  });
});

// The benchmark's baselines with a token load (`npm run test:bench`, not part of `npm test`): the Mosquitto
// baseline stores what it acknowledged, and the platform runs with and without its rule set, every alert
// transition the probe caused coming back. Outcomes only; the numbers are BENCHMARKS.md's.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MOSQUITTO } from './mosquitto.ts';
import { bench } from './smoke-kit.ts';

describe('npm run bench, baselines', () => {
  it('stores what the Mosquitto baseline acknowledged', { timeout: 160_000 }, async () => {
    // scripts/install-deps.sh mosquitto (as .ci/run does) installs it.
    expect(existsSync(MOSQUITTO), `${MOSQUITTO} is missing: bash scripts/install-deps.sh mosquitto`).toBe(
      true,
    );
    const [baseline] = (await bench('--only', 'mosquitto')).rows;
    expect(baseline?.acked).toBeGreaterThan(0);
    expect(baseline?.inDb).toBeGreaterThanOrEqual(baseline?.acked ?? Infinity);
  });

  it(
    'runs the platform with and without rules, and every alert the probe caused arrives',
    { timeout: 160_000 },
    async () => {
      const { rows, rules } = await bench('--rules');
      const [without, withRules] = rows;
      expect(rows.map((r) => r.system)).toEqual(['platform, no rules', 'platform']);
      for (const row of rows) {
        expect(row.inDb).toBeGreaterThanOrEqual(row.acked ?? Infinity);
        expect(row.cpuUsPerReading).toBeGreaterThan(0);
      }
      // The Huế rule set watches the bench's stations and the probe's street gauge; the empty folder nothing.
      expect(without?.rules).toMatchObject({ loaded: 0, station: { selected: [], evaluated: [] } });
      expect(withRules?.rules?.loaded).toBeGreaterThan(0);
      expect(withRules?.rules?.station.evaluated).toEqual(
        expect.arrayContaining(['pm25-24h-qcvn', 'silent-air-station']),
      );
      expect(withRules?.rules?.gauge?.evaluated).toContain('street-flooded');
      // Two transitions for every three readings, each one back on MQTT; none without rules.
      const alerts = withRules?.alerts;
      expect(alerts?.expected).toBeGreaterThan(0);
      expect(alerts).toMatchObject({ missing: 0, unexpected: 0, received: alerts?.expected });
      // Those of the readings published in the 1 s warm-up arrive too, but are not timed.
      expect(alerts?.latency.count).toBeGreaterThan(0);
      expect(alerts?.latency.count).toBeLessThan(alerts?.expected ?? 0);
      expect(without?.alerts).toMatchObject({ expected: 0, received: 0, unexpected: 0 });
      expect(without?.alerts?.published).toBeGreaterThan(0);
      // Every transition went through the alert service, where the bench times it.
      expect(withRules?.timing?.transitions.count).toBeGreaterThan(0);
      expect(without?.timing?.transitions.count).toBe(0);
      expect(rules?.alerts).toEqual({ expected: alerts?.expected, received: alerts?.expected });
      expect(Number.isFinite(rules?.storedPerSecond.costPct)).toBe(true);
    },
  );
});

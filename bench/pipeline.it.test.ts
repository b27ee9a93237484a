// The benchmark end to end with a token load, so `npm run bench` cannot rot unnoticed: every system runs,
// and InfluxDB holds every reading each one acknowledged; with --rules, the platform runs with and without
// its rule set and every alert transition the probe caused comes back. Outcomes only; the numbers are
// BENCHMARKS.md's.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MOSQUITTO } from './mosquitto.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const Coverage = z.object({ selected: z.array(z.string()), evaluated: z.array(z.string()) });
const Count = z.object({ count: z.number() });

const Output = z.object({
  rows: z.array(
    z.object({
      system: z.string(),
      sent: z.number(),
      acked: z.number().optional(),
      stored: z.number(),
      inDb: z.number(),
      cpuUsPerReading: z.number().optional(),
      timing: z
        .object({ engineUsPerReading: z.number(), gcUsPerReading: z.number(), transitions: Count })
        .optional(),
      rules: z.object({ loaded: z.number(), station: Coverage, gauge: Coverage.optional() }).optional(),
      alerts: z
        .object({
          published: z.number(),
          acked: z.number(),
          expected: z.number(),
          received: z.number(),
          missing: z.number(),
          unexpected: z.number(),
          latency: Count,
          ackLatency: Count,
        })
        .optional(),
    }),
  ),
  rules: z
    .object({
      storedPerSecond: z.object({ without: z.number(), with: z.number(), costPct: z.number() }),
      cpuUsPerReading: z.object({ costPct: z.number() }).optional(),
      alerts: z.object({ expected: z.number(), received: z.number() }).optional(),
    })
    .optional(),
});
type Output = z.infer<typeof Output>;

const Memory = z.object({ rssKb: z.number(), heapUsedKb: z.number() });
const Connections = z.object({
  result: z.object({
    storm: z.object({ devices: z.number(), allConnectedMs: z.number() }),
    memory: z.object({ before: Memory, after: Memory }),
    flood: z.object({ codes: z.record(z.string(), z.number()) }),
    puback: z.object({ baseline: Count, storm: Count, flood: Count }),
  }),
});

async function bench(...extra: string[]): Promise<Output> {
  const args = [
    'tsx',
    'bench/pipeline.ts',
    '--devices',
    '4',
    '--rate',
    '400',
    '--duration',
    '2',
    '--warmup',
    '1',
  ];
  args.push('--pause', '0', '--json', ...extra);
  const { stdout } = await promisify(execFile)('npx', args, { cwd: ROOT, timeout: 150_000 });
  return Output.parse(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''));
}

describe('npm run bench', () => {
  it('stores every reading through the raw writer and the platform', { timeout: 160_000 }, async () => {
    const [raw, platform] = (await bench('--only', 'raw,platform')).rows;
    expect(raw).toMatchObject({ sent: 800, stored: 800, inDb: 800 });
    expect(platform?.system).toBe('platform');
    expect(platform?.acked).toBeGreaterThan(0);
    expect(platform?.inDb).toBeGreaterThanOrEqual(platform?.acked ?? Infinity);
    expect(platform?.stored).toBe(platform?.inDb);
  });

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

  it(
    'connects a storm of devices, measures their memory, and refuses every wrong password',
    { timeout: 160_000 },
    async () => {
      const args = ['tsx', 'bench/pipeline.ts', '--connections', '--storm', '200', '--flood', '40'];
      args.push('--flood-seconds', '1', '--baseline', '1', '--json');
      const { stdout } = await promisify(execFile)('npx', args, { cwd: ROOT, timeout: 150_000 });
      const { result } = Connections.parse(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''));
      expect(result.storm.devices).toBe(200);
      expect(result.storm.allConnectedMs).toBeGreaterThan(0);
      expect(result.flood.codes).toEqual({ refused: 40 });
      expect(result.memory.after.rssKb).toBeGreaterThan(0);
      // The storm of 200 may pass between two of the working devices' publishes; the others last a second.
      expect(result.puback.baseline.count).toBeGreaterThan(0);
      expect(result.puback.flood.count).toBeGreaterThan(0);
    },
  );
});

// The benchmark end to end with a token load, so `npm run bench` cannot rot unnoticed: every system runs,
// and InfluxDB holds every reading each one acknowledged. Outcomes only; the numbers are BENCHMARKS.md's.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MOSQUITTO } from './mosquitto.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const Output = z.object({
  rows: z.array(
    z.object({
      system: z.string(),
      sent: z.number(),
      acked: z.number().optional(),
      stored: z.number(),
      inDb: z.number(),
    }),
  ),
});

async function bench(only: string): Promise<z.infer<typeof Output>['rows']> {
  const args = ['tsx', 'bench/pipeline.ts', '--devices', '4', '--rate', '400', '--duration', '2'];
  args.push('--pause', '0', '--only', only, '--json');
  const { stdout } = await promisify(execFile)('npx', args, { cwd: ROOT, timeout: 150_000 });
  return Output.parse(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).rows;
}

describe('npm run bench', () => {
  it('stores every reading through the raw writer and the platform', { timeout: 160_000 }, async () => {
    const [raw, platform] = await bench('raw,platform');
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
    const [baseline] = await bench('mosquitto');
    expect(baseline?.acked).toBeGreaterThan(0);
    expect(baseline?.inDb).toBeGreaterThanOrEqual(baseline?.acked ?? Infinity);
  });
});

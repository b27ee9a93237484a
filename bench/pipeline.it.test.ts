// The benchmark's code still runs, so `npm run bench` cannot rot unnoticed: a token load through the raw
// writer and the platform stores every reading, and the connection scenario connects, measures and refuses.
// Outcomes only; the numbers are BENCHMARKS.md's. The Mosquitto baseline and the rules comparison are
// checked by `npm run test:bench` (baselines.bench.test.ts): they are benchmarks, not tests.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bench, Connections, ROOT } from './smoke-kit.ts';

describe('npm run bench', () => {
  it('stores every reading through the raw writer and the platform', { timeout: 160_000 }, async () => {
    const [raw, platform] = (await bench('--only', 'raw,platform')).rows;
    expect(raw).toMatchObject({ sent: 800, stored: 800, inDb: 800 });
    expect(platform?.system).toBe('platform');
    expect(platform?.acked).toBeGreaterThan(0);
    expect(platform?.inDb).toBeGreaterThanOrEqual(platform?.acked ?? Infinity);
    expect(platform?.stored).toBe(platform?.inDb);
  });

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

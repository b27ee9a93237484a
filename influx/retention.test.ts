import { describe, expect, it } from 'vitest';
import { checkRetention, goDurationMs } from './retention.ts';
import type { Series } from './series.ts';

const policies = (duration: string): Promise<Series[][]> =>
  Promise.resolve([
    [
      {
        name: '',
        columns: ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'],
        values: [['autogen', duration, '168h0m0s', 1, true]],
      },
    ],
  ]);

describe('retention', () => {
  it('reads Go durations as InfluxDB prints them', () => {
    expect(goDurationMs('2160h0m0s')).toBe(90 * 86_400_000);
    expect(goDurationMs('0s')).toBe(0);
    expect(goDurationMs('1h30m0s')).toBe(5_400_000);
    expect(goDurationMs('nonsense')).toBeNaN();
  });

  it('warns only when the default policy differs', async () => {
    expect(await checkRetention(() => policies('2160h0m0s'), 'city', '90d')).toBeUndefined();
    expect(await checkRetention(() => policies('0s'), 'city', 'INF')).toBeUndefined();
    expect(await checkRetention(() => policies('0s'), 'city', '90d')).toMatch(/keeps data for ever, not 90d/);
    expect(
      await checkRetention(() => Promise.reject(new Error('unsupported')), 'city', '90d'),
    ).toBeUndefined();
  });
});

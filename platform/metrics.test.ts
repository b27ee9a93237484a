import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';

describe('the event-loop lag', () => {
  it('is what the loop ran late beyond its sampling period: a 200 ms block shows, and is taken once', async () => {
    const metrics = createMetrics();
    try {
      await sleep(50);
      const blockedUntil = Date.now() + 200;
      while (Date.now() < blockedUntil); // the loop is held: no sample can run
      await sleep(50);
      const lag = metrics.takeEventLoopLag();
      expect(lag.maxMs).toBeGreaterThanOrEqual(150);
      expect(lag.p99Ms).toBeLessThanOrEqual(lag.maxMs);
      // Taken: the next interval starts afresh, without the block.
      await sleep(50);
      expect(metrics.takeEventLoopLag().maxMs).toBeLessThan(150);
    } finally {
      metrics.close();
    }
  });
});

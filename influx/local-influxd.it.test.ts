import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfluxClient } from './client.ts';
import { startLocalInfluxd } from './local-influxd.ts';

describe('startLocalInfluxd', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'city-launcher-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('runs two servers at once, each on its own ports and folder', async () => {
    const [a, b] = await Promise.all([
      startLocalInfluxd({ dataDir: join(root, 'a') }),
      startLocalInfluxd({ dataDir: join(root, 'b'), port: 0 }),
    ]);
    try {
      expect(a.port).not.toBe(b.port);
      for (const server of [a, b]) {
        const ping = await createInfluxClient({ url: server.url, db: 'x' }).ping();
        expect(ping.ok).toBe(true);
      }
      const config = await readFile(join(root, 'a', 'influxd.conf'), 'utf8');
      expect(config).toContain(`bind-address = "127.0.0.1:${a.port}"`);
      expect(config).toContain('reporting-disabled = true');
      expect(config).not.toContain(':8088');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    await a.stop(); // a second stop is harmless
    const after = await createInfluxClient({ url: a.url, db: 'x' }).ping();
    expect(after.error?.code).toBe('INFLUX_ERR_UNREACHABLE');
  });

  it('says how to install influxd when it is not on PATH', async () => {
    await expect(
      startLocalInfluxd({ dataDir: join(root, 'missing'), binary: join(root, 'no-such-influxd') }),
    ).rejects.toMatchObject({
      code: 'INFLUX_ERR_LAUNCH',
      message: expect.stringMatching(/apt-get install influxdb/) as unknown,
    });
  });

  it('names the log file when influxd exits at start', async () => {
    const dataDir = join(root, 'exits');
    await expect(startLocalInfluxd({ dataDir, binary: 'false' })).rejects.toMatchObject({
      code: 'INFLUX_ERR_LAUNCH',
      message: expect.stringContaining(join(dataDir, 'influxd.log')) as unknown,
    });
  });
});

// Vitest global setup for the integration tier: one influxd for the whole run, in a temporary folder on
// free ports; each test file makes its own database in it (test/kits/influx.ts, freshDatabase).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalInfluxd } from '../../influx/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the influxd started for this run, e.g. `http://127.0.0.1:41234`. */
    influxUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'city-influxd-'));
  const influxd = await startLocalInfluxd({ dataDir, port: 0 });
  project.provide('influxUrl', influxd.url);
  return async () => {
    await influxd.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}

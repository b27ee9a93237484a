import { defineConfig } from 'vitest/config';

// Two tiers in `npm test`: `unit` is pure logic beside the code (no I/O, no servers); `integration` runs
// against real parts — an influxd started once for the run (each test file makes its own database), the
// real broker on port 0 and real MQTT clients — and holds the end-to-end tests under test/. `cluster` runs
// three nodes behind HAProxy on Redis and PostgreSQL (test/cluster/; `npm run test:cluster`). A fourth,
// `bench`, checks the benchmark's baselines (Mosquitto, the rules comparison): `npm run test:bench`.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.it.test.ts', '**/*.bench.test.ts', 'test/**', 'node_modules/**', 'var/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.it.test.ts', 'test/**/*.test.ts'],
          exclude: ['node_modules/**', 'test/cluster/**'],
          globalSetup: ['test/kits/global-influxd.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          globalSetup: ['test/kits/global-influxd.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One cluster at a time: three nodes, HAProxy, Redis and PostgreSQL share the machine.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'bench',
          include: ['**/*.bench.test.ts'],
          exclude: ['node_modules/**'],
          testTimeout: 180_000,
        },
      },
    ],
  },
});

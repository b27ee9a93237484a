// What the end-to-end benchmarks share: the real platform on loopback with an influxd of its own and a
// temporary data folder, all removed afterwards, and a way to run a benchmark's main that says why it
// failed and exits 1.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startLocalInfluxd } from '../influx/index.ts';
import { createLogger, loadConfig, startPlatform, type Platform } from '../platform/index.ts';

export interface OwnPlatform {
  readonly platform: Platform;
  /** The admin token the platform was started with (CITY_ADMIN_TOKEN). */
  readonly adminToken: string;
  readonly apiUrl: string;
  readonly mqttUrl: string;
  /** Stops the platform and its influxd and removes their folder. */
  close(): Promise<void>;
}

export async function startOwnPlatform(name: string, env: Record<string, string> = {}): Promise<OwnPlatform> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `bench-${name}-`));
  const influxd = await startLocalInfluxd({ dataDir: path.join(dir, 'influxd'), port: 0 });
  const adminToken = `bench-${name}-admin-token-0123456789`;
  try {
    const platform = await startPlatform(
      loadConfig({
        CITY_HOST: '127.0.0.1',
        CITY_MQTT_PORT: '0',
        CITY_API_PORT: '0',
        CITY_DATA_DIR: path.join(dir, 'data'),
        CITY_ADMIN_TOKEN: adminToken,
        INFLUX_URL: influxd.url,
        INFLUX_DB: `bench_${name}`,
        CITY_LOG_LEVEL: 'warn',
        ...env,
      }),
      { log: createLogger('warn', { format: 'json' }) },
    );
    return {
      platform,
      adminToken,
      apiUrl: `http://127.0.0.1:${platform.apiPort}`,
      mqttUrl: `mqtt://127.0.0.1:${platform.mqttPort}`,
      async close() {
        await platform.close();
        await influxd.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await influxd.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Runs a benchmark's main; a failure is printed with its stack and ends the process with 1. */
export function runBenchmark(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

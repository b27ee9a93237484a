// The platform as it runs in production — authentication, ACL, validation, durable spool with fdatasync
// before each PUBACK, writer to InfluxDB — in a process of its own, with the benchmark's stations
// provisioned through the registry. Every batch InfluxDB confirms is measured (onBatchStored).
import { z } from 'zod';
import { createLogger, loadConfig, startPlatform } from '../platform/index.ts';
import { childSettings, onStop, ownUsage, tell, type Device } from './ipc.ts';
import { createStoredTracker } from './workload.ts';

const Settings = z.object({
  influxUrl: z.string(),
  db: z.string(),
  dataDir: z.string(),
  devices: z.array(z.object({ id: z.string(), district: z.string() })),
});

/** Huế's centre (hue-places.md); the benchmark's stations need a location, not a true one. */
const LOCATION = { lat: 16.457, lon: 107.578 };

async function main(): Promise<void> {
  const settings = childSettings(Settings);
  const log = createLogger('warn');
  const tracker = createStoredTracker();
  const platform = await startPlatform(
    loadConfig({
      CITY_HOST: '127.0.0.1',
      CITY_MQTT_PORT: '0',
      CITY_API_PORT: '0',
      CITY_DATA_DIR: settings.dataDir,
      INFLUX_URL: settings.influxUrl,
      INFLUX_DB: settings.db,
      CITY_LOG_LEVEL: 'warn',
    }),
    { log, onBatchStored: (body) => tracker.batchStored(body) },
  );
  // Provisioning hashes each secret with scrypt (tens of ms): all at once, so the thread pool shares it.
  const devices: Device[] = await Promise.all(
    settings.devices.map(async (d) => {
      const { secret } = await platform.registry.provisionDevice({
        id: d.id,
        kind: 'air_quality',
        name: `Benchmark station ${d.id}`,
        district: d.district,
        location: LOCATION,
      });
      return { ...d, secret };
    }),
  );

  const progress = setInterval(
    () => tell({ type: 'progress', stored: tracker.stored(), backlog: platform.spool.stats().pendingLines }),
    500,
  );
  onStop(() => {
    clearInterval(progress);
    tell({ type: 'result', ...tracker.summary(), usage: ownUsage() });
    platform.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`platform close failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  });
  tell({ type: 'ready', port: platform.broker.port, devices });
}

main().catch((err: unknown) => {
  process.stderr.write(`platform: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

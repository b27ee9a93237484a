// The platform as it runs in production — authentication, ACL, validation, durable spool with fdatasync
// before each PUBACK, writer to InfluxDB — in a process of its own, with the benchmark's stations
// provisioned through the registry. Every batch InfluxDB confirms is measured (onBatchStored). The rule
// folder is the platform's default (the Huế rule set) unless the run says otherwise; with the alert probe,
// its gauge and reader are provisioned here too and their credentials go to the parent with `ready`.
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { createLogger, loadConfig, startPlatform } from '../platform/index.ts';
import { childSettings, onParent, ownUsage, tell, type Device } from './ipc.ts';
import { startCpuProfile } from './cpu-profile.ts';
import { timeRules } from './rules-timing.ts';
import { tracePlatform } from './trace.ts';
import { provisionProbe, ruleCoverage } from './probe-setup.ts';
import { BENCH_MEASUREMENT, benchDevices, createStoredTracker } from './workload.ts';

const Settings = z.object({
  influxUrl: z.string(),
  db: z.string(),
  dataDir: z.string(),
  /** The devices to provision, or how many of the bench's (benchDevices) when the list is too long to pass. */
  devices: z.union([z.array(z.object({ id: z.string(), district: z.string() })), z.number().int().min(0)]),
  trace: z.boolean(),
  /** Write a CPU profile of the measured window here. */
  profileFile: z.string().optional(),
  /** CITY_RULES_DIR; undefined: the platform's default, the Huế rule set. */
  rulesDir: z.string().optional(),
  /** Provision the alert probe's gauge and reader (bench/probe-setup.ts). */
  probe: z.boolean(),
  /** More configuration, over the above (the connection scenarios' limits). */
  env: z.record(z.string(), z.string()).default({}),
});

/** The writer's batches and their total POST time, from the platform's own write-latency histogram. */
const HistogramValues = z.object({
  values: z.array(z.object({ metricName: z.string().optional(), value: z.number() })),
});

async function writeStats(registry: Registry): Promise<{ count: number; totalMs: number } | undefined> {
  const metric = registry.getSingleMetric('city_influx_write_duration_seconds');
  if (metric === undefined) return undefined;
  const { values } = HistogramValues.parse(await metric.get());
  const find = (suffix: string) => values.find((v) => v.metricName?.endsWith(suffix))?.value ?? 0;
  return { count: find('_count'), totalMs: find('_sum') * 1000 };
}

/** Huế's centre (docs/hue-places.md); the benchmark's stations need a location, not a true one. */
const LOCATION = { lat: 16.457, lon: 107.578 };

async function main(): Promise<void> {
  const settings = childSettings(Settings);
  const log = createLogger('warn', { format: 'json' });
  const tracker = createStoredTracker(Date.now, BENCH_MEASUREMENT);
  const platform = await startPlatform(
    loadConfig({
      CITY_HOST: '127.0.0.1',
      CITY_MQTT_PORT: '0',
      CITY_API_PORT: '0',
      CITY_DATA_DIR: settings.dataDir,
      INFLUX_URL: settings.influxUrl,
      INFLUX_DB: settings.db,
      CITY_LOG_LEVEL: 'warn',
      CITY_RULES_DIR: settings.rulesDir,
      ...settings.env,
    }),
    { log, onBatchStored: (body) => tracker.batchStored(body) },
  );
  const devices: Device[] = await Promise.all(
    (typeof settings.devices === 'number' ? benchDevices(settings.devices) : settings.devices).map(
      async (d) => {
        const { secret } = await platform.registry.provisionDevice({
          id: d.id,
          kind: 'air_quality',
          name: `Benchmark station ${d.id}`,
          district: d.district,
          location: LOCATION,
        });
        return { ...d, secret };
      },
    ),
  );
  const probe = settings.probe ? await provisionProbe(platform) : undefined;
  // Devices provisioned after start are watched from their first reading; the probe's readings carry
  // device time hours in the past, which would start its absence watch there. Watch everyone from now.
  await platform.rules.syncDevices();
  const rules = ruleCoverage(platform, devices[0]?.id ?? '', probe?.gauge.id);

  const progress = setInterval(
    () =>
      tell({
        type: 'progress',
        stored: tracker.stored(),
        backlog: platform.spool.stats().pendingLines,
        rssKb: process.memoryUsage.rss() / 1024,
      }),
    500,
  );
  const tracer = settings.trace ? tracePlatform(platform) : undefined;
  const rulesTiming = timeRules(platform);
  let markedAt = performance.now();
  let stopProfile: Promise<() => Promise<void>> | undefined;
  const mark = (measureFrom: number) => {
    tracker.measureFrom(measureFrom);
    markedAt = performance.now();
    // The rules engine's own timing, like the latencies, leaves the warm-up out.
    setTimeout(() => rulesTiming.mark(), Math.max(0, measureFrom - Date.now()));
    if (settings.profileFile !== undefined) stopProfile = startCpuProfile(settings.profileFile);
  };
  const stop = () => {
    clearInterval(progress);
    const usage = ownUsage();
    const trace = tracer?.lines(performance.now() - markedAt);
    const rules = rulesTiming.summary();
    Promise.resolve(stopProfile)
      .then((stopIt) => stopIt?.())
      .then(() => writeStats(platform.metrics.registry))
      .then((writes) => tell({ type: 'result', ...tracker.summary(), usage, writes, trace, rules }))
      .then(() => platform.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`platform close failed: ${String(err)}\n`);
          process.exit(1);
        },
      );
  };
  onParent(stop, mark);
  tell({ type: 'ready', port: platform.mqttPort, devices, rules, probe });
}

main().catch((err: unknown) => {
  process.stderr.write(`platform: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

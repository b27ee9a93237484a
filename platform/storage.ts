// The platform's storage, opened first: InfluxDB (a local influxd when INFLUX_URL is unset), the device
// registry, the dead letters, the spool and the writer that drains it to InfluxDB.
import path from 'node:path';
import type { Logger } from 'pino';
import {
  loadAgenciesFile,
  loadFleet,
  openRegistry,
  seedAgencies,
  seedFleet,
  type Registry,
  type SeededPrincipal,
} from '../devices/index.ts';
import { errorText } from '../errors/index.ts';
import {
  createSpool,
  createWriter,
  localDeadLetterReader,
  openDeadLetters,
  openSharedDeadLetters,
  type DeadLetterReader,
  type DeadLetterStore,
  type Spool,
  type Writer,
} from '../ingest/index.ts';
import {
  createInfluxClient,
  startLocalInfluxd,
  type InfluxClient,
  type LocalInfluxd,
} from '../influx/index.ts';
import type { CloseStack } from './close-stack.ts';
import type { Config } from './config.ts';
import type { PlatformMetrics } from './metrics.ts';

/** InfluxDB at INFLUX_URL, or a local influxd under the data folder when it is unset; the database made. */
async function startInflux(
  config: Config,
  log: Logger,
  stack: CloseStack,
): Promise<{ influx: InfluxClient; url: string }> {
  let url = config.influx.url;
  if (url === undefined) {
    log.info('INFLUX_URL is unset: starting a local influxd under the data folder');
    const local: LocalInfluxd = await startLocalInfluxd({
      dataDir: path.join(config.dataDir, 'influxdb'),
      port: config.influx.localPort,
      log: log.child({ component: 'influxd' }),
    });
    stack.push('influxd', local, (l) => l.stop());
    url = local.url;
  }
  const { db, retentionPolicy, token, username, password } = config.influx;
  const influx = createInfluxClient({ url, db, retentionPolicy, token, username, password });
  stack.push('influx client', influx, (c) => c.close());
  const ensured = await influx.ensureDatabase({ retention: config.influx.retention });
  log.info({ influx: url, db, ensured }, 'InfluxDB ready');
  return { influx, url };
}

/** The device registry, with the agencies of CITY_AGENCIES_FILE, and the Huế fleet when CITY_SEED_FLEET
 * asks for it. */
async function openFleetRegistry(
  config: Config,
  log: Logger,
): Promise<{ registry: Registry; seeded: SeededPrincipal[] }> {
  const registry = await openRegistry(
    config.databaseUrl === undefined
      ? { file: path.join(config.dataDir, 'registry.db') }
      : { postgresUrl: config.databaseUrl },
  );
  try {
    if (config.agenciesFile !== undefined) {
      const created = await seedAgencies(registry, await loadAgenciesFile(config.agenciesFile));
      if (created.length > 0) log.info({ created }, 'agencies seeded');
    }
    if (!config.seedFleet) return { registry, seeded: [] };
    const seeded = (await seedFleet(registry, await loadFleet())).created;
    log.info({ created: seeded.length }, 'Huế fleet seeded');
    return { registry, seeded };
  } catch (err) {
    await registry.close();
    throw err;
  }
}

interface WriterDeps {
  readonly spool: Spool;
  readonly influx: InfluxClient;
  readonly deadLetters: DeadLetterStore;
  readonly metrics: PlatformMetrics;
  readonly log: Logger;
  readonly clock: () => number;
  /** Called with each batch InfluxDB confirmed (the benchmark measures latency here). */
  readonly onBatchStored: ((body: Buffer) => void) | undefined;
}

/** The writer that drains the spool to InfluxDB; a batch InfluxDB refuses (400) is dead-lettered. */
function startWriter(config: Config, deps: WriterDeps): Writer {
  const { metrics, deadLetters, clock } = deps;
  return createWriter({
    spool: deps.spool,
    write: (body) => deps.influx.write(body),
    log: deps.log,
    maxBatchBytes: 4 << 20,
    lingerMs: 10,
    retry: { minMs: 100, maxMs: 10_000 },
    onStored: (batch, ms) => {
      metrics.readingsStored(batch.lines, ms);
      deps.onBatchStored?.(batch.body);
    },
    onWriteFailed: () => metrics.writeFailed(),
    onSpoolFailed: (stage) => {
      if (stage !== 'influxdb') metrics.writerSpoolFailed(stage);
    },
    onRefused: (batch, err) =>
      deadLetters.record({
        at: clock(),
        source: 'influxdb',
        topic: '',
        code: 'INGEST_ERR_INFLUX_REFUSED',
        // InfluxDB 1.x stores the valid lines of a partly refused batch; its message names the others.
        detail: `${errorText(err)} (valid lines of the batch were stored)`,
        payload: batch.body,
      }),
  });
}

export interface Storage {
  readonly influx: InfluxClient;
  readonly influxUrl: string;
  readonly registry: Registry;
  /** Credentials of fleet members created by this start (CITY_SEED_FLEET), to hand to the simulator. */
  readonly seeded: readonly SeededPrincipal[];
  readonly deadLetters: DeadLetterStore;
  /** What the API lists: this node's dead letters, or in a cluster every node's (in PostgreSQL). */
  readonly deadLetterReader: DeadLetterReader;
  readonly spool: Spool;
  readonly writer: Writer;
}

export interface StorageDeps {
  readonly log: Logger;
  readonly clock: () => number;
  readonly metrics: PlatformMetrics;
  readonly onBatchStored: ((body: Buffer) => void) | undefined;
}

/** Opens the storage in order, each part on the stack to be closed in reverse. */
export async function openStorage(config: Config, deps: StorageDeps, stack: CloseStack): Promise<Storage> {
  const { log, clock, metrics } = deps;
  const file = (name: string) => path.join(config.dataDir, name);
  const { influx, url: influxUrl } = await startInflux(config, log, stack);
  const { registry, seeded } = await openFleetRegistry(config, log);
  stack.push('registry', registry, (r) => r.close());
  const deadLetters = openDeadLetters({
    file: file('dead-letters.db'),
    maxBytes: config.deadLettersMaxBytes,
  });
  stack.push('dead letters', deadLetters, (d) => d.close());
  const deadLetterReader =
    config.cluster === undefined || config.databaseUrl === undefined
      ? localDeadLetterReader(deadLetters)
      : stack.push(
          'shared dead letters',
          await openSharedDeadLetters({
            url: config.databaseUrl,
            node: config.cluster.nodeId,
            local: deadLetters,
            log: log.child({ component: 'dead-letters' }),
          }),
          (d) => d.close(),
        );
  const spoolOptions = { dir: file('spool'), maxBytes: config.spoolMaxBytes, segmentBytes: 64 << 20 };
  const spool = stack.push('spool', await createSpool(spoolOptions), (s) => s.close());
  const writerLog = log.child({ component: 'writer' });
  const writerDeps = { spool, influx, deadLetters, metrics, clock, log: writerLog };
  const writer = startWriter(config, { ...writerDeps, onBatchStored: deps.onBatchStored });
  stack.push('writer', writer, (w) => w.close(config.stopDrainMs));
  return { influx, influxUrl, registry, seeded, deadLetters, deadLetterReader, spool, writer };
}

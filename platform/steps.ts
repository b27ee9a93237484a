// The start steps of the platform that take more than one line: each opens one thing from its slice of
// the configuration and gives back what the next steps need. platform.ts calls them in order.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BrokerConfig } from '../broker/index.ts';
import { loadFleet, openRegistry, seedFleet, type Registry, type SeededPrincipal } from '../devices/index.ts';
import { createWriter, type DeadLetterStore, type Spool, type Writer } from '../ingest/index.ts';
import {
  createInfluxClient,
  startLocalInfluxd,
  type InfluxClient,
  type LocalInfluxd,
} from '../influx/index.ts';
import type { Config } from './config.ts';
import type { PlatformMetrics } from './metrics.ts';
import { errorText } from '../errors/index.ts';

/** What was started, in order, so that it can be closed in reverse. */
export interface CloseStack {
  /** Registers `close` for `value` and gives `value` back. */
  push<T>(name: string, value: T, close: (v: T) => Promise<void> | void): T;
  /** Closes in reverse order of start; one failure is logged and the rest still close. */
  closeAll(): Promise<void>;
}

export function createCloseStack(log: Logger): CloseStack {
  const closers: Array<[string, () => Promise<void> | void]> = [];
  return {
    push(name, value, close) {
      closers.push([name, () => close(value)]);
      return value;
    },
    async closeAll() {
      for (const [name, close] of closers.reverse()) {
        try {
          await close();
        } catch (err) {
          log.error({ err, component: name }, 'close failed');
        }
      }
      closers.length = 0;
    },
  };
}

/** InfluxDB at INFLUX_URL, or a local influxd under the data folder when it is unset; the database made. */
export async function startInflux(
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

/** The device registry, seeded with the Huế fleet when CITY_SEED_FLEET asks for it. */
export async function openFleetRegistry(
  config: Config,
  log: Logger,
): Promise<{ registry: Registry; seeded: SeededPrincipal[] }> {
  const registry = await openRegistry({ file: path.join(config.dataDir, 'registry.db') });
  if (!config.seedFleet) return { registry, seeded: [] };
  try {
    const seeded = (await seedFleet(registry, await loadFleet())).created;
    log.info({ created: seeded.length }, 'Huế fleet seeded');
    return { registry, seeded };
  } catch (err) {
    await registry.close();
    throw err;
  }
}

export interface WriterDeps {
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
export function startWriter(config: Config, deps: WriterDeps): Writer {
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

/** The broker's listeners from the configuration, the TLS files read. */
export async function brokerConfig(config: Config): Promise<BrokerConfig> {
  const { port, wsPort, tls, maxPacketBytes } = config.mqtt;
  return {
    host: config.host,
    port,
    wsPort,
    maxPacketBytes,
    tls: tls && { cert: await fs.readFile(tls.certFile), key: await fs.readFile(tls.keyFile) },
  };
}

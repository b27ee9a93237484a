// The composition root: start every component in dependency order, stop them in reverse.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { createApi, summarizeRule, type Api } from '../api/index.ts';
import { createBroker, type Broker } from '../broker/index.ts';
import {
  createTopics,
  loadFleet,
  openRegistry,
  type Registry,
  type SeededPrincipal,
  seedFleet,
  withDerivedFields,
} from '../devices/index.ts';
import {
  createIngest,
  createSpool,
  createWriter,
  openDeadLetters,
  type DeadLetterStore,
  type Ingest,
  type Spool,
  type Writer,
} from '../ingest/index.ts';
import {
  createInfluxClient,
  startLocalInfluxd,
  type InfluxClient,
  type LocalInfluxd,
} from '../influx/index.ts';
import { backtestRules, createRuleEngine, validateRuleFileAmong, type RuleEngine } from '../rules/index.ts';
import type { Config } from './config.ts';
import { startHealthReport } from './health-report.ts';
import { createMetrics, type PlatformMetrics } from './metrics.ts';
import { createAlertService, createAlertSinks, openAlertStore, type AlertService } from '../alerts/index.ts';
import { createFlowReadings, createFlowRequests } from '../flows/index.ts';

export interface Platform {
  readonly config: Config;
  readonly broker: Broker;
  readonly api: Api;
  readonly apiPort: number;
  readonly registry: Registry;
  readonly ingest: Ingest;
  readonly influx: InfluxClient;
  readonly influxUrl: string;
  readonly spool: Spool;
  readonly writer: Writer;
  readonly deadLetters: DeadLetterStore;
  readonly metrics: PlatformMetrics;
  readonly alerts: AlertService;
  readonly rules: RuleEngine;
  /** Credentials of fleet members created by this start (CITY_SEED_FLEET), to hand to the simulator. */
  readonly seeded: readonly SeededPrincipal[];
  close(): Promise<void>;
}

export interface PlatformDeps {
  readonly log: Logger;
  readonly clock?: () => number;
  /** Called with each batch InfluxDB confirmed (instrumentation: the benchmark measures latency here). */
  readonly onBatchStored?: (body: Buffer) => void;
}

export async function startPlatform(config: Config, deps: PlatformDeps): Promise<Platform> {
  const { log } = deps;
  const clock = deps.clock ?? Date.now;
  const closers: Array<[string, () => Promise<void> | void]> = [];
  const step = <T>(name: string, value: T, close: (v: T) => Promise<void> | void): T => {
    closers.push([name, () => close(value)]);
    return value;
  };

  try {
    await fs.mkdir(config.dataDir, { recursive: true });
    const startedAt = clock();
    const metrics = createMetrics();

    let influxUrl = config.influx.url;
    if (influxUrl === undefined) {
      log.info('INFLUX_URL is unset: starting a local influxd under the data folder');
      const local: LocalInfluxd = await startLocalInfluxd({
        dataDir: path.join(config.dataDir, 'influxdb'),
        port: config.influx.localPort,
        log: log.child({ component: 'influxd' }),
      });
      step('influxd', local, (l) => l.stop());
      influxUrl = local.url;
    }
    const influx = createInfluxClient({
      url: influxUrl,
      db: config.influx.db,
      retentionPolicy: config.influx.retentionPolicy,
      token: config.influx.token,
      username: config.influx.username,
      password: config.influx.password,
    });
    step('influx client', influx, (c) => c.close());
    const ensured = await influx.ensureDatabase({ retention: config.influx.retention });
    log.info({ influx: influxUrl, db: config.influx.db, ensured }, 'InfluxDB ready');

    const registry = step(
      'registry',
      await openRegistry({ file: path.join(config.dataDir, 'registry.db') }),
      (r) => r.close(),
    );
    let seeded: SeededPrincipal[] = [];
    if (config.seedFleet) {
      seeded = (await seedFleet(registry, await loadFleet())).created;
      log.info({ created: seeded.length }, 'Huế fleet seeded');
    }

    const deadLetters = step(
      'dead letters',
      openDeadLetters({ file: path.join(config.dataDir, 'dead-letters.db') }),
      (d) => d.close(),
    );
    const spool = step(
      'spool',
      await createSpool({
        dir: path.join(config.dataDir, 'spool'),
        maxBytes: config.spoolMaxBytes,
        segmentBytes: 64 << 20,
      }),
      (s) => s.close(),
    );
    const writerLog = log.child({ component: 'writer' });
    const writer = step(
      'writer',
      createWriter({
        spool,
        write: (body) => influx.write(body),
        log: writerLog,
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
            detail: `${err instanceof Error ? err.message : String(err)} (valid lines of the batch were stored)`,
            payload: batch.body,
          }),
      }),
      (w) => w.close(config.stopDrainMs),
    );

    const topics = createTopics(config.mqtt.topicPrefix);
    const ingest = createIngest({
      getDevice: (id) => registry.getDevice(id),
      spool,
      deadLetters,
      metrics: metrics.ingest,
      clock,
      log: log.child({ component: 'ingest' }),
      maxPayloadBytes: config.mqtt.maxPacketBytes,
    });

    // The rules engine starts before the broker so that no reading passes unseen; its MQTT sink finds the
    // broker once it is listening (a transition before that is still stored and written to InfluxDB).
    const brokerRef: { current?: Broker } = {};
    const alertStore = step(
      'alert store',
      openAlertStore({ file: path.join(config.dataDir, 'alerts.db') }),
      (s) => s.close(),
    );
    const alertLog = log.child({ component: 'alerts' });
    const alerts = createAlertService({ store: alertStore, log: alertLog, clock });
    alerts.subscribe(
      createAlertSinks({
        topics,
        publish: (topic, payload, options) =>
          brokerRef.current
            ? brokerRef.current.publish(topic, payload, options)
            : Promise.reject(new Error('broker not started')),
        append: (text, lines, done) => spool.append(text, lines, done),
        onError: (what, err, change) =>
          alertLog.error(
            { err, alert: change.alert.id, event: change.event.type },
            `alert not sent to ${what}`,
          ),
      }),
    );
    const rules = step(
      'rules engine',
      await createRuleEngine(
        {
          dir: config.rules.dir,
          watch: config.rules.watch,
          tickMs: config.rules.tickMs,
          checkpointMs: 5_000,
          syncMs: 30_000,
        },
        {
          alerts,
          store: alertStore,
          devices: () => registry.listDevices(),
          appendLines: (text, lines) =>
            spool.append(text, lines, (err) => {
              if (err) alertLog.error({ err }, 'air-quality index not spooled');
            }),
          log: log.child({ component: 'rules' }),
          clock,
        },
      ),
      (r) => r.close(),
    );
    // Node-RED flows (flows/flows.ts): decoded readings, published at the point readings reach the rules
    // and only while a client subscribes to them (the broker tells), and alert requests, which go through
    // the alert service like a rule's transitions.
    const flowLog = log.child({ component: 'flows' });
    let readingsWanted = false;
    const publishReadings = createFlowReadings({
      topics,
      publish: (topic, payload) =>
        brokerRef.current
          ? brokerRef.current.publish(topic, payload, { qos: 0, retain: false })
          : Promise.resolve(),
      derive: withDerivedFields,
      onPublished: (count) => metrics.readingsPublished(count),
      log: flowLog,
    });
    ingest.onReadings((readings, device) => {
      try {
        rules.onReadings(readings, device);
      } finally {
        if (readingsWanted) publishReadings(readings, device);
      }
    });
    const flowRequests = createFlowRequests({
      alerts,
      getDevice: (id) => registry.getDevice(id),
      isFileRule: (id) => rules.status().rules.some((r) => r.rule.id === id),
      deadLetter: (letter) => deadLetters.record(letter),
      metrics: metrics.flows,
      log: flowLog,
      clock,
    });

    const tls = config.mqtt.tls && {
      cert: await fs.readFile(config.mqtt.tls.certFile),
      key: await fs.readFile(config.mqtt.tls.keyFile),
    };
    const broker = step(
      'broker',
      await createBroker(
        {
          host: config.host,
          port: config.mqtt.port,
          wsPort: config.mqtt.wsPort,
          tls,
          maxPacketBytes: config.mqtt.maxPacketBytes,
        },
        {
          log: log.child({ component: 'broker' }),
          topics,
          authenticate: (username, password) => registry.authenticate(username, password),
          getDevice: (id) => registry.getDevice(id),
          ingest,
          metrics: metrics.broker,
          alertRequest: flowRequests,
          onReadingsWanted: (wanted) => {
            readingsWanted = wanted;
            flowLog.info(
              { wanted },
              wanted ? 'decoded readings subscribed to' : 'decoded readings unwatched',
            );
          },
        },
      ),
      (b) => b.close(),
    );
    brokerRef.current = broker;
    metrics.observe({ spool: () => spool.stats(), clients: () => broker.connectedClients() });

    const api = step(
      'api',
      await createApi(
        { host: config.host, port: config.api.port, adminToken: config.api.adminToken },
        {
          log: log.child({ component: 'api' }),
          registry,
          influx,
          deadLetters,
          metricsText: () => metrics.text(),
          health: async () => {
            const ping = await influx.ping();
            const spoolStats = spool.stats();
            return {
              ok: ping.ok,
              influx: ping,
              spool: spoolStats,
              mqtt: { connectedClients: broker.connectedClients() },
            };
          },
          onDecommission: (id) => {
            broker.disconnect(id);
            rules.syncDevices();
          },
          alerts,
          rules: {
            list: () => rules.status().rules.map((r) => summarizeRule(r.rule, r.file)),
            validate: (source, name) => validateRuleFileAmong(source, name, rules.status().rules),
            backtest: (input) =>
              backtestRules(input, {
                influx,
                retentionPolicy: config.influx.retentionPolicy,
                devices: () => registry.listDevices(),
                clock,
              }),
          },
        },
      ),
      (a) => a.close(),
    );
    const { port: apiPort } = await api.listen();
    // Started last, so it stops first: a round in progress reaches the spool before the spool closes.
    step(
      'health report',
      await startHealthReport(
        { healthIntervalMs: config.health.intervalMs, statusIntervalMs: config.health.statusIntervalMs },
        {
          log: log.child({ component: 'health' }),
          clock,
          host: os.hostname(),
          since: startedAt,
          metrics,
          spool,
          clients: () => broker.connectedClients(),
          openAlerts: () => alerts.listOpen(),
          devices: () => registry.listDevices(),
          rules: () => rules.status().rules.map((r) => r.rule),
        },
      ),
      (h) => h.close(),
    );
    log.info({ mqtt: broker.port, ws: broker.wsPort, api: apiPort }, 'platform started');

    let closing: Promise<void> | undefined;
    return {
      config,
      broker,
      api,
      apiPort,
      registry,
      ingest,
      influx,
      influxUrl,
      spool,
      writer,
      deadLetters,
      metrics,
      alerts,
      rules,
      seeded,
      close: () => (closing ??= closeAll(closers, log)),
    };
  } catch (err) {
    await closeAll(closers, log);
    throw err;
  }
}

/** Closes in reverse order of start; one failure is logged and the rest still close. */
async function closeAll(closers: Array<[string, () => Promise<void> | void]>, log: Logger): Promise<void> {
  for (const [name, close] of closers.reverse()) {
    try {
      await close();
    } catch (err) {
      log.error({ err, component: name }, 'close failed');
    }
  }
  closers.length = 0;
}

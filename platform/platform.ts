// The composition root: start every component in dependency order, stop them in reverse. Each step opens
// one component from its slice of the configuration and hands it what the earlier steps made; what a
// component offers another is its own (the alert sinks, the flows, the rule operations), so this file only
// connects them. Multi-line steps are in steps.ts.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { createAlertService, createAlertSinks, openAlertStore, type AlertService } from '../alerts/index.ts';
import { createApi, type Api } from '../api/index.ts';
import { createBroker, type Broker } from '../broker/index.ts';
import { createTopics, type Registry, type SeededPrincipal } from '../devices/index.ts';
import { createFlows, type Flows } from '../flows/index.ts';
import {
  createIngest,
  createSpool,
  openDeadLetters,
  type DeadLetterStore,
  type Ingest,
  type Spool,
  type Writer,
} from '../ingest/index.ts';
import type { InfluxClient } from '../influx/index.ts';
import { createRuleEngine, createRuleOperations, type RuleEngine } from '../rules/index.ts';
import type { Config } from './config.ts';
import { createHealthCheck } from './health-check.ts';
import { startHealthPoints } from './health-points.ts';
import { createMetrics, type PlatformMetrics } from './metrics.ts';
import { brokerConfig, createCloseStack, openFleetRegistry, startInflux, startWriter } from './steps.ts';

export interface Platform {
  readonly config: Config;
  readonly broker: Broker;
  /** The MQTT listeners' ports (the WebSocket one undefined when it is off). */
  readonly mqttPort: number;
  readonly wsPort: number | undefined;
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
  readonly flows: Flows;
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
  const child = (component: string) => log.child({ component });
  const file = (name: string) => path.join(config.dataDir, name);
  const stack = createCloseStack(log);
  try {
    await fs.mkdir(config.dataDir, { recursive: true });
    const startedAt = clock();
    const metrics = createMetrics();
    const topics = createTopics(config.mqtt.topicPrefix);

    // Storage: InfluxDB, the registry, dead letters, the spool and its writer.
    const { influx, url: influxUrl } = await startInflux(config, log, stack);
    const { registry, seeded } = await openFleetRegistry(config, log);
    stack.push('registry', registry, (r) => r.close());
    const deadLetters = stack.push('dead letters', openDeadLetters({ file: file('dead-letters.db') }), (d) =>
      d.close(),
    );
    const spool = stack.push(
      'spool',
      await createSpool({ dir: file('spool'), maxBytes: config.spoolMaxBytes, segmentBytes: 64 << 20 }),
      (s) => s.close(),
    );
    const writerDeps = { spool, influx, deadLetters, metrics, clock, onBatchStored: deps.onBatchStored };
    const writer = stack.push('writer', startWriter(config, { ...writerDeps, log: child('writer') }), (w) =>
      w.close(config.stopDrainMs),
    );
    const getDevice = (id: string) => registry.getDevice(id);
    const ingest = createIngest({
      getDevice,
      spool,
      deadLetters,
      metrics: metrics.ingest,
      clock,
      log: child('ingest'),
      maxPayloadBytes: config.mqtt.maxPacketBytes,
    });

    // The broker publishes from now on, and listens once every handler of what clients send is ready.
    const broker = stack.push(
      'broker',
      await createBroker(await brokerConfig(config), {
        log: child('broker'),
        topics,
        metrics: metrics.broker,
      }),
      (b) => b.close(),
    );

    // Alerts, the rules that raise them, and the flows that raise theirs.
    const alertStore = stack.push('alert store', openAlertStore({ file: file('alerts.db') }), (s) =>
      s.close(),
    );
    const alertLog = child('alerts');
    const alerts = createAlertService({ store: alertStore, log: alertLog, clock });
    alerts.subscribe(
      createAlertSinks({
        topics,
        publish: broker.publish,
        append: spool.append,
        onError: (what, err, change) =>
          alertLog.error(
            { err, alert: change.alert.id, event: change.event.type },
            `alert not sent to ${what}`,
          ),
      }),
    );
    const rulesConfig = { ...config.rules, checkpointMs: 5_000, syncMs: 30_000 };
    const rules = stack.push(
      'rules engine',
      await createRuleEngine(rulesConfig, {
        alerts,
        store: alertStore,
        devices: () => registry.listDevices(),
        appendLines: (text, lines) =>
          spool.append(text, lines, (err) => err && alertLog.error({ err }, 'air-quality index not spooled')),
        log: child('rules'),
        clock,
      }),
      (r) => r.close(),
    );
    const flows = createFlows({
      topics,
      publish: broker.publish,
      onPublished: (count) => metrics.readingsPublished(count),
      alerts,
      getDevice,
      isFileRule: (id) => rules.status().rules.some((r) => r.rule.id === id),
      deadLetter: (letter) => deadLetters.record(letter),
      metrics: metrics.flows,
      log: child('flows'),
      clock,
    });
    ingest.onReadings((readings, device) => {
      try {
        rules.onReadings(readings, device);
      } finally {
        flows.onReadings(readings, device);
      }
    });

    // Listening: MQTT clients, then the HTTP API.
    const listeners = stack.push(
      'mqtt listeners',
      await broker.listen({
        authenticate: (username, password) => registry.authenticate(username, password),
        getDevice,
        ingest,
        alertRequest: flows.request,
        onReadingsWanted: flows.readingsWanted,
      }),
      (l) => l.close(),
    );
    metrics.observe({ spool: () => spool.stats(), clients: () => broker.connectedClients() });
    const api = stack.push(
      'api',
      await createApi(
        { host: config.host, port: config.api.port, adminToken: config.api.adminToken },
        {
          log: child('api'),
          registry,
          influx,
          deadLetters,
          metricsText: () => metrics.text(),
          health: createHealthCheck({ influx, spool, clients: () => broker.connectedClients() }),
          onDecommission: (id) => {
            broker.disconnect(id);
            rules.syncDevices();
          },
          alerts,
          rules: createRuleOperations(() => rules.status().rules, {
            influx,
            retentionPolicy: config.influx.retentionPolicy,
            devices: () => registry.listDevices(),
            clock,
          }),
        },
      ),
      (a) => a.close(),
    );
    const { port: apiPort } = await api.listen();

    // Started last, so it stops first: a round in progress reaches the spool before the spool closes.
    stack.push(
      'health points',
      await startHealthPoints(
        { healthIntervalMs: config.health.intervalMs, statusIntervalMs: config.health.statusIntervalMs },
        {
          log: child('health'),
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
    log.info({ mqtt: listeners.port, ws: listeners.wsPort, api: apiPort }, 'platform started');

    let closing: Promise<void> | undefined;
    return {
      ...{ config, broker, api, apiPort, registry, ingest, influx, influxUrl, spool, writer, deadLetters },
      ...{ metrics, alerts, rules, flows, seeded },
      mqttPort: listeners.port,
      wsPort: listeners.wsPort,
      close: () => (closing ??= stack.closeAll()),
    };
  } catch (err) {
    await stack.closeAll();
    throw err;
  }
}

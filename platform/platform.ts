// The composition root: start every component in dependency order, stop them in reverse. Each step opens
// one part from its slice of the configuration and hands it what the earlier steps made; what a
// component offers another is its own (the alert sinks, the flows, the rule operations), so this file
// only connects them. The steps of more than a few lines are in storage.ts and alerting.ts.
import { fileURLToPath } from 'node:url';
import fs from 'node:fs/promises';
import os from 'node:os';
import type { Logger } from 'pino';
import type { AlertService, RuleLeases } from '../alerts/index.ts';
import { createApi, type Api } from '../api/index.ts';
import { createBroker, DEFAULT_ATTEMPT_LIMITS, type Broker, type BrokerConfig } from '../broker/index.ts';
import type { CommandService } from '../commands/index.ts';
import { createTopics, type Reading } from '../devices/index.ts';
import { createFlows, type Flows } from '../flows/index.ts';
import { createIngest, type Ingest } from '../ingest/index.ts';
import { createRuleOperations, type RuleEngine } from '../rules/index.ts';
import { agencyIds, startAlerting, type Notifications } from './alerting.ts';
import { startRuleRouting } from './rule-routing.ts';
import type { RoutingService } from '../notify/index.ts';
import { createCloseStack, type CloseStack } from './close-stack.ts';
import type { Config } from './config.ts';
import { createHealthCheck } from './health-check.ts';
import { startHealthPoints } from './health-points.ts';
import { createMetrics, type PlatformMetrics } from './metrics.ts';
import { createRefusalRecorder } from './refusals.ts';
import { startCommands } from './commanding.ts';
import { openStorage, type Storage } from './storage.ts';

/** The operations console as `npm run build:console` leaves it. */
const CONSOLE_DIR = fileURLToPath(new URL('../console/dist/', import.meta.url));

export interface Platform extends Storage {
  readonly config: Config;
  readonly broker: Broker;
  /** The MQTT listeners' ports (the WebSocket one undefined when it is off). */
  readonly mqttPort: number;
  readonly wsPort: number | undefined;
  readonly api: Api;
  readonly apiPort: number;
  readonly ingest: Ingest;
  readonly metrics: PlatformMetrics;
  readonly alerts: AlertService;
  readonly rules: RuleEngine;
  readonly routing: RoutingService;
  /** The notification store and loop (notify/). */
  readonly notifications: Notifications;
  readonly flows: Flows;
  /** Commands to devices (commands/). */
  readonly commands: CommandService;
  close(): Promise<void>;
}

export interface PlatformDeps {
  readonly log: Logger;
  readonly clock?: () => number;
  /** Called with each batch InfluxDB confirmed (instrumentation: the benchmark measures latency here). */
  readonly onBatchStored?: (body: Buffer) => void;
}

export async function startPlatform(config: Config, deps: PlatformDeps): Promise<Platform> {
  const { log, onBatchStored } = deps;
  const clock = deps.clock ?? Date.now;
  const child = (component: string) => log.child({ component });
  const stack = createCloseStack(log);
  try {
    await fs.mkdir(config.dataDir, { recursive: true });
    const startedAt = clock();
    const metrics = createMetrics();
    stack.push('metrics', metrics, (m) => m.close());
    const topics = createTopics(config.mqtt.topicPrefix);
    const storage = await openStorage(config, { log, clock, metrics, onBatchStored }, stack);
    const { registry, spool, deadLetters } = storage;
    const getDevice = (id: string) => registry.getDevice(id);
    const ingest = createIngest({
      ...{ getDevice, spool, deadLetters, clock, log: child('ingest') },
      ...{ metrics: metrics.ingest, maxPayloadBytes: config.mqtt.maxPacketBytes },
    });

    // The broker publishes from now on; it listens once every handler of what clients send is ready.
    const onRefused = createRefusalRecorder(deadLetters, (id) => registry.isKnown(id), clock);
    const brokerDeps = { log: child('broker'), topics, metrics: metrics.broker, onRefused };
    const broker = await createBroker(await brokerConfig(config), brokerDeps);
    stack.push('broker', broker, (b) => b.close());
    const alerting = await startAlerting(
      config,
      { log, clock, topics, registry, spool, broker, metrics },
      stack,
    );
    const { alerts, rules, routing, notifications } = alerting;
    // In a cluster, readings go to the node that evaluates their device's rules (rule-routing.ts).
    const { leases } = alerting;
    const toRules =
      leases && broker.bus
        ? stack.push(
            'rule routing',
            startRuleRouting({ rules, leases, bus: broker.bus, getDevice, log: child('rules') }),
            (r) => r.close(),
          )
        : rules;
    const flows = createFlows({
      ...{ topics, alerts, getDevice, clock, log: child('flows'), metrics: metrics.flows },
      publish: broker.publish,
      onPublished: (count) => metrics.readingsPublished(count),
      isFileRule: (id) => rules.status().rules.some((r) => r.rule.id === id),
      isAgency: (id) => registry.getAgency(id) !== undefined,
      deadLetter: (letter) => deadLetters.record(letter),
    });
    const commands = await startCommands(
      config,
      { log: child('commands'), clock, topics, registry, spool, deadLetters, broker, alerts, rules },
      stack,
    );
    ingest.onReadings((readings, device) => {
      try {
        toRules.onReadings(readings, device);
      } finally {
        flows.onReadings(readings, device);
        observeCommands(commands, readings, log);
      }
    });

    const authenticate = (user: string, password: Buffer) => registry.authenticate(user, password);
    const handlers = { authenticate, getDevice, ingest, alertRequest: flows.request };
    const listeners = await broker.listen({
      ...handlers,
      onReadingsWanted: flows.readingsWanted,
      commandAck: (message) => commands.ack(message),
      onCommandsListener: (device) => void commands.listenerCame(device),
    });
    stack.push('mqtt listeners', listeners, (l) => l.close());
    metrics.observe({
      spool: () => spool.stats(),
      clients: () => broker.connectedClients(),
      blockedAttempts: () => broker.blockedAttempts(),
      writerStuck: () => !storage.writer.status().ok,
      deliveries: () => notifications.store.counts(),
    });
    const running = {
      ...storage,
      config,
      clock,
      metrics,
      broker,
      alerts,
      rules,
      routing,
      notifications,
      commands,
      leases,
      startedAt,
    };
    // Another node's change to the registry: devices to watch or let go, agencies the rules and the
    // routing name (a cluster; docs/cluster.md).
    registry.onRemoteChange((tables) => {
      if (tables.includes('devices')) void rules.syncDevices();
      if (tables.includes('agencies')) reloadAgencies(rules, routing, log);
    });
    const { api, apiPort } = await startApi(running, child('api'), stack);
    // Started last, so it stops first: a round in progress reaches the spool before the spool closes.
    await startHealth(running, child('health'), stack);
    log.info({ mqtt: listeners.port, ws: listeners.wsPort, api: apiPort }, 'platform started');

    let closing: Promise<void> | undefined;
    return {
      ...{
        ...storage,
        config,
        broker,
        api,
        apiPort,
        ingest,
        metrics,
        alerts,
        rules,
        routing,
        flows,
        commands,
      },
      notifications,
      ...{ mqttPort: listeners.port, wsPort: listeners.wsPort },
      close: () => (closing ??= stack.closeAll()),
    };
  } catch (err) {
    await stack.closeAll();
    throw err;
  }
}

/** What the last steps read of the running platform. */
interface Running extends Storage {
  readonly config: Config;
  readonly commands: CommandService;
  readonly clock: () => number;
  readonly metrics: PlatformMetrics;
  readonly broker: Broker;
  readonly alerts: AlertService;
  readonly rules: RuleEngine;
  readonly routing: RoutingService;
  readonly notifications: Notifications;
  /** In a cluster, the partitions of the device space this node evaluates. */
  readonly leases: RuleLeases | undefined;
  readonly startedAt: number;
}

/** The agencies changed: the rules and the routing that name them are read again. */
function reloadAgencies(rules: RuleEngine, routing: RoutingService, log: Logger): void {
  rules.reload().catch((err: unknown) => log.error({ err }, 'rules not read again'));
  routing.reload().catch((err: unknown) => log.error({ err }, 'routing file not read again'));
}

/** The broker's listeners from the configuration, the TLS files read. */
async function brokerConfig(config: Config): Promise<BrokerConfig> {
  const { port, wsPort, tls, maxPacketBytes, authFailures, proxyProtocol } = config.mqtt;
  const tlsFiles = tls && { cert: await fs.readFile(tls.certFile), key: await fs.readFile(tls.keyFile) };
  const { perAddress, perUser } = DEFAULT_ATTEMPT_LIMITS;
  const attemptLimits = {
    ...DEFAULT_ATTEMPT_LIMITS,
    perAddress: { ...perAddress, threshold: authFailures.perAddress },
    perUser: { ...perUser, threshold: authFailures.perUser },
  };
  const { host, cluster } = config;
  return { host, port, wsPort, maxPacketBytes, tls: tlsFiles, attemptLimits, proxyProtocol, cluster };
}

/** The HTTP API, listening. */
async function startApi(p: Running, log: Logger, stack: CloseStack): Promise<{ api: Api; apiPort: number }> {
  const { config, registry, influx, broker, rules, routing, clock } = p;
  const clients = () => broker.connectedClients();
  const backtest = { influx, retentionPolicy: config.influx.retentionPolicy, clock };
  const api = await createApi(
    { host: config.host, port: config.api.port, adminToken: config.api.adminToken },
    {
      ...{ log, clock, registry, influx, deadLetters: p.deadLetterReader, alerts: p.alerts },
      sessions: config.sessions,
      console: { dir: CONSOLE_DIR, settings: { map: config.map, timeZone: config.timeZone } },
      metricsText: () => p.metrics.text(),
      health: createHealthCheck({
        ...{ influx, spool: p.spool, writer: p.writer, clients },
        cluster: () => broker.cluster(),
        ...(p.leases && { partitions: () => p.leases?.held() ?? [] }),
        ...(p.notifications.lease && { notifier: () => p.notifications.lease?.token() !== undefined }),
        registry,
      }),
      onDecommission: (id) => {
        broker.disconnect(id);
        void rules.syncDevices();
      },
      disconnect: (id) => broker.disconnect(id),
      rules: createRuleOperations(
        () => rules.status().rules,
        { ...backtest, devices: () => registry.listDevices() },
        () => ({ agencies: agencyIds(registry) }),
      ),
      routing,
      deliveries: p.notifications.store,
      silences: p.notifications.silences,
      commands: p.commands,
      onAgenciesChanged: () => reloadAgencies(rules, routing, log),
    },
  );
  stack.push('api', api, (a) => a.close());
  const { port } = await api.listen();
  return { api, apiPort: port };
}

/** The platform's health and every device's status, written to InfluxDB on timers. */
async function startHealth(p: Running, log: Logger, stack: CloseStack): Promise<void> {
  const { config, registry, rules } = p;
  const points = await startHealthPoints(
    { healthIntervalMs: config.health.intervalMs, statusIntervalMs: config.health.statusIntervalMs },
    {
      ...{ log, clock: p.clock, host: os.hostname(), since: p.startedAt, metrics: p.metrics, spool: p.spool },
      clients: () => p.broker.connectedClients(),
      openAlerts: () => p.alerts.listOpen(),
      devices: () => registry.listDevices(),
      rules: () => rules.status().rules.map((r) => r.rule),
    },
  );
  stack.push('health points', points, (h) => h.close());
}

/** The readings a command's check may be waiting for; a failure is logged, never the reading's path's. */
function observeCommands(commands: CommandService, readings: readonly Reading[], log: Logger): void {
  try {
    for (const r of readings) commands.observe(r);
  } catch (err) {
    log.error({ err }, 'readings not checked against the commands sent');
  }
}

// Alerts and the rules that raise them: the alert store and service, its sinks (InfluxDB through the
// spool, MQTT through the broker), and the rules engine over the rule files.
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import {
  createAlertService,
  createAlertSinks,
  openAlertStore,
  openPostgresAlertStore,
  type AlertService,
  type AlertStore,
  type RuleLeases,
} from '../alerts/index.ts';
import type { Broker } from '../broker/index.ts';
import type { Registry, Topics } from '../devices/index.ts';
import type { Spool } from '../ingest/index.ts';
import {
  createDeliverer,
  createNotifier,
  emailSender,
  mqttSender,
  openNotifyStore,
  openPostgresNotifyStore,
  openPostgresSilences,
  sqliteSilences,
  telegramSender,
  zaloSender,
  startNotifyLoop,
  startRouting,
  webhookSender,
  type DeliveryOutcome,
  type NotifierLease,
  type NotifyLoop,
  type NotifyStore,
  type SilenceStore,
  type RoutingService,
} from '../notify/index.ts';
import { encodeLine, encodeTags, flatText } from '../influx/index.ts';
import { NOTIFICATIONS, type NotificationField, type NotificationTag } from '../measurements/index.ts';
import { createRuleEngine, type RuleEngine } from '../rules/index.ts';
import type { CloseStack } from './close-stack.ts';
import type { Config } from './config.ts';
import type { PlatformMetrics } from './metrics.ts';

export interface AlertingDeps {
  readonly log: Logger;
  readonly clock: () => number;
  readonly topics: Topics;
  readonly registry: Registry;
  readonly spool: Pick<Spool, 'append'>;
  readonly broker: Pick<Broker, 'publish'>;
  readonly metrics: Pick<PlatformMetrics, 'notificationAttempt'>;
}

export async function startAlerting(
  config: Config,
  deps: AlertingDeps,
  stack: CloseStack,
): Promise<{
  alerts: AlertService;
  rules: RuleEngine;
  routing: RoutingService;
  notifications: Notifications;
  /** In a cluster, the partitions of the device space this node evaluates. */
  leases: RuleLeases | undefined;
}> {
  const { clock, spool, registry } = deps;
  const log = deps.log.child({ component: 'alerts' });
  // A cluster's nodes share the alert store in PostgreSQL (docs/cluster.md); one process keeps it in SQLite.
  const shared =
    config.databaseUrl === undefined
      ? undefined
      : await openPostgresAlertStore({
          url: config.databaseUrl,
          origin: config.cluster?.nodeId ?? 'single',
          // A cluster's nodes share the device space out for their rules (alerts/partitions.ts).
          ...(config.cluster === undefined ? {} : { leases: {} }),
          log,
        });
  const store: AlertStore = stack.push(
    'alert store',
    shared ?? openAlertStore({ file: path.join(config.dataDir, 'alerts.db') }),
    (s) => s.close(),
  );
  const leases = shared?.leases;
  const alerts = createAlertService({ store, log, clock });
  alerts.subscribe(
    createAlertSinks({
      topics: deps.topics,
      publish: deps.broker.publish,
      append: (text, lines, done) => spool.append(text, lines, done),
      onError: (what, err, { alert, event }) =>
        log.error({ err, alert: alert.id, event: event.type }, `alert not sent to ${what}`),
      ackTargetMs: (owner, severity) => {
        const minutes = registry.getAgency(owner)?.ack_target_minutes[severity];
        return minutes === undefined ? undefined : minutes * 60_000;
      },
    }),
  );
  const engineConfig = { ...config.rules, checkpointMs: 5_000, syncMs: 30_000 };
  const engine = await createRuleEngine(engineConfig, {
    alerts,
    store,
    devices: () => registry.listDevices(),
    agencies: () => agencyIds(registry),
    leases,
    appendLines: (text, lines) =>
      spool.append(text, lines, (err) => err && log.error({ err }, 'air-quality index not spooled')),
    log: deps.log.child({ component: 'rules' }),
    clock,
  });
  const rules = stack.push('rules engine', engine, (r) => r.close());
  // The engine listens now: the partitions it is handed from here on come with their states.
  leases?.start();
  const routing = await startRouting({
    file: config.routingFile,
    watch: config.rules.watch,
    agencies: () => registry.listAgencies(),
    log: deps.log.child({ component: 'notify' }),
    clock,
    timeZone: config.timeZone,
  });
  stack.push('routing', routing, (r) => r.close());
  const notifying = await startNotifying(config, { ...deps, alerts, routing }, stack);
  return { alerts, rules, routing, notifications: notifying, leases };
}

/** The ids rules may name as their owner. */
export function agencyIds(registry: Pick<Registry, 'listAgencies'>): ReadonlySet<string> {
  return new Set(registry.listAgencies().map((a) => a.id));
}

/** The notifications: their store (for the API), the silences, and the loop that makes and sends them. */
export interface Notifications {
  readonly store: NotifyStore;
  /** In a cluster, the notifier's lease: the node that holds it notifies for all (notify/lease.ts). */
  readonly lease: NotifierLease | undefined;
  /** In a cluster shared in PostgreSQL, so that a silence holds every node's notifications. */
  readonly silences: SilenceStore;
  readonly loop: NotifyLoop;
}

/** How often the notifier reads new alert events and sends what is due, ms. */
const NOTIFY_TICK_MS = 500;
/**
 * A notification tick not ended for this long is stuck (its steps are bounded: 10 s a statement, 10 s a
 * send): in a cluster its node lets the notifier's lease go to another.
 */
const NOTIFY_STUCK_MS = 60_000;

async function startNotifying(
  config: Config,
  deps: AlertingDeps & { alerts: AlertService; routing: RoutingService },
  stack: CloseStack,
): Promise<Notifications> {
  const { registry, routing, alerts, clock, topics } = deps;
  const log = deps.log.child({ component: 'notify' });
  // A cluster's nodes share the notifications in PostgreSQL, and one node at a time, the holder of the
  // notifier's lease, makes and sends them (docs/cluster.md); one process keeps them in SQLite.
  // The loop, once started: until then the notifier is not stuck.
  const started: { loop?: NotifyLoop } = {};
  const alive = () =>
    started.loop === undefined || performance.now() - started.loop.settledAt() < NOTIFY_STUCK_MS;
  const shared =
    config.databaseUrl === undefined
      ? undefined
      : await openPostgresNotifyStore({
          url: config.databaseUrl,
          ...(config.cluster === undefined ? {} : { lease: { node: config.cluster.nodeId, alive } }),
          log,
        });
  const local = shared === undefined ? openNotifyStore(path.join(config.dataDir, 'notify.db')) : undefined;
  const store: NotifyStore = stack.push('notification store', shared ?? local!, (s) => s.close());
  const silences =
    local === undefined
      ? stack.push('silences', await openPostgresSilences(config.databaseUrl!), (s) => s.close())
      : sqliteSilences(local);
  const lease = shared?.lease;
  const notifier = createNotifier({
    store,
    silences,
    alerts,
    plan: (facts) => routing.plan(facts),
    deviceTags: (id) => registry.getDevice(id)?.tags ?? [],
    maintenanceUntil: (id) => {
      const until = registry.getDevice(id)?.maintenance?.until;
      return until === undefined ? undefined : Date.parse(until);
    },
    link: (id) => `${config.publicUrl}/console/#/alerts/${id}`,
    clock,
    log,
  });
  const smtp = config.smtp.url === undefined ? undefined : nodemailer.createTransport(config.smtp.url);
  if (smtp !== undefined) stack.push('smtp transport', smtp, (t) => t.close());
  const publish = (topic: string, payload: string) =>
    deps.broker.publish(topic, payload, { qos: 1, retain: false });
  const deliverer = createDeliverer({
    store,
    agency: (id) => registry.getAgency(id),
    senders: {
      webhook: webhookSender(clock),
      email: emailSender(smtp, config.smtp.from),
      mqtt: mqttSender(publish, (agency) => topics.notifications(agency)),
      telegram: telegramSender(),
      zalo: zaloSender(),
    },
    timeZone: config.timeZone,
    maxAttempts: config.notify.maxAttempts,
    timeoutMs: config.notify.timeoutMs,
    clock,
    log,
  });
  const onOutcome = (o: DeliveryOutcome) => {
    deps.metrics.notificationAttempt(o.delivery.type, o.status);
    deps.spool.append(notificationLine(o), 1, (err) => {
      if (err) log.error({ err, delivery: o.delivery.key }, 'notification attempt not written to InfluxDB');
    });
  };
  const loop = stack.push(
    'notification loop',
    startNotifyLoop({
      notifier,
      deliverer,
      tickMs: NOTIFY_TICK_MS,
      active: () => lease === undefined || lease.token() !== undefined,
      onOutcome,
      log,
    }),
    (l) => l.close(),
  );
  started.loop = loop;
  // Each new alert event, made on any node, wakes the loop: a route that need not wait is told within
  // milliseconds.
  const unsubscribe = alerts.subscribe(() => loop.wake(), { everywhere: true });
  stack.push('notification wake-up', { unsubscribe }, (w) => w.unsubscribe());
  return { store, lease, silences, loop };
}

/** The `notifications` line of one delivery attempt (measurements/notifications.ts). */
export function notificationLine(o: DeliveryOutcome): string {
  const { delivery } = o;
  const tags = encodeTags({
    agency: delivery.agency,
    receiver: delivery.receiver,
    type: delivery.type,
    outcome: o.status === 'pending' ? 'retry' : o.status,
  } satisfies Record<NotificationTag, string>);
  const fields = {
    delivery_id: delivery.id,
    attempt: delivery.attempts + 1,
    latency_ms: Math.round(o.latencyMs * 10) / 10,
    key: delivery.key,
    detail: flatText(o.detail),
  } satisfies Record<NotificationField, number | string>;
  return `${encodeLine(NOTIFICATIONS.name, tags, fields, o.at)}\n`;
}

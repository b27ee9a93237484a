// The notify component's public entry: the routing file and what it makes of an alert (which receivers,
// grouped how, when, and the escalation chain), the notifier and its store, silences, and delivery.
export { isNotifyError, NOTIFY_ERRORS, NotifyError, type NotifyErrorCode } from './errors.ts';
export {
  GROUP_LABELS,
  loadRoutingFile,
  parseRouting,
  ROUTING_DEFAULTS,
  RoutingFile,
  routesNaming,
  whyUnknown,
  type GroupLabel,
  type KnownAgencies,
  type Route,
  type Routing,
  type RoutingProblem,
  type RoutingResult,
} from './routing.ts';
export {
  matches,
  planAlert,
  resolveReceivers,
  routesOf,
  type AlertFacts,
  type Agencies,
  type PlannedReceiver,
  type PlannedRoute,
  type PlannedStep,
} from './plan.ts';
export {
  formatRoutingProblems,
  startRouting,
  type RoutingService,
  type RoutingServiceOptions,
  type RoutingStatus,
} from './service.ts';
export {
  createNotifier,
  factsOf,
  type NotifiedAlert,
  type Notification,
  type Notifier,
  type NotifierDeps,
} from './notifier.ts';
export {
  DELIVERY_STATUSES,
  type Attempt,
  type Delivery,
  type DeliveryStatus,
  type NewDelivery,
  type NotifyStore,
  type NotifyWrite,
} from './outbox.ts';
export { openNotifyStore, type SqliteNotifyStore } from './store-sqlite.ts';
export {
  openPostgresNotifyStore,
  type PostgresNotifyStore,
  type PostgresNotifyStoreOptions,
} from './store-postgres.ts';
export type { NotifierLease } from './lease.ts';
export {
  backoffMs,
  createDeliverer,
  emailSender,
  mqttSender,
  TELEGRAM_MAX_TEXT,
  telegramSender,
  webhookSender,
  ZALO_MAX_TEXT,
  zaloSender,
  webhookSignature,
  type Deliverer,
  type DeliveryDeps,
  type DeliveryOptions,
  type DeliveryOutcome,
  type MailTransport,
  type Sender,
  type SendJob,
} from './delivery.ts';
export {
  heldUntil,
  SilenceInput,
  silenceState,
  silenceWindow,
  type Silence,
  type SilenceState,
} from './silences.ts';
export { openPostgresSilences, sqliteSilences, type SilenceStore } from './silence-store.ts';
export { startNotifyLoop, type NotifyLoop, type NotifyLoopOptions } from './loop.ts';
export {
  clip,
  DEFAULT_TEMPLATES,
  escapeHtml,
  renderNotification,
  templateFields,
  type RenderedMessage,
} from './templates.ts';

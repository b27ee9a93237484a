// The alerts component's public entry: the alert lifecycle (raised → acknowledged → resolved, escalated
// on the way), the SQLite store that keeps alerts and the rules' saved states, the service every source
// goes through (rule files, Node-RED flows, operators through the API), and the sinks that write each
// transition to InfluxDB and publish it on MQTT.
export {
  Alert,
  ALERT_EVENT_TYPES,
  ALERT_SOURCES,
  ALERT_STATES,
  AlertEvent,
  AlertEventType,
  AlertFilter,
  AlertSource,
  AlertState,
  Severity,
  type AlertChange,
  type AlertStore,
  type SavedState,
  type TriggerInput,
  type TriggerItem,
  type TriggerOutcome,
} from './types.ts';
export { ALERTS_ERRORS, AlertsError, isAlertsError, type AlertsErrorCode } from './errors.ts';
export { openAlertStore, type AlertStoreOptions } from './store-sqlite.ts';
export {
  openPostgresAlertStore,
  type PostgresAlertStore,
  type PostgresAlertStoreOptions,
} from './store-postgres.ts';
export {
  partitionOf,
  PARTITIONS,
  startRuleLeases,
  type Fence,
  type LeaseChange,
  type RuleLeases,
  type RuleLeaseOptions,
} from './partitions.ts';
export {
  createAlertService,
  type AlertListener,
  type AlertService,
  type AlertServiceDeps,
} from './service.ts';
export { alertEventLine, createAlertSinks, type AlertSinkDeps } from './sinks.ts';
export { deviceAlertStates, type DeviceAlertState } from './device-status.ts';

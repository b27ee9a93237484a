export { createBroker } from './broker.ts';
export type {
  ClusterStatus,
  Broker,
  BrokerDeps,
  BrokerHandlers,
  BrokerMetrics,
  CommandAckMessage,
  Refusal,
} from './broker.ts';
export type { BrokerConfig, Listeners } from './listeners.ts';
export { BROKER_ERRORS, BrokerError, type BrokerErrorCode } from './errors.ts';
export { DEFAULT_ATTEMPT_LIMITS, type AttemptLimit, type AttemptLimits } from './attempts.ts';
export type { ClusterConfig } from './redis-link.ts';
export type { NodeBus } from './node-bus.ts';

export { createBroker } from './broker.ts';
export type { Broker, BrokerConfig, BrokerDeps, BrokerMetrics } from './broker.ts';
export { BROKER_ERRORS, BrokerError, type BrokerErrorCode } from './errors.ts';

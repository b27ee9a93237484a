export { loadConfig, ConfigError, Env, PLATFORM_ERRORS, type Config } from './config.ts';
export { createLogger } from './log.ts';
export { createMetrics, type MetricTotals, type PlatformMetrics, type WriteTimes } from './metrics.ts';
export { startPlatform, type Platform, type PlatformDeps } from './platform.ts';

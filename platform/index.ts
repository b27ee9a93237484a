export { loadConfig, ConfigError, Env, type Config } from './config.ts';
export { createLogger } from './log.ts';
export { createMetrics, type PlatformMetrics } from './metrics.ts';
export { startPlatform, type Platform, type PlatformDeps } from './platform.ts';

// A throwaway Redis for a test (bench/servers/redis.ts, which the cluster's benchmark uses too).
export { startRedis, type TestRedis } from '../../bench/servers/redis.ts';

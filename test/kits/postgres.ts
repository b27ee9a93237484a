// A throwaway PostgreSQL for a test (bench/servers/postgres.ts, which the cluster's benchmark uses too).
export { startPostgres, type TestPostgres } from '../../bench/servers/postgres.ts';

// The stores' one way to open their PostgreSQL database in a cluster and keep their schema (open.ts), and
// to tell the other nodes what changed (changes.ts). Below every store, beside sqlite/.
export { openPostgres, type PostgresOptions, type Sql, type TransactionSql } from './open.ts';
export { EVERYTHING, watchChanges, type ChangeFeed } from './changes.ts';

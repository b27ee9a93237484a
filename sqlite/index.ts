// The SQLite stores' one way to open their file and keep their schema (open.ts). Below every store.
export { openSqlite, type Migration, type SqliteOptions } from './open.ts';

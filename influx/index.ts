// The InfluxDB adapter's public entry: line protocol encoding, the InfluxQL builder (the only way the
// platform builds queries), the v1 HTTP API client, and the local influxd used by default and in tests.
export { INFLUX_ERRORS, InfluxError, isInfluxError, type InfluxErrorCode } from './errors.ts';
export {
  createReadingEncoder,
  encodeFields,
  encodeLine,
  encodeReading,
  encodeTags,
  escapeKey,
  escapeMeasurement,
  flatText,
  type LineFieldValue,
  type ReadingEncoder,
  type TagSet,
} from './line-protocol.ts';
export {
  AGGREGATES,
  and,
  createDatabase,
  dropDatabase,
  duration,
  durationMs,
  escapeRegex,
  ident,
  isDuration,
  regexAnyOf,
  regexLiteral,
  retention,
  selectHistory,
  selectLast,
  selectRaw,
  showDatabases,
  showRetentionPolicies,
  str,
  timeLiteral,
  timeRange,
  whereTags,
  type Aggregate,
  type Condition,
  type InfluxQL,
  type SelectHistoryOptions,
  type SelectLastOptions,
  type SelectRawOptions,
  type TagFilter,
} from './influxql.ts';
export {
  createInfluxClient,
  type EnsureDatabaseResult,
  type InfluxClient,
  type InfluxClientOptions,
  type PingResult,
} from './client.ts';
export type { InfluxValue, Series } from './series.ts';
export {
  freePort,
  startLocalInfluxd,
  type LauncherLog,
  type LocalInfluxd,
  type LocalInfluxdOptions,
} from './local-influxd.ts';

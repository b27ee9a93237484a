// Why the platform could not start, said for whoever ran the command: what happened, and which setting or
// command fixes it, without a stack trace. Each failure a user can cause is named here; anything else is
// printed with its code and message and called what it is, a bug to report with the log.
import path from 'node:path';
import { BrokerError } from '../broker/index.ts';
import { isRegistryError } from '../devices/index.ts';
import { errorText, redactedUrl } from '../errors/index.ts';
import { isInfluxError } from '../influx/index.ts';
import type { Config } from './config.ts';

type Errno = NodeJS.ErrnoException & { port?: number; address?: string };

/** The lines to print when the start failed with `err`. `config` is undefined when it was not read yet. */
export function startupAdvice(err: unknown, config: Config | undefined, env = process.env): string {
  return (
    listenAdvice(err, config) ??
    influxAdvice(err, config) ??
    tlsAdvice(err, config) ??
    clusterAdvice(err, config) ??
    databaseAdvice(err, config) ??
    dataDirAdvice(err, config, env) ??
    `${errorText(err)}\nThis is not a setting we know how to fix: please report it with the log above.`
  );
}

/** The variable that sets the port a listener could not take. */
function portVariable(port: number | undefined, config: Config | undefined): string | undefined {
  if (port === undefined || config === undefined) return undefined;
  if (port === config.mqtt.port) return 'CITY_MQTT_PORT';
  if (port === config.mqtt.wsPort) return 'CITY_MQTT_WS_PORT';
  if (port === config.api.port) return 'CITY_API_PORT';
  return undefined;
}

function listenAdvice(err: unknown, config: Config | undefined): string | undefined {
  const e = err as Errno;
  if (typeof e !== 'object' || e === null || e.syscall !== 'listen') return undefined;
  const variable = portVariable(e.port, config) ?? 'the port setting';
  const where = `${e.address ?? config?.host ?? ''}:${String(e.port)}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return (
        `port ${String(e.port)} is already in use (${where}): another program listens there, perhaps ` +
        `another copy of the platform.\nStop it (\`ss -ltnp 'sport = :${String(e.port)}'\` shows which), or ` +
        `choose another port: ${variable}=<port>, or ${variable}=0 for any free one.`
      );
    case 'EACCES':
      return (
        `port ${String(e.port)} needs privileges this process does not have (${where}).\n` +
        `Set ${variable} to a port of 1024 or above, or give node the capability to bind low ports.`
      );
    case 'EADDRNOTAVAIL':
      return `${where}: CITY_HOST (${config?.host ?? ''}) is not an address of this machine.\nSet CITY_HOST to one of its addresses, or to 0.0.0.0 for all.`;
    default:
      return undefined;
  }
}

function influxAdvice(err: unknown, config: Config | undefined): string | undefined {
  if (!isInfluxError(err)) return undefined;
  const url = config?.influx.url;
  switch (err.code) {
    case 'INFLUX_ERR_LAUNCH':
      if (/not on PATH/.test(err.message)) {
        return (
          'influxd is not installed, and INFLUX_URL is unset, so the platform would start its own.\n' +
          'Install it with `bash scripts/install-deps.sh` (Debian and Ubuntu), or set INFLUX_URL to an ' +
          'InfluxDB you run.'
        );
      }
      if (/address already in use/i.test(err.message)) {
        return (
          `the local influxd could not take port ${String(config?.influx.localPort)}: another program ` +
          'listens there, perhaps another InfluxDB.\nSet INFLUX_LOCAL_PORT to another port (0: any free ' +
          `one), or INFLUX_URL to use that InfluxDB.\n${err.message}`
        );
      }
      return `the local influxd did not start.\n${err.message}`;
    case 'INFLUX_ERR_UNREACHABLE':
    case 'INFLUX_ERR_TIMEOUT':
      return `InfluxDB at ${url ?? 'the local influxd'} cannot be reached (${err.message}).\nIs it running? Check INFLUX_URL, or unset it to let the platform start its own influxd.`;
    case 'INFLUX_ERR_AUTH':
      return `InfluxDB at ${url ?? ''} refused our credentials (${err.message}).\nCheck INFLUX_TOKEN (2.x, 3.x) or INFLUX_USERNAME and INFLUX_PASSWORD (1.x).`;
    case 'INFLUX_ERR_DATABASE_NOT_FOUND':
      return `InfluxDB at ${url ?? ''} has no database "${config?.influx.db ?? ''}" and we may not create it (${err.message}).\nCreate it (on 2.x/3.x, a bucket with a DBRP mapping), or set INFLUX_DB to one that exists.`;
    default:
      return undefined;
  }
}

/** A cluster node's Redis that does not answer. */
function clusterAdvice(err: unknown, config: Config | undefined): string | undefined {
  if (!(err instanceof BrokerError) || err.code !== 'BROKER_ERR_REDIS') return undefined;
  const where = config?.cluster ? redactedUrl(config.cluster.redisUrl) : 'CITY_REDIS_URL';
  return (
    `Redis at ${where} cannot be reached (${errorText(err.cause)}).\nIs it running? Check CITY_REDIS_URL ` +
    '(host, port, password), or unset it to run a single node.'
  );
}

/** The PostgreSQL of CITY_DATABASE_URL that does not answer or refuses us. */
function databaseAdvice(err: unknown, config: Config | undefined): string | undefined {
  const url = config?.databaseUrl;
  if (url === undefined || !isRegistryError(err) || err.code !== 'REGISTRY_ERR_STORAGE') return undefined;
  return (
    `PostgreSQL at ${redactedUrl(url)} cannot be used (${errorText(err.cause)}).\nIs it running, and ` +
    'may this user connect and create tables? Check CITY_DATABASE_URL (host, port, user, password, database).'
  );
}

/** The TLS certificate or key named by the configuration that cannot be read. */
function tlsAdvice(err: unknown, config: Config | undefined): string | undefined {
  const tls = config?.mqtt.tls;
  const file = (err as { path?: unknown } | null)?.path;
  if (tls === undefined || typeof file !== 'string') return undefined;
  const variable =
    path.resolve(file) === path.resolve(tls.certFile)
      ? 'CITY_MQTT_TLS_CERT'
      : path.resolve(file) === path.resolve(tls.keyFile)
        ? 'CITY_MQTT_TLS_KEY'
        : undefined;
  if (variable === undefined) return undefined;
  const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
  return `the TLS file ${file} cannot be read (${code}).\nSet ${variable} to a PEM file this user can read.`;
}

const FILE_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'ENOTDIR', 'EEXIST', 'ENOENT', 'EISDIR']);

/** A file of the data folder (or the folder itself) that cannot be made, opened or written. */
function dataDirAdvice(
  err: unknown,
  config: Config | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const dataDir = config?.dataDir ?? path.resolve(env.CITY_DATA_DIR ?? './var');
  const cause = isRegistryError(err) && err.cause !== undefined ? err.cause : err;
  const e = cause as Errno & { path?: string };
  const code = typeof e === 'object' && e !== null ? e.code : undefined;
  const sqlite = typeof code === 'string' && /^SQLITE_(CANTOPEN|READONLY|FULL|IOERR|PERM)/.test(code);
  if (!sqlite && !(code !== undefined && FILE_CODES.has(code))) return undefined;
  const file = typeof e.path === 'string' ? e.path : dataDir;
  if (!sqlite && !isInside(file, dataDir) && !isInside(dataDir, file)) return undefined;
  const why = code === 'ENOSPC' || code === 'SQLITE_FULL' ? 'the disk is full' : `${code}`;
  return (
    `the data folder ${dataDir} cannot be written (${why}${file === dataDir ? '' : `: ${file}`}).\n` +
    'Set CITY_DATA_DIR to a folder this user can create and write, or fix the permissions of that one.'
  );
}

function isInside(file: string, dir: string): boolean {
  const relative = path.relative(dir, path.resolve(file));
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

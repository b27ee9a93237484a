// Starts an InfluxDB 1.x server (Debian's `influxdb` package, 1.6.7) owned by this process: its own
// config, data folder and free ports, so the embedded default and the tests never touch a system-wide
// instance or a standard port. Used only when no INFLUX_URL is configured; against InfluxDB 2.x/3.x
// the platform is pointed at the server instead (see README in this folder).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InfluxError } from './errors.ts';

export interface LocalInfluxdOptions {
  /** Folder for the config, meta/data/wal folders and `influxd.log`; created if missing. */
  readonly dataDir: string;
  /** HTTP port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /** The executable; default `influxd` from PATH. */
  readonly binary?: string;
  readonly log?: LauncherLog;
}

/** The part of a pino logger the launcher uses. */
export interface LauncherLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface LocalInfluxd {
  readonly url: string;
  readonly port: number;
  /** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/** A free port found by binding :0 can be taken by someone else before influxd binds it: retry. */
const PORT_RACE_ATTEMPTS = 3;

/** A port that was free a moment ago, read from a server bound to 127.0.0.1:0. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const address = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address for a bound server');
  return address.port;
}

/** influxd 1.x configuration (keys from the 1.6 sample config, /etc/influxdb/influxdb.conf). */
export function influxdConfig(dataDir: string, httpPort: number, rpcPort: number): string {
  const q = (s: string) => JSON.stringify(s); // TOML basic strings share JSON's escapes
  return [
    'reporting-disabled = true',
    // The RPC service used by backup/restore; its default 127.0.0.1:8088 would clash with a second instance.
    `bind-address = ${q(`127.0.0.1:${rpcPort}`)}`,
    '[meta]',
    `  dir = ${q(join(dataDir, 'meta'))}`,
    '  logging-enabled = false',
    '[data]',
    `  dir = ${q(join(dataDir, 'data'))}`,
    `  wal-dir = ${q(join(dataDir, 'wal'))}`,
    '  query-log-enabled = false',
    '[monitor]',
    // Otherwise influxd writes its own metrics into a `_internal` database every 10 s.
    '  store-enabled = false',
    '[http]',
    '  enabled = true',
    `  bind-address = ${q(`127.0.0.1:${httpPort}`)}`,
    '  log-enabled = false',
    '  auth-enabled = false',
    '[logging]',
    '  level = "warn"',
    '  suppress-logo = true',
    '[continuous_queries]',
    '  log-enabled = false',
    '[subscriber]',
    '  enabled = false',
    '',
  ].join('\n');
}

export async function startLocalInfluxd(options: LocalInfluxdOptions): Promise<LocalInfluxd> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const attempts = (options.port ?? 0) === 0 ? PORT_RACE_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(dataDir, options);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= attempts) throw unwrap(err);
      options.log?.warn({ attempt }, 'influxd port was taken before it bound; retrying with new ports');
    }
  }
}

class PortTakenError extends Error {
  constructor(readonly inner: InfluxError) {
    super(inner.message);
  }
}

const unwrap = (err: unknown): unknown => (err instanceof PortTakenError ? err.inner : err);

async function launch(dataDir: string, options: LocalInfluxdOptions): Promise<LocalInfluxd> {
  const httpPort = options.port !== undefined && options.port !== 0 ? options.port : await freePort();
  let rpcPort = await freePort();
  while (rpcPort === httpPort) rpcPort = await freePort();
  const configFile = join(dataDir, 'influxd.conf');
  const logFile = join(dataDir, 'influxd.log');
  await writeFile(configFile, influxdConfig(dataDir, httpPort, rpcPort));

  const logFrom = await stat(logFile).then(
    (st) => st.size,
    () => 0,
  );
  const logStream = createWriteStream(logFile, { flags: 'a' });
  await new Promise<void>((ok, fail) => logStream.once('open', () => ok()).once('error', fail));
  const binary = options.binary ?? 'influxd';
  const child = spawn(binary, ['-config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(logStream, { end: false });
  child.stderr.pipe(logStream, { end: false });
  const exited = new Promise<Exit>((ok) => {
    child.once('error', (err) => ok({ code: null, signal: null, err }));
    child.once('exit', (code, signal) => ok({ code, signal }));
  });
  // If this process exits without stop(), do not leave an orphan server holding the data folder.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${httpPort}`;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      await terminate(child, exited);
      await new Promise<void>((ok) => logStream.end(ok));
    })());

  const ready = await Promise.race([waitForPing(url), exited.then((e) => ({ exited: e }))]);
  if (ready === true) {
    options.log?.info({ url, dataDir, logFile }, 'local influxd started');
    return { url, port: httpPort, stop };
  }
  await stop();
  const exit = ready === false ? undefined : ready.exited;
  // Only a port this launcher picked can be retried with another one.
  throw await launchError(exit, { url, logFile, logFrom, binary, portPicked: options.port !== httpPort });
}

interface Exit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly err?: Error;
}

/** Why influxd did not start, said so that the reader knows what to do: `exit` undefined is a timeout. */
async function launchError(
  exit: Exit | undefined,
  at: { url: string; logFile: string; logFrom: number; binary: string; portPicked: boolean },
): Promise<Error> {
  if (exit === undefined) {
    const tail = await logTail(at.logFile, at.logFrom);
    const waited = `within ${READY_TIMEOUT_MS / 1000} s`;
    return new InfluxError(
      'INFLUX_ERR_LAUNCH',
      `influxd did not answer ${at.url}/ping ${waited}; see ${at.logFile}:\n${tail}`,
    );
  }
  const { code, signal, err } = exit;
  if (err !== undefined) {
    const notFound = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return new InfluxError(
      'INFLUX_ERR_LAUNCH',
      notFound
        ? `'${at.binary}' is not on PATH: install InfluxDB 1.x (Debian/Ubuntu: apt-get install influxdb) ` +
            'or configure INFLUX_URL to use a running server'
        : `could not run '${at.binary}': ${err.message}`,
      { cause: err },
    );
  }
  const tail = await logTail(at.logFile, at.logFrom);
  const error = new InfluxError(
    'INFLUX_ERR_LAUNCH',
    `influxd exited (code ${String(code)}, signal ${String(signal)}); see ${at.logFile}:\n${tail}`,
  );
  return /address already in use/i.test(tail) && at.portPicked ? new PortTakenError(error) : error;
}

/** Polls /ping until it answers 204; false after READY_TIMEOUT_MS. */
async function waitForPing(url: string): Promise<true | false> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 204) return true;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  return false;
}

async function terminate(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** The last lines this launch wrote (from `from`, the file's size before it): an earlier run's are not its. */
async function logTail(logFile: string, from: number): Promise<string> {
  try {
    const text = (await readFile(logFile)).subarray(from).toString('utf8');
    return text.split('\n').slice(-15).join('\n') || '(nothing written)';
  } catch {
    return '(no log written)';
  }
}

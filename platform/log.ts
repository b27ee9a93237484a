// The one root logger, writing JSON lines to standard output. A log line must never stop the platform:
// when the disk under the log file is full (ENOSPC) or the output fails otherwise, lines are dropped and
// counted, and the first line that can be written again says how many were lost and why. A pipe that is
// only slow (EAGAIN) is waited for, a second at most; after a line given up on, lines are dropped without
// waiting until one goes through, so a stuck reader cannot stall the event loop a second per line. A line
// cut short by a failure is ended before the next, so no two lines run together.
//
// On a terminal the lines are pretty and coloured (pino-pretty), for a person reading them; otherwise they
// stay JSON, for journald, a file or a log shipper (CITY_LOG_FORMAT chooses).
import { writeSync } from 'node:fs';
import pino, { type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

/** CITY_LOG_FORMAT: `auto` is `pretty` when standard output is a terminal, `json` otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  readonly format?: LogFormat;
  /** Where the lines go; standard output, never throwing, by default. */
  readonly destination?: DestinationStream;
}

/** The one root logger; components get `log.child({ component })`. Secrets never reach a log line. */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? createLogDestination();
  const format = options.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  return pino(
    {
      level,
      redact: {
        paths: [
          'password',
          'secret',
          'token',
          '*.password',
          '*.secret',
          '*.token',
          'req.headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    pretty ? prettified(destination) : destination,
  );
}

/** Each JSON line as pino-pretty writes it: time, level and component first, in colour, the rest below. */
function prettified(destination: DestinationStream): DestinationStream {
  const format = prettyFactory({
    // Colours for a terminal; `pretty` into a file or a pipe stays plain text.
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,component',
    messageFormat: '{if component}{component}: {end}{msg}',
  });
  return { write: (line: string) => destination.write(format(line)) };
}

/** Writes some of `bytes`, returning how many; throws as `fs.writeSync` does. */
export type WriteSome = (bytes: Buffer) => number;

const EAGAIN_WAIT_MS = 1;
const EAGAIN_TRIES = 1000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** A destination that never throws: what it cannot write it drops, counts and reports once it can. */
export function createLogDestination(
  write: WriteSome = (bytes) => writeSync(1, bytes),
  now: () => number = Date.now,
): DestinationStream {
  let dropped = 0;
  let reason = '';
  let since = 0;
  /** A line was given up on while the output would not take it (EAGAIN): do not wait again until it does. */
  let stalled = false;
  /** A line was cut short: the output's last line has no end. */
  let cut = false;

  function writeAll(bytes: Buffer): void {
    let rest = bytes;
    let tries = 0;
    while (rest.length > 0) {
      try {
        rest = rest.subarray(write(rest));
      } catch (err) {
        if (rest.length < bytes.length) cut = true;
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' || stalled || ++tries > EAGAIN_TRIES) {
          if (code === 'EAGAIN') stalled = true;
          throw err;
        }
        Atomics.wait(pause, 0, 0, EAGAIN_WAIT_MS);
      }
    }
    stalled = false;
  }

  return {
    write(line: string) {
      try {
        if (cut) {
          writeAll(Buffer.from('\n'));
          cut = false;
        }
        if (dropped > 0) {
          const message = `${dropped} log lines dropped since ${new Date(since).toISOString()}: ${reason}`;
          writeAll(Buffer.from(`${JSON.stringify({ level: 40, time: now(), dropped, msg: message })}\n`));
          dropped = 0;
        }
        writeAll(Buffer.from(line));
      } catch (err) {
        if (dropped++ === 0) {
          since = now();
          reason = (err as NodeJS.ErrnoException).code ?? String(err);
        }
      }
    },
  };
}

// Error codes raised by the InfluxDB adapter, one table so that every code is documented and a test can
// check it (the way Fastify keeps its codes in lib/errors.js). `retryable` tells a writer whether the same
// request may succeed later unchanged (server down, overloaded, slow) or never will (bad line, bad token).

import { CodedError, isErrorOf } from '../errors/index.ts';

export const INFLUX_ERRORS = {
  INFLUX_ERR_UNREACHABLE:
    'the server could not be reached (connection refused, reset, DNS failure); retryable',
  INFLUX_ERR_TIMEOUT: 'the server did not answer within the configured timeout; retryable',
  INFLUX_ERR_AUTH: 'the server refused the credentials or token (HTTP 401/403); not retryable',
  INFLUX_ERR_BAD_REQUEST:
    'the server refused the request as malformed (HTTP 400: line protocol parse error, partial write, ' +
    "field type conflict, InfluxQL syntax error); the server's message is kept; not retryable",
  INFLUX_ERR_DATABASE_NOT_FOUND:
    'the database (or, on 2.x/3.x, its DBRP mapping) does not exist (HTTP 404); retryable once it is created',
  INFLUX_ERR_TOO_LARGE: 'the request body is larger than the server accepts (HTTP 413); split it and retry',
  INFLUX_ERR_THROTTLED: 'the server asked to slow down (HTTP 429, 2.x/3.x and Cloud quotas); retryable',
  INFLUX_ERR_SERVER: 'the server failed (HTTP 5xx or an unexpected status); retryable',
  INFLUX_ERR_BAD_RESPONSE: 'the server answered with a body that is not the v1 API JSON shape',
  INFLUX_ERR_QUERY: "a query statement failed on the server (the statement's error is kept)",
  INFLUX_ERR_LINE:
    'a value cannot be written as line protocol (newline in a name or tag, non-finite number, no fields)',
  INFLUX_ERR_QUERY_INPUT:
    'a value cannot be put into InfluxQL (invalid duration, non-integer time, empty field list)',
  INFLUX_ERR_CLOSED: 'the client was used after close()',
  INFLUX_ERR_LAUNCH:
    'the local influxd could not be started (not installed, exited, or did not answer /ping)',
} as const;

export type InfluxErrorCode = keyof typeof INFLUX_ERRORS;

const RETRYABLE: ReadonlySet<InfluxErrorCode> = new Set<InfluxErrorCode>([
  'INFLUX_ERR_UNREACHABLE',
  'INFLUX_ERR_TIMEOUT',
  'INFLUX_ERR_DATABASE_NOT_FOUND',
  'INFLUX_ERR_THROTTLED',
  'INFLUX_ERR_SERVER',
]);

/** The one error class of the adapter; `code` is stable, `cause` keeps the underlying error. */
export class InfluxError extends CodedError<InfluxErrorCode> {
  override readonly name = 'InfluxError';
  /** True when the same request may succeed later unchanged. */
  readonly retryable: boolean;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;

  constructor(code: InfluxErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(code, message, options);
    this.retryable = RETRYABLE.has(code);
    this.status = options?.status;
  }
}

export const isInfluxError = isErrorOf(InfluxError);

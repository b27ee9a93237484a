// Error codes answered by the HTTP API, one table so that every code is documented with its status and a
// test can check it (the way Fastify keeps its codes in lib/errors.js). Every error leaves the API as
// `{ error: { code, message, details? } }`; the mapping from the other components' errors lives here too.
import http from 'node:http';
import { z } from 'zod';
import { CodedError } from '../errors/index.ts';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { isRegistryError, type RegistryErrorCode } from '../devices/index.ts';
import { isInfluxError, type InfluxErrorCode } from '../influx/index.ts';
import { isAlertsError, type AlertsErrorCode } from '../alerts/index.ts';
import { isCommandError } from '../commands/index.ts';

export const API_ERRORS = {
  API_ERR_UNAUTHORIZED: {
    status: 401,
    description:
      'no bearer token nor session cookie, a malformed Authorization header, a token the registry does not know, or a session that has ended',
  },
  API_ERR_FORBIDDEN: { status: 403, description: "the token's role is below the role the route requires" },
  API_ERR_VALIDATION: {
    status: 400,
    description:
      'a parameter, query or body does not match its schema (details: the zod issues), or a value the ' +
      'registry refuses (unknown gateway, metadata of another kind)',
  },
  API_ERR_BAD_REQUEST: {
    status: 400,
    description: 'the request cannot be read at all (malformed JSON, empty JSON body, bad header)',
  },
  API_ERR_UNKNOWN_FIELD: {
    status: 400,
    description: "a requested field is not one of the device kind's fields",
  },
  API_ERR_TOO_MANY_POINTS: {
    status: 400,
    description: 'the time range divided by `every` gives more buckets than one answer may hold',
  },
  API_ERR_RANGE_TOO_LONG: {
    status: 400,
    description: 'the time range is longer than the route allows (a backtest covers at most 31 days)',
  },
  API_ERR_NOT_FOUND: {
    status: 404,
    description: 'no device with this id, or no route with this method and path',
  },
  API_ERR_ALERT_NOT_FOUND: { status: 404, description: 'no alert with this id' },
  API_ERR_AGENCY_NOT_FOUND: { status: 404, description: 'no agency with this id' },
  API_ERR_SILENCE_NOT_FOUND: { status: 404, description: 'no silence with this id' },
  API_ERR_USER_NOT_FOUND: { status: 404, description: 'no user with this user name' },
  API_ERR_SIGN_IN: {
    status: 401,
    description:
      'the user name and password do not match a user who may sign in (which one is wrong is not said)',
  },
  API_ERR_SIGN_IN_LOCKED: {
    status: 429,
    description:
      'too many failed sign-ins for this user name or from this address: wait (retryAfterS in details) and try again',
  },
  API_ERR_CROSS_SITE: {
    status: 403,
    description: "a change sent with the session cookie from another site's page (its Origin): refused",
  },
  API_ERR_AGENCY_IN_USE: {
    status: 409,
    description:
      'a rule in force names the agency as its owner, or a route of the routing file names it; details.rules and details.routes list them: change those first',
  },
  API_ERR_ALERT_STATE: {
    status: 409,
    description:
      'the alert is not in a state that allows this: acknowledging needs an open alert, resolving an ' +
      'open or acknowledged one',
  },
  API_ERR_RULES_INVALID: {
    status: 422,
    description:
      'the rule file does not validate; details.problems lists each problem with its line and column',
  },
  API_ERR_COMMAND: {
    status: 400,
    description:
      'the command was refused before anything was sent: details.code says why (COMMAND_ERR_TYPE, _PARAMS, _KIND, _TARGET or _DECOMMISSIONED) and details.problems gives each field',
  },
  API_ERR_CONFLICT: {
    status: 409,
    description: 'a device, gateway or agency with this id already exists',
  },
  API_ERR_DECOMMISSIONED: {
    status: 409,
    description: 'the device is decommissioned: it cannot be changed or given a new secret',
  },
  API_ERR_QUERY_REFUSED: {
    status: 400,
    description:
      "InfluxDB refused the query this request made (HTTP 400): InfluxDB's message says what it could not take",
  },
  API_ERR_TIMEOUT: { status: 408, description: 'the request did not arrive whole in time' },
  API_ERR_PAYLOAD_TOO_LARGE: { status: 413, description: 'the request body is larger than the API accepts' },
  API_ERR_URI_TOO_LONG: {
    status: 414,
    description: 'a path parameter is longer than any id (100 characters)',
  },
  API_ERR_HEADERS_TOO_LARGE: {
    status: 431,
    description: "the request line and headers together are larger than Node.js's limit (16 KiB)",
  },
  API_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'the request body is not application/json' },
  API_ERR_INFLUX_UNAVAILABLE: {
    status: 503,
    description:
      'InfluxDB cannot be reached, timed out, refused our credentials or is overloaded; retry later',
  },
  API_ERR_INTERNAL: { status: 500, description: 'an unexpected failure; it is logged with the request id' },
} as const satisfies Record<string, { readonly status: number; readonly description: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** The body of every error answer; declared on routes so the OpenAPI document shows it. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(API_ERRORS) as [ApiErrorCode, ...ApiErrorCode[]]),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The one error class of the API; `status` comes from the table, never from the thrower. */
export class ApiError extends CodedError<ApiErrorCode> {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly details: unknown;

  constructor(code: ApiErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(code, message, options);
    this.status = API_ERRORS[code].status;
    this.details = options?.details;
  }

  body(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

const REGISTRY_TO_API: Readonly<Record<RegistryErrorCode, ApiErrorCode>> = {
  REGISTRY_ERR_NOT_FOUND: 'API_ERR_NOT_FOUND',
  REGISTRY_ERR_DUPLICATE: 'API_ERR_CONFLICT',
  REGISTRY_ERR_INVALID: 'API_ERR_VALIDATION',
  REGISTRY_ERR_GATEWAY: 'API_ERR_VALIDATION',
  REGISTRY_ERR_IN_USE: 'API_ERR_CONFLICT',
  REGISTRY_ERR_DECOMMISSIONED: 'API_ERR_DECOMMISSIONED',
  REGISTRY_ERR_STORAGE: 'API_ERR_INTERNAL',
  REGISTRY_ERR_CLOSED: 'API_ERR_INTERNAL',
  REGISTRY_ERR_FLEET: 'API_ERR_INTERNAL',
  REGISTRY_ERR_AGENCIES: 'API_ERR_INTERNAL',
  REGISTRY_ERR_BUSY: 'API_ERR_INTERNAL',
};

// The API validates every filter and note before the alert store sees it, so the store refusing one is our
// bug, like a store that cannot be read or is closed: 500, with the cause logged.
const ALERTS_TO_API: Readonly<Record<AlertsErrorCode, ApiErrorCode>> = {
  ALERTS_ERR_NOT_FOUND: 'API_ERR_ALERT_NOT_FOUND',
  ALERTS_ERR_STATE: 'API_ERR_ALERT_STATE',
  ALERTS_ERR_INVALID: 'API_ERR_INTERNAL',
  ALERTS_ERR_STORE: 'API_ERR_INTERNAL',
  ALERTS_ERR_CLOSED: 'API_ERR_INTERNAL',
  ALERTS_ERR_FENCED: 'API_ERR_INTERNAL',
};

// Every parameter is validated and bounded before a query is made, so a query-input refusal is our bug:
// 500. A 400 from InfluxDB itself is the request's (a value InfluxDB cannot take that our bounds let
// through): the client's 400, with InfluxDB's message, and logged, in case it is ours after all. What the
// operator can fix by waiting is 503.
const INFLUX_TO_API: Readonly<Record<InfluxErrorCode, ApiErrorCode>> = {
  INFLUX_ERR_UNREACHABLE: 'API_ERR_INFLUX_UNAVAILABLE',
  INFLUX_ERR_TIMEOUT: 'API_ERR_INFLUX_UNAVAILABLE',
  INFLUX_ERR_AUTH: 'API_ERR_INFLUX_UNAVAILABLE',
  INFLUX_ERR_DATABASE_NOT_FOUND: 'API_ERR_INFLUX_UNAVAILABLE',
  INFLUX_ERR_THROTTLED: 'API_ERR_INFLUX_UNAVAILABLE',
  INFLUX_ERR_SERVER: 'API_ERR_INFLUX_UNAVAILABLE',
  INFLUX_ERR_CLOSED: 'API_ERR_INFLUX_UNAVAILABLE',
  INFLUX_ERR_LAUNCH: 'API_ERR_INFLUX_UNAVAILABLE',
  INFLUX_ERR_BAD_REQUEST: 'API_ERR_QUERY_REFUSED',
  INFLUX_ERR_BAD_RESPONSE: 'API_ERR_INTERNAL',
  INFLUX_ERR_QUERY: 'API_ERR_INTERNAL',
  INFLUX_ERR_LINE: 'API_ERR_INTERNAL',
  INFLUX_ERR_QUERY_INPUT: 'API_ERR_INTERNAL',
  INFLUX_ERR_TOO_LARGE: 'API_ERR_INTERNAL',
};

// Fastify's own errors that a client can cause (fastify/lib/errors.js), and Node's HTTP parser's.
const FASTIFY_TO_API: Readonly<Record<string, ApiErrorCode>> = {
  FST_ERR_BAD_URL: 'API_ERR_BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'API_ERR_URI_TOO_LONG',
  HPE_HEADER_OVERFLOW: 'API_ERR_HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'API_ERR_TIMEOUT',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'API_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'API_ERR_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'API_ERR_BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'API_ERR_BAD_REQUEST',
};

interface Issue {
  readonly path: string;
  readonly message: string;
  readonly code: string;
}

/** The zod issues of a request validation error, as `details.issues`. */
function validationDetails(err: {
  validation: ReadonlyArray<{ instancePath: string; message?: string | undefined; keyword: string }>;
  validationContext?: string | undefined;
}): { in: string | undefined; issues: Issue[] } {
  return {
    in: err.validationContext,
    issues: err.validation.map((v) => ({ path: v.instancePath, message: v.message ?? '', code: v.keyword })),
  };
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('statusCode' in err)) return undefined;
  return typeof err.statusCode === 'number' ? err.statusCode : undefined;
}

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** Any error thrown while answering a request, as the ApiError the client sees. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    return new ApiError('API_ERR_VALIDATION', err.message, { cause: err, details: validationDetails(err) });
  }
  if (isRegistryError(err)) return new ApiError(REGISTRY_TO_API[err.code], err.message, { cause: err });
  if (isAlertsError(err)) {
    const code = ALERTS_TO_API[err.code];
    const message = code === 'API_ERR_INTERNAL' ? 'the alert store failed' : err.message;
    return new ApiError(code, message, { cause: err });
  }
  // A command refused before anything was sent says why in the command's own code and its fields; the
  // store failing is ours.
  if (isCommandError(err)) {
    if (err.code === 'COMMAND_ERR_STORE')
      return new ApiError('API_ERR_INTERNAL', 'the command store failed', { cause: err });
    const problems = err.problems.length > 0 ? err.problems : [{ field: 'type', message: err.message }];
    return new ApiError('API_ERR_COMMAND', err.message, {
      cause: err,
      details: { code: err.code, problems },
    });
  }
  if (isInfluxError(err)) {
    const code = INFLUX_TO_API[err.code];
    const message =
      code === 'API_ERR_INTERNAL'
        ? 'the time-series query failed'
        : code === 'API_ERR_QUERY_REFUSED'
          ? `InfluxDB refused the query: ${err.message}`
          : err.message;
    return new ApiError(code, message, { cause: err });
  }
  const fastifyCode = codeOf(err);
  if (fastifyCode !== undefined && Object.hasOwn(FASTIFY_TO_API, fastifyCode)) {
    const message = err instanceof Error ? err.message : fastifyCode;
    return new ApiError(FASTIFY_TO_API[fastifyCode] ?? 'API_ERR_BAD_REQUEST', message, { cause: err });
  }
  const status = statusOf(err);
  // A response that does not match its own schema is our bug, whatever status it carries.
  if (status !== undefined && status >= 400 && status < 500 && !isResponseSerializationErrorSafe(err)) {
    const message = err instanceof Error ? err.message : 'bad request';
    return new ApiError('API_ERR_BAD_REQUEST', message, { cause: err });
  }
  return new ApiError('API_ERR_INTERNAL', 'internal error', { cause: err });
}

/**
 * The raw HTTP answer for an error Node's parser found before there was a request (headers too large, a
 * malformed request line, a timeout): the documented body all the same, then the connection closes.
 */
export function clientErrorResponse(err: unknown): string {
  const apiError = toApiError(err);
  const known = codeOf(err) !== undefined && Object.hasOwn(FASTIFY_TO_API, codeOf(err)!);
  const answer = known ? apiError : new ApiError('API_ERR_BAD_REQUEST', 'the request cannot be parsed');
  const body = JSON.stringify(answer.body());
  const reason = http.STATUS_CODES[answer.status] ?? 'Error';
  return (
    `HTTP/1.1 ${answer.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function isResponseSerializationErrorSafe(err: unknown): boolean {
  return typeof err === 'object' && err !== null && isResponseSerializationError(err);
}

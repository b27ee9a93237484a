// What every route module shares: the dependencies it may use and the error responses it declares, so the
// OpenAPI document lists the error body wherever one can be answered.
import type { Registry } from '../devices/index.ts';
import type { DeadLetterStore } from '../ingest/index.ts';
import type { InfluxClient } from '../influx/index.ts';
import type { Auth } from './auth.ts';
import { API_ERRORS, ErrorBody, type ApiErrorCode } from './errors.ts';

/** The registry operations the API uses. */
export type ApiRegistry = Pick<
  Registry,
  | 'getDevice'
  | 'listDevices'
  | 'provisionDevice'
  | 'updateDevice'
  | 'decommissionDevice'
  | 'rotateSecret'
  | 'createApiToken'
  | 'verifyApiToken'
  | 'ensureApiToken'
>;

export type ApiInflux = Pick<InfluxClient, 'query' | 'ping'>;
export type ApiDeadLetters = Pick<DeadLetterStore, 'list' | 'count'>;

export interface RouteDeps {
  readonly auth: Auth;
  readonly registry: ApiRegistry;
  readonly influx: ApiInflux;
  readonly deadLetters: ApiDeadLetters;
  readonly clock: () => number;
  readonly onDecommission: ((id: string) => void) | undefined;
}

/** `security` for an OpenAPI operation that needs a bearer token. */
export const BEARER = [{ bearerAuth: [] }];

/** Response schemas for the error statuses a route can answer. */
export function errorResponses(...codes: ApiErrorCode[]): Record<number, typeof ErrorBody> {
  const out: Record<number, typeof ErrorBody> = {};
  for (const code of ['API_ERR_INTERNAL', ...codes] as const) out[API_ERRORS[code].status] = ErrorBody;
  return out;
}

/** The errors of every authenticated route. */
export const AUTH_ERRORS: ApiErrorCode[] = [
  'API_ERR_UNAUTHORIZED',
  'API_ERR_FORBIDDEN',
  'API_ERR_VALIDATION',
];

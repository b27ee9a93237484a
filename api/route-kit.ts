// What every route module shares: the dependencies it may use and the error responses it declares, so the
// OpenAPI document lists the error body wherever one can be answered.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Kind, type Registry } from '../devices/index.ts';
import type { DeadLetterReader } from '../ingest/index.ts';
import type { InfluxClient } from '../influx/index.ts';
import type { RuleOperations } from '../rules/index.ts';
import type { Auth } from './auth.ts';
import { API_ERRORS, ApiError, ErrorBody, type ApiErrorCode } from './errors.ts';
import { Severity, type AlertService } from '../alerts/index.ts';

/** The registry operations the API uses. */
export type ApiRegistry = Pick<
  Registry,
  | 'getDevice'
  | 'listDevices'
  | 'provisionDevice'
  | 'provisionDevices'
  | 'isKnown'
  | 'updateDevice'
  | 'setMaintenance'
  | 'users'
  | 'decommissionDevice'
  | 'rotateSecret'
  | 'getGateway'
  | 'listGateways'
  | 'provisionGateway'
  | 'updateGateway'
  | 'removeGateway'
  | 'getServiceAccount'
  | 'listServiceAccounts'
  | 'provisionServiceAccount'
  | 'updateServiceAccount'
  | 'removeServiceAccount'
  | 'createApiToken'
  | 'verifyApiToken'
  | 'catchUp'
  | 'ensureApiToken'
  | 'listAgencies'
  | 'getAgency'
  | 'createAgency'
  | 'replaceAgency'
  | 'removeAgency'
>;

export type ApiInflux = Pick<InfluxClient, 'query' | 'ping'>;
/** One node's dead letters, or a cluster's (every node's, in PostgreSQL). */
export type ApiDeadLetters = DeadLetterReader;

/** The alert operations the API uses: reading, an operator's two actions, and the change stream. */
export type ApiAlerts = Pick<
  AlertService,
  'list' | 'listOpen' | 'get' | 'acknowledge' | 'resolve' | 'responseTimes' | 'subscribe'
>;

/** One rule in force, as GET /api/rules lists it and POST /api/rules/validate echoes a valid file. */
export const RuleSummary = z.object({
  id: z.string(),
  title: z.string(),
  severity: Severity,
  owner: z.string().describe('the agency that must act on its alerts'),
  kind: Kind.optional().describe('the device kind it selects; absent when it selects by device id'),
  type: z.string().describe('the condition type: threshold, rate, window, absence, aqi or expr'),
  field: z
    .string()
    .optional()
    .describe('the reading field its condition compares (threshold, rate, window); absent for the others'),
  file: z.string().describe('the rule file it comes from'),
});
export type RuleSummary = z.infer<typeof RuleSummary>;

/** The rules operations the API uses (rules' createRuleOperations, bound by the composition root). */
export type ApiRules = RuleOperations;

export interface RouteDeps {
  readonly auth: Auth;
  readonly registry: ApiRegistry;
  readonly influx: ApiInflux;
  readonly deadLetters: ApiDeadLetters;
  readonly clock: () => number;
  readonly onDecommission: ((id: string) => void) | undefined;
  /** Closes the MQTT connections signed in as this id (its secret rotated, its rights changed, removed). */
  readonly disconnect: ((id: string) => void) | undefined;
}

/** A problem of a file the API checked (a rule file, the routing file), at its line and column. */
export function fileProblem(codes: string) {
  return z.object({
    file: z.string(),
    line: z.number().int().describe('1-based'),
    column: z.number().int().describe('1-based'),
    message: z.string(),
    code: z.string().describe(codes),
  });
}

/** `security` for an OpenAPI operation that needs a bearer token. */
/** A route's ways in: a bearer token (machines), or the session cookie of a signed-in user (the console). */
export const BEARER: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { sessionCookie: [] }];

/**
 * A whole-number query parameter (a limit, an id to page from), from `min` up to `max`: every way it can
 * be wrong (not a number, a fraction, out of range) is told with the range and an example.
 */
export function wholeNumber(min: number, max?: number) {
  const example = Math.max(min, Math.min(max ?? 100, 100));
  const error =
    max === undefined
      ? `expected a whole number of at least ${min}, such as ${example}`
      : `expected a whole number from ${min} to ${max}, such as ${example}`;
  const n = z.coerce.number({ error }).int({ error }).min(min, { error });
  return max === undefined ? n : n.max(max, { error });
}

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

/**
 * RFC 6750 §2.3: the token as the `access_token` query parameter, for a route whose clients cannot send
 * headers (a browser's EventSource). A header, when sent, wins. The token is put in the header so that the
 * one authenticate hook checks it like any other. Only for routes that opt in: a token in a URL can end up
 * in proxy and browser histories, so everything else takes the header only.
 */
export function adoptQueryToken(request: FastifyRequest): void {
  if (request.headers.authorization !== undefined) return;
  const query: unknown = request.query;
  if (typeof query !== 'object' || query === null || !('access_token' in query)) return;
  const token = query.access_token;
  if (typeof token === 'string' && token !== '') request.headers.authorization = `Bearer ${token}`;
}

/** The caller's name in histories (alerts, silences, maintenance): the label given to its token. */
export function callerOf(auth: Pick<Auth, 'principalOf'>, request: FastifyRequest): string {
  const principal = auth.principalOf(request);
  if (principal === undefined) throw new ApiError('API_ERR_UNAUTHORIZED', 'no authenticated caller');
  return principal.label;
}

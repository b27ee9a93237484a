// /api/alerts: the alerts the rules raised, their history, an operator's acknowledge and resolve, response
// times per owner, and a live stream of every change as server-sent events. The alert service owns the
// lifecycle; these routes only read it, act on it in the caller's name, and translate its errors.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Kind } from '../devices/index.ts';

import type { Auth } from './auth.ts';
import { ApiError } from './errors.ts';
import { AUTH_ERRORS, BEARER, callerOf, errorResponses, wholeNumber, type ApiAlerts } from './route-kit.ts';
import { rangeQuery } from './time-range.ts';
import { Alert, ALERT_STATES, AlertEvent, type AlertChange } from '../alerts/index.ts';
import { SEVERITIES } from '../measurements/index.ts';

/** The stream's path under /api; api.ts lets it take the token as `?access_token=`. */
export const ALERT_STREAM_PATH = '/alerts/stream';
/** A comment line this often keeps proxies (nginx's proxy_read_timeout is 60 s) from closing a quiet stream. */
export const HEARTBEAT_MS = 15_000;
/** A client that lets this much pile up unread is dropped rather than held in memory; it reconnects. */
export const MAX_UNSENT_BYTES = 1024 * 1024;

export interface AlertRouteDeps {
  readonly auth: Auth;
  readonly alerts: ApiAlerts;
  /** The time `now` means in relative instants. */
  readonly clock: () => number;
}

/** `a,b` or `x=a&x=b` (or both) as one list: how the query string names several values of a filter. */
function listOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) =>
      [v]
        .flat()
        .flatMap((s) => s.split(','))
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .pipe(z.array(z.enum(values)).max(10));
}

const Text = z.string().min(1).max(256);

const StreamFilter = z.object({
  owner: Text.optional().describe('the agency the alert is routed to'),
  kind: Kind.optional(),
  district: Text.optional(),
  severity: listOf(SEVERITIES).optional().describe('comma-separated, or the parameter repeated'),
});

const listQuery = (clock: () => number) =>
  StreamFilter.extend({
    state: listOf(ALERT_STATES).optional().describe('comma-separated, or the parameter repeated'),
    device: Text.optional(),
    rule: Text.optional(),
    ...rangeQuery(clock, { from: 'raised at or after', to: 'raised before' }),
    limit: wholeNumber(1, 1000).default(100).describe('newest raised first'),
  });

const StreamQuery = StreamFilter.extend({
  access_token: z
    .string()
    .optional()
    .describe('the bearer token, for clients that cannot send headers (EventSource); the header wins'),
});

const responseTimesQuery = (clock: () => number) =>
  z.object(rangeQuery(clock, { from: 'alerts raised at or after', to: 'alerts raised before' }));

const AlertIdParam = z.object({ id: z.string().min(1).max(32).describe('alert id') });

/** The body may be left out: Fastify then hands the validator `null`. */
const ActionBody = z
  .strictObject({ note: z.string().max(1000).optional().describe('why, for the alert history') })
  .nullish();

const AlertList = z.object({ alerts: z.array(Alert) });
const AlertWithHistory = z.object({ alert: Alert, events: z.array(AlertEvent).describe('oldest first') });
const AlertChanged = z.object({ alert: Alert, event: AlertEvent });

const ResponseTimes = z.object({
  owners: z.array(
    z.object({
      owner: z.string(),
      acknowledged: z.number().int().min(0).describe('alerts raised in the range and acknowledged'),
      meanAckMs: z.number().nullable().describe('mean ms from raised to acknowledged; null when none'),
      resolved: z.number().int().min(0).describe('resolved, by an operator or by the rule clearing'),
      meanResolveMs: z.number().nullable().describe('mean ms from raised to resolved; null when none'),
    }),
  ),
});

const EventStream = {
  description:
    'one `event: alert` per change, `data:` the change as JSON ({ alert, event }), `id:` the event id; ' +
    `a comment line every ${HEARTBEAT_MS / 1000} s; no replay of changes missed while disconnected`,
  content: { 'text/event-stream': { schema: z.string() } },
};

const ID = /^[1-9][0-9]{0,14}$/;

type Filter = z.output<typeof StreamFilter>;

function matches(filter: Filter, alert: Alert): boolean {
  return (
    (filter.owner === undefined || alert.owner === filter.owner) &&
    (filter.kind === undefined || alert.kind === filter.kind) &&
    (filter.district === undefined || alert.district === filter.district) &&
    (filter.severity === undefined ||
      filter.severity.length === 0 ||
      filter.severity.includes(alert.severity))
  );
}

/** One server-sent event (WHATWG HTML §9.2.6): JSON has no raw newline, so `data:` is one line. */
function frame(change: AlertChange): string {
  const data = JSON.stringify({ alert: change.alert, event: change.event });
  return `event: alert\nid: ${change.event.id}\ndata: ${data}\n\n`;
}

/**
 * Takes the response over from Fastify (hijack: it sends nothing more) and writes each matching change
 * until the client goes or the API closes. Returns the function that ends the stream.
 */
function openStream(reply: FastifyReply, alerts: ApiAlerts, filter: Filter): () => void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no', // nginx: pass each event on at once instead of buffering the response
  });
  let ended = false;
  const send = (text: string): void => {
    if (ended || res.destroyed) return;
    if (res.writableLength > MAX_UNSENT_BYTES) end();
    else res.write(text);
  };
  // Every node's changes: in a cluster an operator sees the same stream through any node.
  const unsubscribe = alerts.subscribe(
    (change) => {
      if (matches(filter, change.alert)) send(frame(change));
    },
    { everywhere: true },
  );
  const heartbeat = setInterval(() => send(': heartbeat\n\n'), HEARTBEAT_MS);
  function end(): void {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe();
    res.end();
  }
  res.on('close', end);
  res.on('error', end);
  send(': connected\n\n');
  return end;
}

export function alertsRoutes({ auth, alerts, clock }: AlertRouteDeps): FastifyPluginAsyncZod {
  const tags = ['alerts'];
  const ListQuery = listQuery(clock);
  const ResponseTimesQuery = responseTimesQuery(clock);

  /** A path segment that cannot be an alert id names no alert: 404, as for devices. */
  function alertId(text: string): number {
    if (!ID.test(text)) throw new ApiError('API_ERR_ALERT_NOT_FOUND', `no alert ${JSON.stringify(text)}`);
    return Number(text);
  }

  const caller = (request: FastifyRequest) => callerOf(auth, request);

  const actionSchema = (summary: string) => ({
    tags,
    summary,
    security: BEARER,
    params: AlertIdParam,
    body: ActionBody,
    response: {
      200: AlertChanged,
      ...errorResponses(...AUTH_ERRORS, 'API_ERR_ALERT_NOT_FOUND', 'API_ERR_ALERT_STATE'),
    },
  });

  return (app) => {
    const streams = new Set<() => void>();
    // A stream never finishes on its own, and the server's close waits for open requests: end them first.
    app.addHook('preClose', (done) => {
      for (const end of streams) end();
      done();
    });

    app.get('/alerts', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'List alerts, newest raised first',
        security: BEARER,
        querystring: ListQuery,
        response: { 200: AlertList, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: async (request) => {
        const { state, severity, ...rest } = request.query;
        const filter = {
          ...rest,
          ...(state?.length ? { state } : {}),
          ...(severity?.length ? { severity } : {}),
        };
        return { alerts: await alerts.list(filter) };
      },
    });

    app.get('/alerts/response-times', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'Per owner: mean time from raised to acknowledged and to resolved',
        security: BEARER,
        querystring: ResponseTimesQuery,
        response: { 200: ResponseTimes, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: async (request) => ({ owners: await alerts.responseTimes(request.query) }),
    });

    app.get(ALERT_STREAM_PATH, {
      onRequest: auth.requireRole('viewer'),
      // The URL may carry the token (`access_token`): keep it out of the info-level request log.
      logLevel: 'warn',
      schema: {
        tags,
        summary: 'Every alert change from now on, as server-sent events',
        description:
          'Send the token as `Authorization: Bearer`, or, where a client cannot set headers (a ' +
          "browser's EventSource), as `?access_token=` (RFC 6750 §2.3) on this route only.",
        security: BEARER,
        querystring: StreamQuery,
        response: { 200: EventStream, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: (request, reply) => {
        const { access_token: _token, ...filter } = request.query;
        const end = openStream(reply, alerts, filter);
        streams.add(end);
        reply.raw.on('close', () => streams.delete(end));
        return Promise.resolve();
      },
    });

    app.get('/alerts/:id', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'One alert and its history',
        security: BEARER,
        params: AlertIdParam,
        response: { 200: AlertWithHistory, ...errorResponses(...AUTH_ERRORS, 'API_ERR_ALERT_NOT_FOUND') },
      },
      handler: async (request) => {
        const found = await alerts.get(alertId(request.params.id));
        if (found === undefined)
          throw new ApiError('API_ERR_ALERT_NOT_FOUND', `no alert ${request.params.id}`);
        return found;
      },
    });

    app.post('/alerts/:id/acknowledge', {
      onRequest: auth.requireRole('operator'),
      schema: actionSchema('Acknowledge an open alert: someone is on it'),
      handler: async (request) => {
        const id = alertId(request.params.id);
        const change = await alerts.acknowledge(id, caller(request), request.body?.note);
        request.log.info({ alert: id }, 'alert acknowledged');
        return { alert: change.alert, event: change.event };
      },
    });

    app.post('/alerts/:id/resolve', {
      onRequest: auth.requireRole('operator'),
      schema: actionSchema('Resolve an open or acknowledged alert'),
      handler: async (request) => {
        const id = alertId(request.params.id);
        const change = await alerts.resolve(id, caller(request), request.body?.note);
        request.log.info({ alert: id }, 'alert resolved');
        return { alert: change.alert, event: change.event };
      },
    });

    return Promise.resolve();
  };
}

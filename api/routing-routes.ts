// /api/routing: the routing in force (which receivers each alert goes to), and "who would be told of
// this alert, and when" for a stored alert or a hand-written one.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AgencyId, Kind, type DeviceRecord } from '../devices/index.ts';
import { Severity, type Alert } from '../alerts/index.ts';
import {
  factsOf,
  GROUP_LABELS,
  type AlertFacts,
  type PlannedRoute,
  type RoutingService,
} from '../notify/index.ts';
import type { Auth } from './auth.ts';
import { ApiError } from './errors.ts';
import {
  AUTH_ERRORS,
  BEARER,
  errorResponses,
  fileProblem,
  type ApiAlerts,
  type ApiRegistry,
} from './route-kit.ts';

/** What the API reads of the routing. */
export type ApiRouting = Pick<RoutingService, 'routing' | 'status' | 'plan'>;

export interface RoutingRouteDeps {
  readonly auth: Auth;
  readonly routing: ApiRouting;
  readonly registry: Pick<ApiRegistry, 'getDevice'>;
  readonly alerts: Pick<ApiAlerts, 'get'> | undefined;
  readonly clock: () => number;
}

const Problem = fileProblem('NOTIFY_ERR_YAML, NOTIFY_ERR_SCHEMA or NOTIFY_ERR_UNKNOWN_RECEIVER');
const RouteView = z.object({
  route: z.number().describe('1-based position in the file'),
  line: z.number(),
  name: z.string().optional(),
  match: z.record(z.string(), z.unknown()),
  receivers: z.array(z.string()),
  continue: z.boolean(),
  group_by: z.array(z.enum(GROUP_LABELS)),
  group_wait_ms: z.number(),
  group_interval_ms: z.number(),
  repeat_interval_ms: z.number(),
  escalate: z.array(
    z.object({ after: z.union([z.literal('target'), z.number()]), receivers: z.array(z.string()) }),
  ),
});
const RoutingView = z.object({
  file: z.string(),
  loadedAt: z.string(),
  routes: z.array(RouteView),
  problems: z
    .array(Problem)
    .describe('of the last refused reload; the routing in force is the one before it'),
});

const Receiver = z.object({ agency: z.string(), receiver: z.string(), type: z.string() });
const PlanView = z.object({
  alert: z.object({
    agency: z.string(),
    severity: Severity,
    kind: z.string(),
    district: z.string(),
    rule: z.string(),
    device: z.string(),
    tags: z.array(z.string()),
  }),
  raisedAt: z.string().describe('the alert’s, or now for a hand-written one: the times below count from it'),
  routes: z.array(
    z.object({
      route: z.number(),
      line: z.number(),
      name: z.string().optional(),
      group: z.record(z.string(), z.string()),
      receivers: z.array(Receiver),
      first_at: z.string().describe('when a new group of this alert is first notified (after group_wait)'),
      repeat_every_ms: z.number().describe('while the alert stays open and unchanged'),
      group_interval_ms: z.number(),
      escalate: z.array(z.object({ at: z.string(), receivers: z.array(Receiver) })),
      unresolved: z.array(z.string()).describe('receivers that name nothing for this alert'),
    }),
  ),
});

/** A stored alert by id, or an alert written by hand (the device, when registered, fills the rest). */
const PlanBody = z.union([
  z.strictObject({ alert: z.number().int().positive().describe('a stored alert’s id') }),
  z.strictObject({
    agency: AgencyId.describe("the alert's owner"),
    severity: Severity,
    kind: Kind.optional(),
    district: z.string().min(1).max(100).optional(),
    rule: z.string().min(1).max(64).default('hand-written'),
    device: z.string().min(1).max(64).optional(),
    tags: z.array(z.string().min(1).max(100)).max(20).optional(),
  }),
]);

export function routingRoutes(deps: RoutingRouteDeps): FastifyPluginAsyncZod {
  const { auth, routing, registry } = deps;
  const tags = ['routing'];

  async function planned(body: z.infer<typeof PlanBody>): Promise<{ facts: AlertFacts; raisedAt: number }> {
    if ('alert' in body) {
      const alert: Alert | undefined = (await deps.alerts?.get(body.alert))?.alert;
      if (alert === undefined) throw new ApiError('API_ERR_ALERT_NOT_FOUND', `no alert ${body.alert}`);
      const device = registry.getDevice(alert.device);
      return {
        facts: factsOf(alert, device?.tags ?? []),
        raisedAt: Date.parse(alert.raisedAt),
      };
    }
    const device: DeviceRecord | undefined =
      body.device === undefined ? undefined : registry.getDevice(body.device);
    return {
      facts: {
        agency: body.agency,
        severity: body.severity,
        kind: body.kind ?? device?.kind ?? '',
        district: body.district ?? device?.district ?? '',
        rule: body.rule,
        device: body.device ?? '',
        tags: body.tags ?? device?.tags ?? [],
      },
      raisedAt: deps.clock(),
    };
  }

  const iso = (ms: number) => new Date(ms).toISOString();
  const view = (p: PlannedRoute, raisedAt: number) => ({
    route: p.route,
    line: p.line,
    ...(p.name === undefined ? {} : { name: p.name }),
    group: p.group as Record<string, string>,
    receivers: [...p.receivers],
    first_at: iso(raisedAt + p.groupWaitMs),
    repeat_every_ms: p.repeatIntervalMs,
    group_interval_ms: p.groupIntervalMs,
    escalate: p.escalate.map((s) => ({ at: iso(raisedAt + s.afterMs), receivers: [...s.receivers] })),
    unresolved: [...p.unresolved],
  });

  return (app) => {
    app.get('/routing', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'The routing in force, and the problems of a refused reload',
        security: BEARER,
        response: { 200: RoutingView, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: () => {
        const status = routing.status();
        const routes = routing.routing().routes.map((r) => ({
          route: r.index,
          line: r.line,
          ...(r.name === undefined ? {} : { name: r.name }),
          match: { ...r.match },
          receivers: [...r.receivers],
          continue: r.continue,
          group_by: [...r.groupBy],
          group_wait_ms: r.groupWaitMs,
          group_interval_ms: r.groupIntervalMs,
          repeat_interval_ms: r.repeatIntervalMs,
          escalate: r.escalate.map((s) => ({ after: s.after, receivers: [...s.receivers] })),
        }));
        return Promise.resolve({
          file: status.file,
          loadedAt: status.loadedAt,
          routes,
          problems: [...status.problems],
        });
      },
    });

    app.post('/routing/plan', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'Which receivers an alert (stored, or written by hand) would reach, and when',
        security: BEARER,
        body: PlanBody,
        response: { 200: PlanView, ...errorResponses(...AUTH_ERRORS, 'API_ERR_ALERT_NOT_FOUND') },
      },
      handler: async (request) => {
        const { facts, raisedAt } = await planned(request.body);
        const routes = routing.plan(facts).map((p) => view(p, raisedAt));
        return {
          alert: { ...facts, tags: [...facts.tags] },
          raisedAt: iso(raisedAt),
          routes,
        };
      },
    });

    return Promise.resolve();
  };
}

// Where the notifications went: an alert's deliveries with every attempt, and the deliveries by status
// (the dead ones are those that gave up: an operator follows them up by hand).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  DELIVERY_STATUSES,
  type Attempt as NotifyAttempt,
  type Delivery,
  type NotifyStore,
} from '../notify/index.ts';
import type { Auth } from './auth.ts';
import { AUTH_ERRORS, BEARER, errorResponses, wholeNumber } from './route-kit.ts';

/** What the API reads of the notification store. */
export type ApiDeliveries = Pick<NotifyStore, 'deliveries' | 'deliveriesOfAlert' | 'attempts'>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const Attempt = z.object({ at: z.string(), ok: z.boolean(), latencyMs: z.number(), detail: z.string() });
const DeliveryView = z.object({
  id: z.number(),
  key: z.string().describe('sent to the receiver as its idempotency key'),
  agency: z.string(),
  receiver: z.string(),
  type: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  createdAt: z.string(),
  doneAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable().describe('while pending'),
  lastError: z.string().nullable(),
  attempts: z.array(Attempt),
});

const AlertIdParam = z.object({ id: z.coerce.number().int().positive().describe('alert id') });
const ListQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).optional(),
  limit: wholeNumber(1, 1000).default(100).describe('newest first'),
});

export function deliveriesRoutes(deps: { auth: Auth; deliveries: ApiDeliveries }): FastifyPluginAsyncZod {
  const { auth, deliveries } = deps;
  const tags = ['notifications'];
  const view = (
    d: Delivery,
    attempts: ReadonlyMap<number, readonly NotifyAttempt[]>,
  ): z.infer<typeof DeliveryView> => ({
    id: d.id,
    key: d.key,
    agency: d.agency,
    receiver: d.receiver,
    type: d.type,
    status: d.status,
    createdAt: iso(d.createdAt)!,
    doneAt: iso(d.doneAt),
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    lastError: d.lastError,
    attempts: (attempts.get(d.id) ?? []).map((a) => ({ ...a, at: iso(a.at)! })),
  });

  /** The deliveries as the API shows them, their attempts read together. */
  const views = async (found: readonly Delivery[]) => {
    const attempts = await deliveries.attempts(found.map((d) => d.id));
    return found.map((d) => view(d, attempts));
  };

  return (app) => {
    app.get('/alerts/:id/deliveries', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: "An alert's notifications: each receiver's delivery with its attempts",
        security: BEARER,
        params: AlertIdParam,
        response: { 200: z.object({ deliveries: z.array(DeliveryView) }), ...errorResponses(...AUTH_ERRORS) },
      },
      handler: async (request) => ({
        deliveries: await views(await deliveries.deliveriesOfAlert(request.params.id)),
      }),
    });

    app.get('/deliveries', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'Deliveries of notifications, newest first; `status=dead` for those that gave up',
        security: BEARER,
        querystring: ListQuery,
        response: { 200: z.object({ deliveries: z.array(DeliveryView) }), ...errorResponses(...AUTH_ERRORS) },
      },
      handler: async (request) => {
        const { status, limit } = request.query;
        const found = await deliveries.deliveries({ limit, ...(status === undefined ? {} : { status }) });
        return { deliveries: await views(found) };
      },
    });

    return Promise.resolve();
  };
}

// /api/silences: an operator holds the notifications of the alerts that match, for a time window, with a
// reason (notify/silences.ts). The alerts are still raised and shown; what a silence held is sent when it
// ends, if the alert is still open. Creating one answers with the open alerts it holds now, so a matcher
// that catches nothing, or too much, is seen at once.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Alert } from '../alerts/index.ts';
import {
  factsOf,
  matches,
  SilenceInput,
  silenceState,
  silenceWindow,
  type Silence,
  type SilenceStore,
} from '../notify/index.ts';
import type { Auth } from './auth.ts';
import { ApiError } from './errors.ts';
import {
  AUTH_ERRORS,
  BEARER,
  callerOf,
  errorResponses,
  type ApiAlerts,
  type ApiRegistry,
} from './route-kit.ts';

/** What the API uses of the notification store for silences. */
export type ApiSilences = SilenceStore;

export interface SilenceRouteDeps {
  readonly auth: Auth;
  readonly silences: ApiSilences;
  readonly alerts: Pick<ApiAlerts, 'listOpen'> | undefined;
  readonly registry: Pick<ApiRegistry, 'getDevice'>;
  readonly clock: () => number;
}

const STATES = ['pending', 'active', 'expired'] as const;
const SilenceView = z.object({
  id: z.number(),
  match: z.record(z.string(), z.array(z.string())),
  startsAt: z.string(),
  endsAt: z.string(),
  state: z.enum(STATES),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  endedBy: z.string().nullable().describe('who ended it before its time'),
});
const Created = SilenceView.extend({
  holding: z.array(z.number()).describe('ids of the open alerts it holds now'),
});
const IdParam = z.object({ id: z.coerce.number().int().positive().describe('silence id') });
const ListQuery = z.object({
  state: z
    .enum([...STATES, 'current', 'all'])
    .default('current')
    .describe('`current` (pending and active, the default), one state, or `all` (newest 1000)'),
});

export function silencesRoutes(deps: SilenceRouteDeps): FastifyPluginAsyncZod {
  const { auth, silences, clock } = deps;
  const tags = ['notifications'];
  const iso = (ms: number) => new Date(ms).toISOString();
  const view = (s: Silence, now: number): z.infer<typeof SilenceView> => ({
    id: s.id,
    match: s.match,
    startsAt: iso(s.startsAt),
    endsAt: iso(s.endsAt),
    state: silenceState(s, now),
    reason: s.reason,
    createdBy: s.createdBy,
    createdAt: iso(s.createdAt),
    endedBy: s.endedBy,
  });
  const existing = async (id: number) => {
    const s = await silences.silence(id);
    if (s === undefined) throw new ApiError('API_ERR_SILENCE_NOT_FOUND', `no silence ${id}`);
    return s;
  };
  const holding = async (s: Silence): Promise<number[]> =>
    ((await deps.alerts?.listOpen()) ?? [])
      .filter((a: Alert) => matches(s.match, factsOf(a, deps.registry.getDevice(a.device)?.tags ?? [])))
      .map((a) => a.id);

  return (app) => {
    app.get('/silences', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'Silences, newest first: by default those pending or in force',
        security: BEARER,
        querystring: ListQuery,
        response: { 200: z.object({ silences: z.array(SilenceView) }), ...errorResponses(...AUTH_ERRORS) },
      },
      handler: async (request) => {
        const now = clock();
        const { state } = request.query;
        const list = await silences.silences(state === 'current' ? { endingAfter: now } : {});
        const shown =
          state === 'current' || state === 'all' ? list : list.filter((s) => silenceState(s, now) === state);
        return { silences: shown.map((s) => view(s, now)) };
      },
    });

    app.post('/silences', {
      onRequest: auth.requireRole('operator'),
      schema: {
        tags,
        summary: 'Hold the notifications of the alerts that match, for a time window, with a reason',
        security: BEARER,
        body: SilenceInput,
        response: { 201: Created, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: async (request, reply) => {
        const now = clock();
        const window = silenceWindow(request.body, now);
        if ('problem' in window) throw new ApiError('API_ERR_VALIDATION', `body/ends_at ${window.problem}`);
        const s = await silences.addSilence({
          match: request.body.match,
          ...window,
          reason: request.body.reason,
          createdBy: callerOf(auth, request),
          createdAt: now,
        });
        request.log.info({ silence: s.id, match: s.match, endsAt: iso(s.endsAt) }, 'silence created');
        reply.code(201);
        return { ...view(s, now), holding: await holding(s) };
      },
    });

    app.delete('/silences/:id', {
      onRequest: auth.requireRole('operator'),
      schema: {
        tags,
        summary: 'End a silence now; what it held is sent within its group interval if still open',
        security: BEARER,
        params: IdParam,
        response: { 200: SilenceView, ...errorResponses(...AUTH_ERRORS, 'API_ERR_SILENCE_NOT_FOUND') },
      },
      handler: async (request) => {
        const now = clock();
        await existing(request.params.id);
        const ended = (await silences.endSilence(request.params.id, callerOf(auth, request), now))!;
        request.log.info({ silence: ended.id }, 'silence ended');
        return view(ended, now);
      },
    });

    return Promise.resolve();
  };
}

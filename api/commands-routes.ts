// /api/commands: send a command to a device or a set of them (a street's lamps, a district's, a tag's),
// and follow each: queued → sent → acknowledged / failed / expired, and for the commands a reading shows,
// the check of the result (matched / mismatched). A request the platform cannot carry out is refused
// before anything is stored or sent, with the field at fault (API_ERR_COMMAND, details.code and problems).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CommandRequest,
  type CommandEvent,
  type CommandRecord,
  type CommandService,
} from '../commands/index.ts';
import { COMMAND_TYPES } from '../devices/index.ts';
import { COMMAND_STATES } from '../measurements/index.ts';
import type { Auth } from './auth.ts';
import { ApiError } from './errors.ts';
import { AUTH_ERRORS, BEARER, callerOf, errorResponses, wholeNumber } from './route-kit.ts';

export type ApiCommands = Pick<CommandService, 'send' | 'get' | 'list'>;

const iso = (ms: number) => new Date(ms).toISOString();

const CommandView = z.object({
  id: z.number(),
  batch: z.number().describe('the request it was sent in'),
  device: z.string(),
  kind: z.string(),
  district: z.string(),
  type: z.enum(COMMAND_TYPES),
  params: z.record(z.string(), z.unknown()),
  state: z.enum(COMMAND_STATES),
  by: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  updatedAt: z.string(),
  attempts: z.number().describe('times published to the device'),
  detail: z.string().nullable().describe("a refusal's reason, or what the device's reading showed"),
  check: z
    .enum(['pending', 'matched', 'mismatched', 'unverified'])
    .nullable()
    .describe(
      'for set_dim and switch on/off: whether a reading showed the result (unverified: none could, as a lamp off by day)',
    ),
});
const EventView = z.object({ at: z.string(), state: z.string(), detail: z.string().nullable() });

const view = (c: CommandRecord): z.infer<typeof CommandView> => ({
  ...c,
  params: { ...c.params },
  createdAt: iso(c.createdAt),
  expiresAt: iso(c.expiresAt),
  updatedAt: iso(c.updatedAt),
});
const eventView = (e: CommandEvent) => ({ ...e, at: iso(e.at) });

const ListQuery = z.object({
  device: z.string().min(1).max(256).optional(),
  batch: z.coerce.number().int().positive().optional(),
  state: z.enum(COMMAND_STATES).optional(),
  before: z.coerce.number().int().positive().optional().describe('ids below this one: the next page'),
  limit: wholeNumber(1, 1000).default(100).describe('newest first'),
});
const IdParam = z.object({ id: z.coerce.number().int().positive().describe('command id') });

export function commandsRoutes(deps: { auth: Auth; commands: ApiCommands }): FastifyPluginAsyncZod {
  const { auth, commands } = deps;
  const tags = ['commands'];
  return (app) => {
    app.post('/commands', {
      onRequest: auth.requireRole('operator'),
      schema: {
        tags,
        summary:
          'Send a command to a device, a list, a street (`street`), a district or a tag: stored, then published to each device listening, and sent to the others when they come back (until `expires_in`)',
        security: BEARER,
        body: CommandRequest,
        response: {
          202: z.object({ batch: z.number(), commands: z.array(CommandView) }),
          ...errorResponses(...AUTH_ERRORS, 'API_ERR_COMMAND'),
        },
      },
      handler: async (request, reply) => {
        // A refusal (CommandError) is API_ERR_COMMAND, with its code and fields (errors.ts).
        const sent = await commands.send(request.body, callerOf(auth, request));
        reply.code(202);
        return { batch: sent.batch, commands: sent.commands.map(view) };
      },
    });

    app.get('/commands', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'Commands, newest first, by device, request (batch) or state',
        security: BEARER,
        querystring: ListQuery,
        response: { 200: z.object({ commands: z.array(CommandView) }), ...errorResponses(...AUTH_ERRORS) },
      },
      handler: async (request) => {
        const { device, batch, state, before, limit } = request.query;
        const filter = {
          limit,
          ...(device === undefined ? {} : { device }),
          ...(batch === undefined ? {} : { batch }),
          ...(state === undefined ? {} : { state }),
          ...(before === undefined ? {} : { before }),
        };
        return { commands: (await commands.list(filter)).map(view) };
      },
    });

    app.get('/commands/:id', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'One command with its history: each state it reached, when, and what the device said',
        security: BEARER,
        params: IdParam,
        response: {
          200: z.object({ command: CommandView, events: z.array(EventView) }),
          ...errorResponses(...AUTH_ERRORS, 'API_ERR_NOT_FOUND'),
        },
      },
      handler: async (request) => {
        const found = await commands.get(request.params.id);
        if (found === undefined) throw new ApiError('API_ERR_NOT_FOUND', `no command ${request.params.id}`);
        return { command: view(found.command), events: found.events.map(eventView) };
      },
    });

    return Promise.resolve();
  };
}

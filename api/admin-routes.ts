// /api/dead-letters (what ingest refused, what the broker refused — connections, publishes, subscriptions —
// flows' alert requests the platform could not carry out, and devices' answers to commands it could not
// take, for engineers) and /api/tokens (API tokens,
// for admins).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BROKER_ERRORS, type BrokerErrorCode } from '../broker/index.ts';
import { COMMAND_ERRORS } from '../commands/index.ts';
import { ApiRole } from '../devices/index.ts';
import { INGEST_ERRORS, type DeadLetter, type IngestErrorCode } from '../ingest/index.ts';
import { RULES_ERRORS } from '../rules/index.ts';
import { AUTH_ERRORS, BEARER, errorResponses, wholeNumber, type RouteDeps } from './route-kit.ts';
import { FLOW_ERROR_CODES } from '../flows/index.ts';

/** Characters of the UTF-8 preview of a payload: enough to recognise it, small enough for a list. */
export const PREVIEW_CHARS = 200;
/** Dead letters per answer unless `limit` says otherwise; the store's own ceiling is 1 000. */
export const DEFAULT_DEAD_LETTER_LIMIT = 100;

const INGEST_CODES = Object.keys(INGEST_ERRORS) as [IngestErrorCode, ...IngestErrorCode[]];
const BROKER_CODES = Object.keys(BROKER_ERRORS) as BrokerErrorCode[];
/** A device's answer to a command that the platform could not take. */
const ACK_CODES = ['COMMAND_ERR_ACK', 'COMMAND_ERR_ACK_UNKNOWN'] as const;
/** Every code a dead letter can carry, each with what it means. */
const DEAD_LETTER_CODES: Readonly<Record<string, string>> = {
  ...INGEST_ERRORS,
  ...BROKER_ERRORS,
  ...Object.fromEntries(FLOW_ERROR_CODES.map((c) => [c, RULES_ERRORS[c]])),
  ...Object.fromEntries(ACK_CODES.map((c) => [c, COMMAND_ERRORS[c]])),
};

const DeadLetterQuery = z.object({
  code: z.enum([...INGEST_CODES, ...BROKER_CODES, ...FLOW_ERROR_CODES, ...ACK_CODES]).optional(),
  source: z.string().min(1).max(256).optional().describe('the MQTT username that sent it'),
  limit: wholeNumber(1, 1000).default(DEFAULT_DEAD_LETTER_LIMIT),
  before: wholeNumber(1).optional().describe('only ids below this one (paging back)'),
});

const DeadLetterOut = z.object({
  id: z.number().int(),
  node: z.string().optional().describe('in a cluster, the node that refused the message'),
  at: z.iso.datetime(),
  source: z.string(),
  topic: z.string(),
  code: z.string(),
  description: z
    .string()
    .describe(
      'what the code means (ingest/errors.ts; rules/errors.ts for RULES_ERR_FLOW_*; commands/errors.ts for COMMAND_ERR_ACK*)',
    ),
  detail: z.string(),
  payloadBase64: z.string().describe('the payload as stored (at most the first 16 KiB by default)'),
  payloadPreview: z
    .string()
    .describe(`the first ${PREVIEW_CHARS} characters read as UTF-8 (U+FFFD where invalid)`),
  payloadBytes: z.number().int().describe('size of the payload as received'),
  truncated: z.boolean().describe('only the first part of the payload was kept'),
});

const DeadLetterList = z.object({
  total: z.number().int().describe('dead letters stored, whatever the filter'),
  deadLetters: z.array(DeadLetterOut),
  nextBefore: z.number().int().optional().describe('pass as `before` for the next (older) page'),
});

const TokenInput = z.strictObject({ role: ApiRole, label: z.string().trim().min(1).max(100) });
const TokenCreated = z.object({
  token: z.string().describe('the bearer token; only its hash is stored, so it is shown only here'),
  role: ApiRole,
  label: z.string(),
});

function describe(code: string): string {
  return Object.hasOwn(DEAD_LETTER_CODES, code) ? (DEAD_LETTER_CODES[code] ?? '') : '';
}

export function toDeadLetterOut(letter: DeadLetter): z.infer<typeof DeadLetterOut> {
  return {
    id: letter.id,
    ...(letter.node === undefined ? {} : { node: letter.node }),
    at: new Date(letter.at).toISOString(),
    source: letter.source,
    topic: letter.topic,
    code: letter.code,
    description: describe(letter.code),
    detail: letter.detail,
    payloadBase64: letter.payload.toString('base64'),
    payloadPreview: [...letter.payload.toString('utf8')].slice(0, PREVIEW_CHARS).join(''),
    payloadBytes: letter.payloadBytes,
    truncated: letter.truncated,
  };
}

export function adminRoutes(deps: RouteDeps): FastifyPluginAsyncZod {
  const { auth, deadLetters, registry } = deps;

  return (app) => {
    app.get('/dead-letters', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags: ['dead letters'],
        summary:
          "Messages ingest refused, connections, publishes and subscriptions the broker refused (BROKER_ERR_*), and flows' alert requests the platform could not carry out, newest first, with their reason code and raw payload",
        security: BEARER,
        querystring: DeadLetterQuery,
        response: { 200: DeadLetterList, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: async (request) => {
        const { code, source, limit, before } = request.query;
        const letters = await deadLetters.list({ code, source, limit, before });
        const last = letters.at(-1);
        return {
          total: await deadLetters.count(),
          deadLetters: letters.map(toDeadLetterOut),
          ...(last !== undefined && letters.length === limit ? { nextBefore: last.id } : {}),
        };
      },
    });

    app.post('/tokens', {
      onRequest: auth.requireRole('admin'),
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token; it is in this answer only',
        security: BEARER,
        body: TokenInput,
        response: { 201: TokenCreated, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: async (request, reply) => {
        const { role, label } = request.body;
        const token = await registry.createApiToken(role, label);
        request.log.info({ role, label }, 'API token created');
        reply.code(201);
        return { token, role, label };
      },
    });

    return Promise.resolve();
  };
}

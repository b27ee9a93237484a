// POST /api/devices/bulk: a district's devices onboarded in one request, from a CSV file (text/csv) or a
// JSON list. The whole list is checked first (devices/bulk.ts): one bad row refuses all of it, with every
// problem listed by row, CSV line and field; otherwise every new device is created in one transaction and
// its secret is in this answer only (as CSV when asked with `Accept: text/csv`, to hand to the installer).
// Devices already there with the same content are left alone, so sending the same file again is safe.
import { stringify } from 'csv-stringify/sync';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  BulkProblemSchema,
  describeProblem,
  MAX_BULK_DEVICES,
  planBulk,
  rowsFromCsv,
  rowsFromList,
} from '../devices/index.ts';
import { ApiError } from './errors.ts';
import { AUTH_ERRORS, BEARER, errorResponses, type RouteDeps } from './route-kit.ts';

/** Room for the largest list: 20,000 devices of a few hundred bytes each as JSON. */
const BULK_BODY_LIMIT = 32 * 1024 * 1024;

const BulkJson = z.strictObject({
  devices: z
    .array(z.unknown())
    .min(1)
    .max(MAX_BULK_DEVICES)
    .describe('devices as POST /api/devices takes them; each is checked with its row number'),
});
const BulkQuery = z.object({
  dry_run: z
    .enum(['true', 'false'])
    .default('false')
    .describe('true: check the list and say what would be created, create nothing'),
});
const Outcome = z.object({
  id: z.string(),
  status: z.enum(['created', 'unchanged', 'would be created']),
  secret: z.string().optional().describe("a created device's MQTT password; shown only in this answer"),
});
const BulkResult = z.object({
  created: z.number().int(),
  unchanged: z.number().int(),
  dryRun: z.boolean(),
  devices: z.array(Outcome),
});

/** The answer with `Accept: text/csv`: one row per device, the secret column filled for those created. */
const AsCsv = z.string().describe('with Accept: text/csv, the same as CSV: id,status,secret');

export function onboardingRoutes(deps: RouteDeps): FastifyPluginAsyncZod {
  const { auth, registry } = deps;
  return (app) => {
    app.addContentTypeParser(
      'text/csv',
      { parseAs: 'string', bodyLimit: BULK_BODY_LIMIT },
      (_req, body, done) => done(null, body),
    );

    app.post('/devices/bulk', {
      onRequest: auth.requireRole('engineer'),
      bodyLimit: BULK_BODY_LIMIT,
      schema: {
        tags: ['devices'],
        summary:
          'Onboard many devices at once from CSV (text/csv) or JSON ({ devices: [...] }): all or none, every bad row reported; secrets once, as CSV with Accept: text/csv',
        security: BEARER,
        querystring: BulkQuery,
        body: z.union([
          BulkJson,
          z.string().describe('CSV: id,kind,name,district,lat,lon[,gateway][,tags][,meta.<key>…]'),
        ]),
        response: {
          200: z
            .union([BulkResult, AsCsv])
            .describe('nothing created: a dry run, or every device already there as listed'),
          201: z.union([BulkResult, AsCsv]),
          ...errorResponses(...AUTH_ERRORS, 'API_ERR_VALIDATION'),
        },
      },
      handler: async (request, reply) => {
        const dryRun = request.query.dry_run === 'true';
        const read =
          typeof request.body === 'string'
            ? rowsFromCsv(request.body)
            : { rows: rowsFromList(request.body.devices), problems: [] };
        const plan = planBulk(read.rows, registry);
        const problems = [...read.problems, ...plan.problems].sort((a, b) => a.row - b.row);
        if (problems.length > 0) {
          const shown = problems.slice(0, 5).map(describeProblem).join('; ');
          throw new ApiError(
            'API_ERR_VALIDATION',
            `${problems.length} problem(s) in the list, nothing was created: ${shown}${problems.length > 5 ? '; …' : ''}`,
            { details: { problems: z.array(BulkProblemSchema).parse(problems) } },
          );
        }
        const created = dryRun ? [] : await registry.provisionDevices(plan.create);
        const devices = [
          ...(dryRun
            ? plan.create.map((d) => ({ id: d.id, status: 'would be created' as const }))
            : created.map(({ device, secret }) => ({ id: device.id, status: 'created' as const, secret }))),
          ...plan.unchanged.map((d) => ({ id: d.id, status: 'unchanged' as const })),
        ];
        request.log.info(
          { created: created.length, unchanged: plan.unchanged.length, dryRun },
          'devices onboarded in bulk',
        );
        reply.code(created.length > 0 ? 201 : 200);
        if (request.headers.accept?.includes('text/csv') === true)
          return reply.type('text/csv; charset=utf-8').send(
            stringify(
              devices.map((d) => [d.id, d.status, 'secret' in d ? d.secret : '']),
              { header: true, columns: ['id', 'status', 'secret'] },
            ),
          );
        return { created: created.length, unchanged: plan.unchanged.length, dryRun, devices };
      },
    });

    return Promise.resolve();
  };
}

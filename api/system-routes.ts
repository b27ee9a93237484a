// Public routes for the machines that watch the platform: /health for load balancers and orchestrators,
// /metrics for Prometheus. Neither needs a token: neither shows a reading or a secret.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from './route-kit.ts';

/**
 * What the composition root reports: `ok` decides 200 or 503; the rest (InfluxDB reachability, spool depth,
 * broker clients, ...) is shown as it is, errors reduced to their code and message.
 */
export interface HealthReport {
  readonly ok: boolean;
  readonly [part: string]: unknown;
}

const HealthBody = z.looseObject({ ok: z.boolean() }).describe('`ok` and one entry per component');

/** Prometheus text exposition format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats). */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A value made safe for JSON: an Error becomes `{ name, code?, message }` (its own fields are not enumerable). */
export function plainJson(value: unknown, depth = 0): unknown {
  if (depth > 8) return '…';
  if (value instanceof Error) {
    const code = 'code' in value && typeof value.code === 'string' ? { code: value.code } : {};
    return { name: value.name, ...code, message: value.message };
  }
  if (Array.isArray(value)) return value.map((v) => plainJson(v, depth + 1));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainJson(v, depth + 1)]));
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export interface SystemDeps {
  readonly health: () => Promise<HealthReport>;
  readonly metricsText: () => Promise<string>;
}

export function systemRoutes(deps: SystemDeps): FastifyPluginAsyncZod {
  return (app) => {
    app.get('/health', {
      schema: {
        tags: ['system'],
        summary: 'Health of the platform: 200 when every part is working, 503 otherwise',
        response: { 200: HealthBody, 503: HealthBody, ...errorResponses() },
      },
      handler: async (request, reply) => {
        let report: HealthReport;
        try {
          report = await deps.health();
        } catch (err) {
          request.log.error({ err }, 'health check failed');
          report = { ok: false, error: err };
        }
        const parts = Object.fromEntries(Object.entries(report).map(([k, v]) => [k, plainJson(v)]));
        const body = { ...parts, ok: report.ok === true };
        return reply.code(body.ok ? 200 : 503).send(body);
      },
    });

    app.get('/metrics', {
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics (text exposition format 0.0.4)',
        produces: ['text/plain'],
        response: { 200: z.string().describe('text/plain; version=0.0.4'), ...errorResponses() },
      },
      handler: async (_request, reply) => {
        const text = await deps.metricsText();
        return reply.type(METRICS_CONTENT_TYPE).send(text);
      },
    });

    return Promise.resolve();
  };
}

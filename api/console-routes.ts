// The operations console's files (console/, built into console/dist by `npm run build:console`), served
// under /console/ with the headers that keep a page of user-controlled text safe: a Content-Security-Policy
// allowing only the platform's own scripts, styles and API (no inline script, no other origin), no
// framing, no sniffing, no referrer. `/` leads to it. When it is not built, /console/ says how to build it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Auth } from './auth.ts';
import { AUTH_ERRORS, BEARER, errorResponses } from './route-kit.ts';

export const CONSOLE_PREFIX = '/console/';

/** The console's Content-Security-Policy; the base map's tiles come from `tileOrigin`. */
export const consoleCsp = (tileOrigin: string) =>
  [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: ${tileOrigin}`,
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');

/** What the console needs to know of the platform's configuration (GET /api/console/settings). */
export interface ConsoleSettings {
  readonly map: { readonly tiles: string; readonly attribution: string };
  readonly timeZone: string;
}

/** The origin a tile template fetches from, as CSP writes it: `{s}.` subdomains are `*.`. */
export function tileOrigin(template: string): string {
  const origin = /^https?:\/\/[^/]+/.exec(template)?.[0] ?? "'none'";
  return origin.replace('{s}', '*');
}

/** GET /api/console/settings: what the console needs of the configuration (any signed-in user). */
export function consoleSettingsRoutes(auth: Auth, settings: ConsoleSettings): FastifyPluginAsyncZod {
  return (app) => {
    app.get('/console/settings', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags: ['users'],
        summary: "The console's settings: its map's base map, the city's time zone",
        security: BEARER,
        response: {
          200: z.object({
            map: z.object({ tiles: z.string(), attribution: z.string() }),
            timeZone: z.string(),
          }),
          ...errorResponses(...AUTH_ERRORS),
        },
      },
      handler: () => Promise.resolve(settings),
    });
    return Promise.resolve();
  };
}

function secure(reply: FastifyReply, csp: string): void {
  reply.header('content-security-policy', csp);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
}

export const consoleRoutes =
  (dir: string, settings: ConsoleSettings): FastifyPluginAsync =>
  async (app) => {
    const csp = consoleCsp(tileOrigin(settings.map.tiles));
    app.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect(CONSOLE_PREFIX));
    if (!existsSync(path.join(dir, 'index.html'))) {
      app.get(`${CONSOLE_PREFIX}*`, { schema: { hide: true } }, (_request, reply) =>
        reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send(
            'The operations console is not built: run `npm run build:console` and start the platform again.\n',
          ),
      );
      return;
    }
    await app.register(async (scope) => {
      scope.addHook('onSend', (_request, reply, payload, done) => {
        secure(reply, csp);
        done(null, payload);
      });
      await scope.register(fastifyStatic, { root: dir, prefix: CONSOLE_PREFIX, index: 'index.html' });
    });
  };

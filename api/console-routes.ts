// The operations console's files (console/, built into console/dist by `npm run build:console`), served
// under /console/ with the headers that keep a page of user-controlled text safe: a Content-Security-Policy
// allowing only the platform's own scripts, styles and API (no inline script, no other origin), no
// framing, no sniffing, no referrer. `/` leads to it. When it is not built, /console/ says how to build it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

export const CONSOLE_PREFIX = '/console/';

/** The console's Content-Security-Policy (the map's tiles, when it comes, will add their origin to img-src). */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secure(reply: FastifyReply): void {
  reply.header('content-security-policy', CONSOLE_CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
}

export const consoleRoutes =
  (dir: string): FastifyPluginAsync =>
  async (app) => {
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
        secure(reply);
        done(null, payload);
      });
      await scope.register(fastifyStatic, { root: dir, prefix: CONSOLE_PREFIX, index: 'index.html' });
    });
  };

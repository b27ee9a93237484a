// The HTTP API: Fastify 5 with zod schemas (fastify-type-provider-zod), the OpenAPI document generated from
// those schemas at /docs, bearer-token auth under /api, and one error shape for every failure.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { adminRoutes } from './admin-routes.ts';
import { ALERT_STREAM_PATH, alertsRoutes } from './alerts-routes.ts';
import { createAuth, SESSION_COOKIE } from './auth.ts';
import { consoleRoutes, consoleSettingsRoutes, type ConsoleSettings } from './console-routes.ts';
import { sessionRoutes, type SessionOptions } from './session-routes.ts';
import { agenciesRoutes } from './agencies-routes.ts';
import { deliveriesRoutes, type ApiDeliveries } from './deliveries-routes.ts';
import { deviceStatusRoutes } from './device-status-routes.ts';
import { routingRoutes, type ApiRouting } from './routing-routes.ts';
import { silencesRoutes, type ApiSilences } from './silences-routes.ts';
import { accountsRoutes } from './accounts-routes.ts';
import { commandsRoutes, type ApiCommands } from './commands-routes.ts';
import { devicesRoutes } from './devices-routes.ts';
import { onboardingRoutes } from './onboarding-routes.ts';
import { ApiError, clientErrorResponse, toApiError } from './errors.ts';
import { readingsRoutes } from './readings-routes.ts';
import {
  adoptQueryToken,
  type ApiAlerts,
  type ApiDeadLetters,
  type ApiInflux,
  type ApiRegistry,
  type ApiRules,
  type RouteDeps,
} from './route-kit.ts';
import { rulesRoutes } from './rules-routes.ts';
import { systemRoutes, type HealthReport } from './system-routes.ts';
import { installValidationMessages } from './validation-messages.ts';

export interface ApiConfig {
  /** Interface to bind; `127.0.0.1` in tests, `0.0.0.0` behind a proxy. */
  readonly host: string;
  /** TCP port; 0 picks a free one (read it from listen()). */
  readonly port: number;
  /** Made a known admin token at start (CITY_ADMIN_TOKEN): the first admin's way in. */
  readonly adminToken?: string | undefined;
}

export interface ApiDeps {
  readonly log: Logger;
  readonly registry: ApiRegistry;
  readonly influx: ApiInflux;
  readonly deadLetters: ApiDeadLetters;
  readonly health: () => Promise<HealthReport>;
  readonly metricsText: () => Promise<string>;
  /** Called after a device is decommissioned, so the broker can close its connection. */
  readonly onDecommission?: (id: string) => void;
  /** Closes the MQTT connections signed in as a device, gateway or service account whose secret or rights changed. */
  readonly disconnect?: (id: string) => void;
  /** Milliseconds since the epoch, for the default time ranges; `Date.now` unless a test sets it. */
  readonly clock?: () => number;
  /** The built operations console (console/dist) and its settings; without them, no console is served. */
  readonly console?: { readonly dir: string; readonly settings: ConsoleSettings };
  /** Console sessions: how long they last, and whether their cookie is Secure (12 h, not Secure). */
  readonly sessions?: SessionOptions;
  /** The alert service; without it the /api/alerts routes are not served. */
  readonly alerts?: ApiAlerts;
  /** The rules in force, the rule file check and the backtest; without it /api/rules is not served. */
  readonly rules?: ApiRules;
  /** Called after an agency is created, replaced or removed, so the rules are read again. */
  readonly onAgenciesChanged?: () => void;
  /** The routing in force; without it /api/routing is not served. */
  readonly routing?: ApiRouting;
  /** The notifications' deliveries; without them /api/deliveries is not served. */
  readonly deliveries?: ApiDeliveries;
  /** The silences of notifications; without them /api/silences is not served. */
  readonly silences?: ApiSilences;
  /** Commands to devices; without them /api/commands is not served. */
  readonly commands?: ApiCommands;
}

/** The Fastify instance, for `inject()` in tests and for the composition root to add to. */
export type ApiApp = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger, ZodTypeProvider>;

export interface Api {
  readonly app: ApiApp;
  /** Starts listening on config.host:config.port; resolves with the bound port. */
  listen(): Promise<{ port: number }>;
  /** Stops accepting, waits for requests in flight; safe to call twice. */
  close(): Promise<void>;
}

/** Request bodies are small JSON documents (a device is under 2 KiB): 64 KiB is ample and bounds memory. */
const BODY_LIMIT = 64 * 1024;

const OPENAPI_INFO = {
  title: 'City telemetry API',
  description:
    'Devices, agencies, readings, alerts, rules and dead letters of the city telemetry platform. Send ' +
    '`Authorization: Bearer <token>` to everything under /api (the alert stream also takes ' +
    '`?access_token=`, for EventSource); roles are viewer < operator < engineer < admin. Every error is ' +
    '`{ error: { code, message, details? } }`.',
  version: '0.1.0',
};

export async function createApi(config: ApiConfig, deps: ApiDeps): Promise<Api> {
  installValidationMessages();
  if (config.adminToken !== undefined)
    await deps.registry.ensureApiToken(config.adminToken, 'admin', 'CITY_ADMIN_TOKEN');

  const app = fastify({
    loggerInstance: deps.log,
    bodyLimit: BODY_LIMIT,
    // What Fastify and Node's HTTP parser refuse before a route runs gets the documented body too.
    frameworkErrors: (err, _request, reply) => {
      const apiError = toApiError(err);
      void (reply as FastifyReply).code(apiError.status).send(apiError.body());
    },
    clientErrorHandler: (err, socket) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(clientErrorResponse(err));
      socket.destroy(err);
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err, request, reply) => {
    const apiError = toApiError(err);
    if (apiError.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: apiError.code, msg: apiError.message }, 'request refused');
    return reply.code(apiError.status).send(apiError.body());
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(new ApiError('API_ERR_NOT_FOUND', `no route ${request.method} ${request.url}`).body()),
  );

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: OPENAPI_INFO,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  if (deps.console !== undefined) await app.register(consoleRoutes(deps.console.dir, deps.console.settings));

  const clock = deps.clock ?? Date.now;
  // A token or session this node does not know may have been made through another node of a cluster
  // a moment ago: the registry reads them again before the request is refused.
  const { registry } = deps;
  const auth = createAuth(
    async (token) => {
      const known = registry.verifyApiToken(token);
      if (known !== undefined) return known;
      await registry.catchUp(['api_tokens']);
      return registry.verifyApiToken(token);
    },
    async (token) => {
      let session = registry.users.session(token, clock());
      if (session === undefined) {
        await registry.catchUp(['users', 'sessions']);
        session = registry.users.session(token, clock());
      }
      if (session === undefined) return undefined;
      const { username, name, role } = session.user;
      return { role, label: name, username };
    },
  );
  const sessions = sessionRoutes({
    auth,
    users: deps.registry.users,
    clock,
    ...(deps.sessions ?? { ttlMs: 12 * 3_600_000, secureCookie: false }),
  });
  const routeDeps: RouteDeps = {
    auth,
    registry: deps.registry,
    influx: deps.influx,
    deadLetters: deps.deadLetters,
    clock,
    onDecommission: deps.onDecommission,
    disconnect: deps.disconnect,
  };

  await app.register(systemRoutes({ health: deps.health, metricsText: deps.metricsText }));
  // Routes (with the /api prefix) that may take the token from the query string: see adoptQueryToken.
  const queryTokenRoutes = new Set([`/api${ALERT_STREAM_PATH}`]);
  // Signing in is how one gets a session: outside the authenticated scope.
  await app.register(sessions.signIn, { prefix: '/api' });
  await app.register(
    async (api) => {
      api.addHook('onRequest', async function authenticate(request, reply) {
        if (queryTokenRoutes.has(request.routeOptions.url ?? '')) adoptQueryToken(request);
        await auth.authenticate.call(this, request, reply);
      });
      await api.register(sessions.signedIn);
      if (deps.console !== undefined) await api.register(consoleSettingsRoutes(auth, deps.console.settings));
      await api.register(devicesRoutes(routeDeps));
      await api.register(accountsRoutes(routeDeps));
      await api.register(onboardingRoutes(routeDeps));
      await api.register(readingsRoutes(routeDeps));
      await api.register(adminRoutes(routeDeps));
      await api.register(
        agenciesRoutes({
          auth,
          registry: deps.registry,
          rules: deps.rules,
          onAgenciesChanged: deps.onAgenciesChanged,
          routing: deps.routing,
        }),
      );
      if (deps.alerts !== undefined) {
        await api.register(alertsRoutes({ auth, alerts: deps.alerts, clock: routeDeps.clock }));
        const { registry, alerts, rules } = deps;
        await api.register(deviceStatusRoutes({ auth, registry, alerts, rules }));
      }
      if (deps.rules !== undefined)
        await api.register(rulesRoutes({ auth, rules: deps.rules, clock: routeDeps.clock }));
      if (deps.deliveries !== undefined)
        await api.register(deliveriesRoutes({ auth, deliveries: deps.deliveries }));
      if (deps.silences !== undefined) {
        const { registry, alerts, silences } = deps;
        await api.register(silencesRoutes({ auth, silences, alerts, registry, clock: routeDeps.clock }));
      }
      if (deps.commands !== undefined) await api.register(commandsRoutes({ auth, commands: deps.commands }));
      if (deps.routing !== undefined) {
        const { registry, alerts, routing } = deps;
        await api.register(routingRoutes({ auth, routing, registry, alerts, clock: routeDeps.clock }));
      }
    },
    { prefix: '/api' },
  );
  await app.ready();

  let closing: Promise<void> | undefined;
  return {
    app,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      if (address === null || typeof address === 'string')
        throw new Error('the API is not bound to a TCP port');
      return { port: address.port };
    },
    close: () => (closing ??= app.close()),
  };
}

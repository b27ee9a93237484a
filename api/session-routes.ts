// /api/session: people sign in to the console with a user name and password and get a session cookie
// (HttpOnly, SameSite=Strict, Secure behind https, ending after CITY_SESSION_HOURS); GET says who is signed
// in, DELETE signs out. /api/users: an admin manages the users. Failed sign-ins are counted per user name
// and per address: past a few in a quarter of an hour, that name or address waits, whatever the password.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { UserInput, UserPatch, UserRecord, type Users } from '../devices/index.ts';
import { cookieValue, SESSION_COOKIE, type Auth } from './auth.ts';
import { ApiError } from './errors.ts';
import { AUTH_ERRORS, BEARER, errorResponses } from './route-kit.ts';

export interface SessionOptions {
  /** How long a session lasts, ms. */
  readonly ttlMs: number;
  /** Mark the cookie Secure (the platform is reached over https). */
  readonly secureCookie: boolean;
}

export interface SessionRouteDeps extends SessionOptions {
  readonly auth: Auth;
  readonly users: Users;
  readonly clock: () => number;
}

/** Failed sign-ins allowed per user name, and per address, within the window. */
export const SIGN_IN_LIMITS = { perUser: 5, perAddress: 20, windowMs: 15 * 60_000 } as const;

const SignIn = z.strictObject({ username: z.string().min(1).max(100), password: z.string().min(1).max(200) });
const SessionView = z.object({
  user: UserRecord,
  expiresAt: z.string().nullable().describe('when the session ends; null for a bearer token'),
});
const UsernameParam = z.object({ username: z.string().min(1).max(100) });

/** Failures per key within a sliding window; a key past its limit waits until its oldest failure ages. */
function failureCounter(limit: number, windowMs: number) {
  const failures = new Map<string, number[]>();
  const recent = (key: string, now: number) => (failures.get(key) ?? []).filter((t) => t > now - windowMs);
  return {
    /** Seconds to wait, or 0 when the key may try. */
    waitS(key: string, now: number): number {
      const times = recent(key, now);
      if (times.length === 0) failures.delete(key);
      else failures.set(key, times);
      return times.length < limit ? 0 : Math.ceil((times[0]! + windowMs - now) / 1000);
    },
    fail(key: string, now: number): void {
      failures.set(key, [...recent(key, now), now]);
    },
    clear: (key: string) => void failures.delete(key),
  };
}

function sessionCookie(value: string, maxAgeS: number, secure: boolean): string {
  const attributes = [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeS}`,
  ];
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}

export function sessionRoutes(deps: SessionRouteDeps): {
  /** POST /session: outside the authenticated scope (it is how one gets in). */
  signIn: FastifyPluginAsyncZod;
  /** GET and DELETE /session, and /users: inside it. */
  signedIn: FastifyPluginAsyncZod;
} {
  const { auth, users, clock } = deps;
  const tags = ['users'];
  const byUser = failureCounter(SIGN_IN_LIMITS.perUser, SIGN_IN_LIMITS.windowMs);
  const byAddress = failureCounter(SIGN_IN_LIMITS.perAddress, SIGN_IN_LIMITS.windowMs);

  const signIn: FastifyPluginAsyncZod = (app) => {
    app.post('/session', {
      schema: {
        tags,
        summary: 'Sign in: a session cookie (HttpOnly, SameSite=Strict) for the console',
        body: SignIn,
        response: {
          200: SessionView,
          ...errorResponses('API_ERR_SIGN_IN', 'API_ERR_SIGN_IN_LOCKED'),
        },
      },
      handler: async (request, reply) => {
        const { username, password } = request.body;
        const now = clock();
        const wait = Math.max(byUser.waitS(username, now), byAddress.waitS(request.ip, now));
        if (wait > 0) {
          reply.header('retry-after', String(wait));
          throw new ApiError('API_ERR_SIGN_IN_LOCKED', `too many failed sign-ins: try again in ${wait} s`, {
            details: { retryAfterS: wait },
          });
        }
        const user = await users.verify(username, password);
        if (user === undefined) {
          byUser.fail(username, now);
          byAddress.fail(request.ip, now);
          request.log.info({ username }, 'sign-in refused');
          throw new ApiError('API_ERR_SIGN_IN', 'the user name or the password is wrong');
        }
        byUser.clear(username);
        const session = await users.openSession(user.username, clock(), deps.ttlMs);
        reply.header(
          'set-cookie',
          sessionCookie(session.token, Math.floor(deps.ttlMs / 1000), deps.secureCookie),
        );
        request.log.info({ username: user.username }, 'signed in');
        return { user, expiresAt: new Date(session.expiresAt).toISOString() };
      },
    });
    return Promise.resolve();
  };

  const existing = (username: string) => {
    const user = users.get(username);
    if (user === undefined)
      throw new ApiError('API_ERR_USER_NOT_FOUND', `no user ${JSON.stringify(username)}`);
    return user;
  };
  const signOut = async (request: FastifyRequest, reply: FastifyReply) => {
    const token = cookieValue(request.headers.cookie, SESSION_COOKIE);
    if (token !== undefined) await users.endSession(token);
    reply.header('set-cookie', sessionCookie('', 0, deps.secureCookie));
  };

  const signedIn: FastifyPluginAsyncZod = (app) => {
    app.get('/session', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'Who is signed in (the console asks at start); for a bearer token, its label and role',
        security: BEARER,
        response: { 200: SessionView, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: (request) => {
        const caller = auth.principalOf(request)!;
        const session =
          caller.username === undefined
            ? undefined
            : users.session(cookieValue(request.headers.cookie, SESSION_COOKIE) ?? '', clock());
        if (session !== undefined)
          return Promise.resolve({
            user: session.user,
            expiresAt: new Date(session.expiresAt).toISOString(),
          });
        const at = new Date(clock()).toISOString();
        const user = {
          username: caller.label,
          name: caller.label,
          role: caller.role,
          language: 'vi' as const,
        };
        return Promise.resolve({
          user: { ...user, disabled: false, created_at: at, updated_at: at },
          expiresAt: null,
        });
      },
    });

    app.delete('/session', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'Sign out: the session ends and its cookie is cleared',
        security: BEARER,
        response: { 204: z.null(), ...errorResponses(...AUTH_ERRORS) },
      },
      handler: async (request, reply) => {
        await signOut(request, reply);
        reply.code(204);
        return null;
      },
    });

    app.get('/users', {
      onRequest: auth.requireRole('admin'),
      schema: {
        tags,
        summary: 'Users who may sign in to the console',
        security: BEARER,
        response: { 200: z.object({ users: z.array(UserRecord) }), ...errorResponses(...AUTH_ERRORS) },
      },
      handler: () => Promise.resolve({ users: users.list() }),
    });

    app.post('/users', {
      onRequest: auth.requireRole('admin'),
      schema: {
        tags,
        summary: 'Create a user with a role and a password (at least 12 characters)',
        security: BEARER,
        body: UserInput,
        response: { 201: UserRecord, ...errorResponses(...AUTH_ERRORS, 'API_ERR_CONFLICT') },
      },
      handler: async (request, reply) => {
        const user = await users.create(request.body);
        request.log.info({ username: user.username, role: user.role }, 'user created');
        reply.code(201);
        return user;
      },
    });

    app.patch('/users/:username', {
      onRequest: auth.requireRole('admin'),
      schema: {
        tags,
        summary: "Change a user's name, role, language or password, or disable them (their sessions end)",
        security: BEARER,
        params: UsernameParam,
        body: UserPatch,
        response: { 200: UserRecord, ...errorResponses(...AUTH_ERRORS, 'API_ERR_USER_NOT_FOUND') },
      },
      handler: async (request) => {
        const { username } = existing(request.params.username);
        const user = await users.update(username, request.body);
        request.log.info({ username, change: Object.keys(request.body) }, 'user changed');
        return user;
      },
    });

    app.delete('/users/:username', {
      onRequest: auth.requireRole('admin'),
      schema: {
        tags,
        summary: 'Remove a user; their sessions end at once',
        security: BEARER,
        params: UsernameParam,
        response: { 204: z.null(), ...errorResponses(...AUTH_ERRORS, 'API_ERR_USER_NOT_FOUND') },
      },
      handler: async (request, reply) => {
        const { username } = existing(request.params.username);
        await users.remove(username);
        request.log.info({ username }, 'user removed');
        reply.code(204);
        return null;
      },
    });

    return Promise.resolve();
  };

  return { signIn, signedIn };
}

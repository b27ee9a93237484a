// Authentication and role checks. Machines send a bearer token; people signed in to the console send the
// session cookie (`city_session`, HttpOnly, SameSite=Strict). Both are verified by the registry, which
// stores only their hashes; the caller found is kept per request in a WeakMap, so nothing is added to
// Fastify's types. A request made with the cookie that changes something must come from the platform's
// own pages: a browser's Origin naming another site is refused, on top of what SameSite already stops.
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { ApiRole } from '../devices/index.ts';
import { ApiError } from './errors.ts';

/** Roles in ascending order of power (docs/architecture.md, "HTTP API"): each may do what those below may. */
export const ROLE_ORDER: readonly ApiRole[] = ['viewer', 'operator', 'engineer', 'admin'];

export function hasRole(held: ApiRole, required: ApiRole): boolean {
  return ROLE_ORDER.indexOf(held) >= ROLE_ORDER.indexOf(required);
}

export interface ApiCaller {
  readonly role: ApiRole;
  readonly label: string;
  /** Set when the caller signed in with a session cookie: the user's name. */
  readonly username?: string;
}

/** The cookie a signed-in browser carries. */
export const SESSION_COOKIE = 'city_session';

/** The value of one cookie of a `Cookie` header (RFC 6265 §5.4), undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type VerifyToken = (token: string) => ApiCaller | undefined | Promise<ApiCaller | undefined>;

/**
 * RFC 6750 §2.1: `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1). Any
 * visible characters are taken, not only token68: CITY_ADMIN_TOKEN is chosen by an operator.
 */
const BEARER = /^Bearer +(\S+) *$/i;

export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return BEARER.exec(header)?.[1];
}

export interface Auth {
  /** onRequest hook for a scope: every request in it must carry a known token. */
  readonly authenticate: onRequestAsyncHookHandler;
  /** onRequest hook for a route: the token's role must be at least `role`. */
  requireRole(role: ApiRole): onRequestAsyncHookHandler;
  principalOf(request: FastifyRequest): ApiCaller | undefined;
}

/** The caller of a session cookie's token, if the session is open. */
export type VerifySession = (token: string) => ApiCaller | undefined | Promise<ApiCaller | undefined>;

export function createAuth(verify: VerifyToken, verifySession?: VerifySession): Auth {
  const principals = new WeakMap<FastifyRequest, ApiCaller>();

  const authenticate: onRequestAsyncHookHandler = async (request) => {
    const token = bearerToken(request.headers.authorization);
    if (token !== undefined) {
      const principal = await verify(token);
      if (principal === undefined) throw new ApiError('API_ERR_UNAUTHORIZED', 'unknown or revoked token');
      principals.set(request, principal);
      return;
    }
    const cookie = cookieValue(request.headers.cookie, SESSION_COOKIE);
    if (cookie === undefined || verifySession === undefined) {
      throw new ApiError(
        'API_ERR_UNAUTHORIZED',
        'sign in (POST /api/session) or send Authorization: Bearer <token>',
      );
    }
    const principal = await verifySession(cookie);
    if (principal === undefined)
      throw new ApiError('API_ERR_UNAUTHORIZED', 'the session has ended: sign in again');
    if (!SAFE_METHODS.has(request.method)) assertSameOrigin(request);
    principals.set(request, principal);
  };

  function requireRole(role: ApiRole): onRequestAsyncHookHandler {
    return (request) => {
      // Route hooks run after the scope's, so an unauthenticated request never gets here; the check is
      // kept so that a route registered outside the authenticated scope still refuses.
      const principal = principals.get(request);
      if (principal === undefined) {
        return Promise.reject(new ApiError('API_ERR_UNAUTHORIZED', 'send Authorization: Bearer <token>'));
      }
      if (!hasRole(principal.role, role)) {
        const message = `this needs the ${role} role; the token has ${principal.role}`;
        return Promise.reject(new ApiError('API_ERR_FORBIDDEN', message));
      }
      return Promise.resolve();
    };
  }

  return { authenticate, requireRole, principalOf: (request) => principals.get(request) };
}

/** A cookie-authenticated change must come from the platform's own origin when the browser names one. */
function assertSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== request.headers.host)
    throw new ApiError('API_ERR_CROSS_SITE', `a change from ${origin} with this site's session cookie`);
}

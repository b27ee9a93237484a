// Bearer-token authentication and role checks. Tokens are verified by the registry (which stores only
// their hashes); the role found is kept per request in a WeakMap, so nothing is added to Fastify's types.
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
}

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

export function createAuth(verify: VerifyToken): Auth {
  const principals = new WeakMap<FastifyRequest, ApiCaller>();

  const authenticate: onRequestAsyncHookHandler = async (request) => {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      throw new ApiError('API_ERR_UNAUTHORIZED', 'send Authorization: Bearer <token>');
    }
    const principal = await verify(token);
    if (principal === undefined) throw new ApiError('API_ERR_UNAUTHORIZED', 'unknown or revoked token');
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

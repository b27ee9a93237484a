// /api/agencies: the agencies alerts are routed to (devices/agencies.ts). Anyone may read them, without
// their receivers' secrets; an engineer creates, replaces and removes them. An agency a rule in force
// names as its owner cannot be removed; creating or replacing one has the rules read again, so a rule
// file refused for naming it comes into force.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AgencyInput, PublicAgency, publicAgency, type AgencyRecord } from '../devices/index.ts';
import { routesNaming } from '../notify/index.ts';
import type { Auth } from './auth.ts';
import { ApiError } from './errors.ts';
import type { ApiRouting } from './routing-routes.ts';
import { AUTH_ERRORS, BEARER, errorResponses, type ApiRegistry, type ApiRules } from './route-kit.ts';

export interface AgencyRouteDeps {
  readonly auth: Auth;
  readonly registry: ApiRegistry;
  /** The rules in force: an agency one of them names is in use. */
  readonly rules: ApiRules | undefined;
  /** After an agency is created, replaced or removed (the platform reloads the rules). */
  readonly onAgenciesChanged: (() => void) | undefined;
  /** The routing in force: an agency one of its routes names is in use. */
  readonly routing: ApiRouting | undefined;
}

const IdParam = z.object({ id: z.string().min(1).max(100).describe('agency id, such as flood-control') });
const AgencyList = z.object({ agencies: z.array(PublicAgency) });
/** PUT takes the whole agency; its id is the path's. */
const Replacement = AgencyInput.omit({ id: true }).extend({
  id: AgencyInput.shape.id.optional().describe("the path's id; may be left out"),
});

export function agenciesRoutes(deps: AgencyRouteDeps): FastifyPluginAsyncZod {
  const { auth, registry } = deps;
  const tags = ['agencies'];

  function existing(id: string): AgencyRecord {
    const agency = registry.getAgency(id);
    if (agency === undefined)
      throw new ApiError('API_ERR_AGENCY_NOT_FOUND', `no agency ${JSON.stringify(id)}`);
    return agency;
  }

  const changed = () => deps.onAgenciesChanged?.();

  return (app) => {
    app.get('/agencies', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'List agencies (receiver secrets are never shown)',
        security: BEARER,
        response: { 200: AgencyList, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: () => Promise.resolve({ agencies: registry.listAgencies().map(publicAgency) }),
    });

    app.get('/agencies/:id', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'One agency',
        security: BEARER,
        params: IdParam,
        response: { 200: PublicAgency, ...errorResponses(...AUTH_ERRORS, 'API_ERR_AGENCY_NOT_FOUND') },
      },
      handler: (request) => Promise.resolve(publicAgency(existing(request.params.id))),
    });

    app.post('/agencies', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags,
        summary: 'Create an agency',
        security: BEARER,
        body: AgencyInput,
        response: { 201: PublicAgency, ...errorResponses(...AUTH_ERRORS, 'API_ERR_CONFLICT') },
      },
      handler: async (request, reply) => {
        const agency = await registry.createAgency(request.body);
        request.log.info({ agency: agency.id }, 'agency created');
        changed();
        reply.code(201);
        return publicAgency(agency);
      },
    });

    app.put('/agencies/:id', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags,
        summary: "Replace an agency whole; a receiver's secret left out keeps the stored one",
        security: BEARER,
        params: IdParam,
        body: Replacement,
        response: {
          200: PublicAgency,
          ...errorResponses(...AUTH_ERRORS, 'API_ERR_AGENCY_NOT_FOUND'),
        },
      },
      handler: async (request) => {
        const { id } = existing(request.params.id);
        if (request.body.id !== undefined && request.body.id !== id)
          throw new ApiError('API_ERR_VALIDATION', `body/id ${request.body.id} is not the path's id ${id}`);
        const agency = await registry.replaceAgency(id, { ...request.body, id });
        request.log.info({ agency: id }, 'agency replaced');
        changed();
        return publicAgency(agency);
      },
    });

    app.delete('/agencies/:id', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags,
        summary: 'Remove an agency no rule in force names as its owner',
        security: BEARER,
        params: IdParam,
        response: {
          204: z.null(),
          ...errorResponses(...AUTH_ERRORS, 'API_ERR_AGENCY_NOT_FOUND', 'API_ERR_AGENCY_IN_USE'),
        },
      },
      handler: async (request, reply) => {
        const { id } = existing(request.params.id);
        const owning = (deps.rules?.inForce() ?? []).filter((r) => r.rule.owner === id);
        const naming = deps.routing === undefined ? [] : routesNaming(deps.routing.routing(), id);
        if (owning.length > 0 || naming.length > 0) {
          const uses = [
            ...owning.map((r) => `rule ${r.rule.id} (${r.file})`),
            ...naming.map((r) => `route ${r.index} (line ${r.line})`),
          ];
          throw new ApiError('API_ERR_AGENCY_IN_USE', `agency ${id} is in use: ${uses.join(', ')}`, {
            details: { rules: owning.map((r) => r.rule.id), routes: naming.map((r) => r.index) },
          });
        }
        await registry.removeAgency(id);
        request.log.info({ agency: id }, 'agency removed');
        changed();
        reply.code(204);
        return null;
      },
    });

    return Promise.resolve();
  };
}

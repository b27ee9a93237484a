// /api/gateways and /api/service-accounts: the MQTT identities that are not devices, managed as devices
// are. A gateway publishes for the devices registered behind it (a device's `gateway`, or several at once
// with POST /gateways/:id/children); a service account (Node-RED's) reads every reading and may ask for
// alerts. A new secret, a change of rights or a removal closes the identity's connections: the old secret
// or rights stop at once, not at the next reconnect.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  DeviceId,
  GatewayInput,
  GatewayPatch,
  GatewayRecord,
  ServiceAccountInput,
  ServiceAccountPatch,
  ServiceAccountRecord,
  type DeviceRecord,
} from '../devices/index.ts';
import { Rotated } from './devices-routes.ts';
import { ApiError } from './errors.ts';
import { AUTH_ERRORS, BEARER, errorResponses, type RouteDeps } from './route-kit.ts';

const IdParam = z.object({ id: z.string().min(1).max(256).describe('gateway or service account id') });
const GatewayList = z.object({ gateways: z.array(GatewayRecord) });
const GatewayProvisioned = z.object({
  gateway: GatewayRecord,
  secret: z.string().describe("the gateway's MQTT password; shown only in this answer"),
});
const Children = z.strictObject({
  devices: z
    .array(DeviceId)
    .min(1)
    .max(10_000)
    .describe('ids of active devices to put behind this gateway (each leaves the gateway it had)'),
});
const ServiceList = z.object({ serviceAccounts: z.array(ServiceAccountRecord) });
const ServiceProvisioned = z.object({
  serviceAccount: ServiceAccountRecord,
  secret: z.string().describe("the account's MQTT password; shown only in this answer"),
});

export function accountsRoutes(deps: RouteDeps): FastifyPluginAsyncZod {
  const { auth, registry } = deps;
  const notFound = ['API_ERR_NOT_FOUND'] as const;

  function gateway(id: string): GatewayRecord {
    const g = registry.getGateway(id);
    if (g === undefined) throw new ApiError('API_ERR_NOT_FOUND', `no gateway ${JSON.stringify(id)}`);
    return g;
  }
  function service(id: string): ServiceAccountRecord {
    const s = registry.getServiceAccount(id);
    if (s === undefined) throw new ApiError('API_ERR_NOT_FOUND', `no service account ${JSON.stringify(id)}`);
    return s;
  }

  return (app) => {
    const tags = ['gateways'];
    app.get('/gateways', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'List gateways, each with the active devices behind it',
        security: BEARER,
        response: { 200: GatewayList, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: () => Promise.resolve({ gateways: registry.listGateways() }),
    });

    app.get('/gateways/:id', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'One gateway',
        security: BEARER,
        params: IdParam,
        response: { 200: GatewayRecord, ...errorResponses(...AUTH_ERRORS, ...notFound) },
      },
      handler: (request) => Promise.resolve(gateway(request.params.id)),
    });

    app.post('/gateways', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags,
        summary: 'Provision a gateway; its MQTT secret is in this answer only',
        security: BEARER,
        body: GatewayInput,
        response: { 201: GatewayProvisioned, ...errorResponses(...AUTH_ERRORS, 'API_ERR_CONFLICT') },
      },
      handler: async (request, reply) => {
        const provisioned = await registry.provisionGateway(request.body);
        request.log.info({ gateway: provisioned.gateway.id }, 'gateway provisioned');
        return reply.code(201).send(provisioned);
      },
    });

    app.patch('/gateways/:id', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags,
        summary: "Change a gateway's name, district or location",
        security: BEARER,
        params: IdParam,
        body: GatewayPatch,
        response: { 200: GatewayRecord, ...errorResponses(...AUTH_ERRORS, ...notFound) },
      },
      handler: (request) => {
        const { id } = gateway(request.params.id);
        return registry.updateGateway(id, request.body);
      },
    });

    app.post('/gateways/:id/children', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags,
        summary:
          'Put devices behind this gateway, all or none: every id is checked (it exists, it is active) before any is moved',
        security: BEARER,
        params: IdParam,
        body: Children,
        response: {
          200: GatewayRecord,
          ...errorResponses(...AUTH_ERRORS, ...notFound, 'API_ERR_VALIDATION', 'API_ERR_DECOMMISSIONED'),
        },
      },
      handler: async (request) => {
        const { id } = gateway(request.params.id);
        const problems: string[] = [];
        const found: DeviceRecord[] = [];
        request.body.devices.forEach((d, i) => {
          const device = registry.getDevice(d);
          if (device === undefined) problems.push(`devices/${i}: no device ${d}`);
          else if (device.status !== 'active') problems.push(`devices/${i}: device ${d} is decommissioned`);
          else found.push(device);
        });
        if (problems.length > 0)
          throw new ApiError('API_ERR_VALIDATION', problems.slice(0, 20).join('; '), {
            details: { problems },
          });
        for (const device of found)
          if (device.gateway !== id) await registry.updateDevice(device.id, { gateway: id });
        request.log.info({ gateway: id, devices: found.length }, 'devices put behind a gateway');
        return gateway(id);
      },
    });

    app.post('/gateways/:id/secret', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags,
        summary:
          "Rotate a gateway's MQTT secret: the old one stops working and its connection is closed; the new one is in this answer only",
        security: BEARER,
        params: IdParam,
        response: { 200: Rotated, ...errorResponses(...AUTH_ERRORS, ...notFound) },
      },
      handler: async (request) => {
        const { id } = gateway(request.params.id);
        const secret = await registry.rotateSecret(id);
        deps.disconnect?.(id);
        request.log.info({ gateway: id }, 'gateway secret rotated');
        return { id, secret };
      },
    });

    app.delete('/gateways/:id', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags,
        summary:
          'Remove a gateway with no active devices behind it (409 otherwise); its connection is closed',
        security: BEARER,
        params: IdParam,
        response: { 204: z.null(), ...errorResponses(...AUTH_ERRORS, ...notFound, 'API_ERR_CONFLICT') },
      },
      handler: async (request, reply) => {
        const { id } = gateway(request.params.id);
        await registry.removeGateway(id);
        deps.disconnect?.(id);
        request.log.info({ gateway: id }, 'gateway removed');
        reply.code(204);
        return null;
      },
    });

    const serviceTags = ['service accounts'];
    app.get('/service-accounts', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags: serviceTags,
        summary: 'List service accounts (Node-RED and other programs that read every reading)',
        security: BEARER,
        response: { 200: ServiceList, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: () => Promise.resolve({ serviceAccounts: registry.listServiceAccounts() }),
    });

    app.post('/service-accounts', {
      onRequest: auth.requireRole('admin'),
      schema: {
        tags: serviceTags,
        summary: 'Create a service account; its MQTT secret is in this answer only',
        security: BEARER,
        body: ServiceAccountInput,
        response: { 201: ServiceProvisioned, ...errorResponses(...AUTH_ERRORS, 'API_ERR_CONFLICT') },
      },
      handler: async (request, reply) => {
        const provisioned = await registry.provisionServiceAccount(request.body);
        request.log.info({ serviceAccount: provisioned.serviceAccount.id }, 'service account created');
        return reply.code(201).send(provisioned);
      },
    });

    app.patch('/service-accounts/:id', {
      onRequest: auth.requireRole('admin'),
      schema: {
        tags: serviceTags,
        summary:
          'Change whether a service account may ask for alerts; its connections are closed, to come back with the new rights',
        security: BEARER,
        params: IdParam,
        body: ServiceAccountPatch,
        response: { 200: ServiceAccountRecord, ...errorResponses(...AUTH_ERRORS, ...notFound) },
      },
      handler: async (request) => {
        const { id } = service(request.params.id);
        const changed = await registry.updateServiceAccount(id, request.body);
        deps.disconnect?.(id);
        request.log.info({ serviceAccount: id, ...request.body }, 'service account changed');
        return changed;
      },
    });

    app.post('/service-accounts/:id/secret', {
      onRequest: auth.requireRole('admin'),
      schema: {
        tags: serviceTags,
        summary:
          "Reissue a service account's MQTT secret (Node-RED's too): the old one stops working and its connections are closed; the new one is in this answer only",
        security: BEARER,
        params: IdParam,
        response: { 200: Rotated, ...errorResponses(...AUTH_ERRORS, ...notFound) },
      },
      handler: async (request) => {
        const { id } = service(request.params.id);
        const secret = await registry.rotateSecret(id);
        deps.disconnect?.(id);
        request.log.info({ serviceAccount: id }, 'service account secret reissued');
        return { id, secret };
      },
    });

    app.delete('/service-accounts/:id', {
      onRequest: auth.requireRole('admin'),
      schema: {
        tags: serviceTags,
        summary: 'Remove a service account; its connections are closed',
        security: BEARER,
        params: IdParam,
        response: { 204: z.null(), ...errorResponses(...AUTH_ERRORS, ...notFound) },
      },
      handler: async (request, reply) => {
        const { id } = service(request.params.id);
        await registry.removeServiceAccount(id);
        deps.disconnect?.(id);
        request.log.info({ serviceAccount: id }, 'service account removed');
        reply.code(204);
        return null;
      },
    });

    return Promise.resolve();
  };
}

// /api/devices: list, read, provision, change, rotate the secret of, and decommission devices. Bodies are
// the registry's own zod schemas (devices/schemas.ts), so what the OpenAPI document shows is what is checked.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DeviceInput, DevicePatch, DeviceRecord, DeviceStatus, Kind, Maintenance } from '../devices/index.ts';
import { ApiError } from './errors.ts';
import { AUTH_ERRORS, BEARER, callerOf, errorResponses, type RouteDeps } from './route-kit.ts';

/**
 * A device id in a path. Not checked against the id pattern: a string that cannot be an id names no
 * device, which is a 404, the same answer as for an id never provisioned.
 */
export const DeviceIdParam = z.object({ id: z.string().min(1).max(256).describe('device id') });

const ListQuery = z.object({
  kind: Kind.optional(),
  district: z.string().min(1).max(100).optional(),
  gateway: z.string().min(1).max(256).optional(),
  status: z
    .enum([...DeviceStatus.options, 'all'])
    .default('active')
    .describe('`active` (the default), `decommissioned`, or `all`'),
});

const DeviceList = z.object({ devices: z.array(DeviceRecord) });
const Provisioned = z.object({
  device: DeviceRecord,
  secret: z.string().describe('the MQTT password of the device; shown only in this answer'),
});
export const Rotated = z.object({
  id: z.string(),
  secret: z.string().describe('the new MQTT password; the old one stops working at once; shown only here'),
});

export function devicesRoutes(deps: RouteDeps): FastifyPluginAsyncZod {
  const { auth, registry } = deps;
  const tags = ['devices'];

  function existing(id: string): DeviceRecord {
    const device = registry.getDevice(id);
    if (device === undefined) throw new ApiError('API_ERR_NOT_FOUND', `no device ${JSON.stringify(id)}`);
    return device;
  }

  return (app) => {
    app.get('/devices', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'List devices',
        security: BEARER,
        querystring: ListQuery,
        response: { 200: DeviceList, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: (request) => {
        const { kind, district, gateway, status } = request.query;
        const devices = registry
          .listDevices({ kind, district, gateway, includeDecommissioned: status !== 'active' })
          .filter((d) => status === 'all' || d.status === status);
        return Promise.resolve({ devices });
      },
    });

    app.get('/devices/:id', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'One device',
        security: BEARER,
        params: DeviceIdParam,
        response: { 200: DeviceRecord, ...errorResponses(...AUTH_ERRORS, 'API_ERR_NOT_FOUND') },
      },
      handler: (request) => Promise.resolve(existing(request.params.id)),
    });

    app.post('/devices', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags,
        summary: 'Provision a device; its MQTT secret is in this answer only',
        security: BEARER,
        body: DeviceInput,
        response: { 201: Provisioned, ...errorResponses(...AUTH_ERRORS, 'API_ERR_CONFLICT') },
      },
      handler: async (request, reply) => {
        const provisioned = await registry.provisionDevice(request.body);
        request.log.info({ device: provisioned.device.id }, 'device provisioned');
        return reply.code(201).send(provisioned);
      },
    });

    app.patch('/devices/:id', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags,
        summary: 'Change a device (name, district, location, gateway, meta, tags); the kind never changes',
        security: BEARER,
        params: DeviceIdParam,
        body: DevicePatch,
        response: {
          200: DeviceRecord,
          ...errorResponses(...AUTH_ERRORS, 'API_ERR_NOT_FOUND', 'API_ERR_DECOMMISSIONED'),
        },
      },
      handler: (request) => registry.updateDevice(request.params.id, request.body),
    });

    app.post('/devices/:id/secret', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags,
        summary:
          "Rotate a device's MQTT secret: the old one stops working and its connection is closed; the new one is in this answer only",
        security: BEARER,
        params: DeviceIdParam,
        response: {
          200: Rotated,
          ...errorResponses(...AUTH_ERRORS, 'API_ERR_NOT_FOUND', 'API_ERR_DECOMMISSIONED'),
        },
      },
      handler: async (request) => {
        const { id } = existing(request.params.id);
        const secret = await registry.rotateSecret(id);
        deps.disconnect?.(id);
        request.log.info({ device: id }, 'device secret rotated');
        return { id, secret };
      },
    });

    const maintenanceErrors = errorResponses(...AUTH_ERRORS, 'API_ERR_NOT_FOUND', 'API_ERR_DECOMMISSIONED');
    app.put('/devices/:id/maintenance', {
      onRequest: auth.requireRole('operator'),
      schema: {
        tags,
        summary:
          "Put a device in maintenance until a time: its alerts' notifications are held till then (sent if still open)",
        security: BEARER,
        params: DeviceIdParam,
        body: Maintenance,
        response: { 200: DeviceRecord, ...maintenanceErrors },
      },
      handler: async (request) => {
        const { id } = existing(request.params.id);
        if (Date.parse(request.body.until) <= deps.clock())
          throw new ApiError(
            'API_ERR_VALIDATION',
            'body/until is in the past: the maintenance would hold nothing',
          );
        const device = await registry.setMaintenance(id, { ...request.body, by: callerOf(auth, request) });
        request.log.info({ device: id, until: request.body.until }, 'device in maintenance');
        return device;
      },
    });

    app.delete('/devices/:id/maintenance', {
      onRequest: auth.requireRole('operator'),
      schema: {
        tags,
        summary: 'Put a device back in service: what its maintenance held is sent within its group interval',
        security: BEARER,
        params: DeviceIdParam,
        response: { 200: DeviceRecord, ...maintenanceErrors },
      },
      handler: async (request) => {
        const { id } = existing(request.params.id);
        const device = await registry.setMaintenance(id, null);
        request.log.info({ device: id }, 'device back in service');
        return device;
      },
    });

    app.delete('/devices/:id', {
      onRequest: auth.requireRole('engineer'),
      schema: {
        tags,
        summary: 'Decommission a device: its credentials stop working and its connection is closed',
        security: BEARER,
        params: DeviceIdParam,
        response: { 200: DeviceRecord, ...errorResponses(...AUTH_ERRORS, 'API_ERR_NOT_FOUND') },
      },
      handler: async (request) => {
        const { id } = existing(request.params.id);
        const device = await registry.decommissionDevice(id);
        request.log.info({ device: id }, 'device decommissioned');
        deps.onDecommission?.(id);
        return device;
      },
    });

    return Promise.resolve();
  };
}

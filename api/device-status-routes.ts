// GET /api/status/devices: every device in service at its place, with its state (ok, alerting, silent: the
// definition of alerts/device-status.ts) and how many alerts it has open: what the console's map draws.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deviceAlertStates } from '../alerts/index.ts';
import { Kind, Location } from '../devices/index.ts';
import { DEVICE_STATUSES } from '../measurements/index.ts';
import { absenceRuleIds } from '../rules/index.ts';
import type { Auth } from './auth.ts';
import {
  AUTH_ERRORS,
  BEARER,
  errorResponses,
  type ApiAlerts,
  type ApiRegistry,
  type ApiRules,
} from './route-kit.ts';

const DeviceStatus = z.object({
  id: z.string(),
  name: z.string(),
  kind: Kind,
  district: z.string(),
  location: Location,
  status: z.enum(DEVICE_STATUSES).describe('alerting: an alert open; silent: an absence rule’s alert open'),
  openAlerts: z.number().int().min(0),
});

export function deviceStatusRoutes(deps: {
  auth: Auth;
  registry: Pick<ApiRegistry, 'listDevices'>;
  alerts: Pick<ApiAlerts, 'listOpen'>;
  rules: Pick<ApiRules, 'inForce'> | undefined;
}): FastifyPluginAsyncZod {
  return (app) => {
    app.get('/status/devices', {
      onRequest: deps.auth.requireRole('viewer'),
      schema: {
        tags: ['devices'],
        summary: 'Every device in service at its place, ok, alerting or silent, with its open alerts',
        security: BEARER,
        response: { 200: z.object({ devices: z.array(DeviceStatus) }), ...errorResponses(...AUTH_ERRORS) },
      },
      handler: async () => {
        const silence = absenceRuleIds((deps.rules?.inForce() ?? []).map((r) => r.rule));
        const stateOf = deviceAlertStates(await deps.alerts.listOpen(), silence);
        const devices = deps.registry.listDevices().map((d) => {
          const { status, open } = stateOf(d.id);
          return {
            id: d.id,
            name: d.name,
            kind: d.kind,
            district: d.district,
            location: d.location,
            status,
            openAlerts: open,
          };
        });
        return { devices };
      },
    });
    return Promise.resolve();
  };
}

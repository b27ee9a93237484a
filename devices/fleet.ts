// The simulated fleet file (hue-fleet.json for Huế) and seeding it into a registry. Seeding creates only
// what is missing, so it runs at every start of the demo without touching devices already provisioned.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { RegistryError, type RegistryErrorCode } from './errors.ts';
import type { Registry } from './registry.ts';
import { DeviceInput, GatewayInput, ServiceAccountInput } from './schemas.ts';

export const DEFAULT_FLEET_FILE = fileURLToPath(new URL('./hue-fleet.json', import.meta.url));

export const Fleet = z
  .strictObject({
    /** Where the fleet's places and numbers come from; JSON has no comments. */
    notes: z.array(z.string()).default([]),
    gateways: z.array(GatewayInput).default([]),
    devices: z.array(DeviceInput),
    serviceAccounts: z.array(ServiceAccountInput).default([]),
  })
  .superRefine((fleet, ctx) => {
    // Device, gateway and service-account ids share one namespace: they are all MQTT usernames.
    const seen = new Set<string>();
    const ids = [...fleet.gateways, ...fleet.devices, ...fleet.serviceAccounts].map((x) => x.id);
    for (const id of ids) {
      if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `duplicate id ${id}` });
      seen.add(id);
    }
    const gateways = new Set(fleet.gateways.map((g) => g.id));
    fleet.devices.forEach((d, i) => {
      if (d.gateway !== undefined && !gateways.has(d.gateway)) {
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'gateway'],
          message: `gateway ${d.gateway} is not in the fleet`,
        });
      }
    });
  });
export type Fleet = z.output<typeof Fleet>;

export async function loadFleet(file: string = DEFAULT_FLEET_FILE): Promise<Fleet> {
  return loadJsonFile(file, Fleet, 'fleet file', 'REGISTRY_ERR_FLEET');
}

/** A JSON file checked against its schema; any problem is `code`, saying which file and what is wrong. */
export async function loadJsonFile<T extends z.ZodType>(
  file: string,
  schema: T,
  what: string,
  code: RegistryErrorCode,
): Promise<z.output<T>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new RegistryError(code, `cannot read the ${what} ${file}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RegistryError(code, `the ${what} ${file} is not JSON`, { cause: err });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new RegistryError(code, `invalid ${what} ${file}: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

export interface SeededPrincipal {
  readonly id: string;
  readonly type: 'device' | 'gateway' | 'service';
  /** The secret issued now: the only time it is ever shown. */
  readonly secret: string;
}

/** Provisions what of the fleet the registry lacks (gateways first: devices name them). */
export async function seedFleet(registry: Registry, fleet: Fleet): Promise<{ created: SeededPrincipal[] }> {
  const created: SeededPrincipal[] = [];
  for (const g of fleet.gateways) {
    if (registry.getGateway(g.id) !== undefined) continue;
    const { secret } = await registry.provisionGateway(g);
    created.push({ id: g.id, type: 'gateway', secret });
  }
  for (const d of fleet.devices) {
    if (registry.getDevice(d.id) !== undefined) continue;
    const { secret } = await registry.provisionDevice(d);
    created.push({ id: d.id, type: 'device', secret });
  }
  for (const s of fleet.serviceAccounts) {
    if (registry.getServiceAccount(s.id) !== undefined) continue;
    const { secret } = await registry.provisionServiceAccount(s);
    created.push({ id: s.id, type: 'service', secret });
  }
  return { created };
}

// From the fleet file and the credentials written when the fleet was provisioned to what the
// simulator runs. Pure, apart from reading the credentials file in `loadCredentials`.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Fleet } from '../devices/index.ts';
import { SimError } from './errors.ts';
import type { SimDevice, SimGateway } from './fleet-sim.ts';

/** One provisioned principal and its secret, as the demo seeding writes them. */
export const Credential = z.object({
  id: z.string().min(1),
  type: z.enum(['device', 'gateway', 'service']),
  secret: z.string().min(1),
});
export type Credential = z.infer<typeof Credential>;
export const Credentials = z.array(Credential);

export async function loadCredentials(file: string): Promise<Credential[]> {
  try {
    return Credentials.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (err) {
    throw new SimError('SIM_ERR_CREDENTIALS', `cannot use the credentials file ${file}`, { cause: err });
  }
}

export interface SimFleet {
  readonly devices: SimDevice[];
  readonly gateways: SimGateway[];
  /** Ids left out because no secret is known for them (or for their gateway). */
  readonly skipped: string[];
}

/** Pairs the fleet with its secrets; devices behind a gateway need only the gateway's secret. */
export function toSimFleet(fleet: Fleet, credentials: readonly Credential[]): SimFleet {
  const secretOf = new Map(credentials.map((c) => [c.id, c.secret]));
  const gateways: SimGateway[] = [];
  const skipped: string[] = [];
  for (const g of fleet.gateways) {
    const secret = secretOf.get(g.id);
    if (secret === undefined) skipped.push(g.id);
    else gateways.push({ id: g.id, secret });
  }
  const known = new Set(gateways.map((g) => g.id));
  const devices: SimDevice[] = [];
  for (const d of fleet.devices) {
    const base = { id: d.id, kind: d.kind, location: d.location, meta: d.meta };
    if (d.gateway !== undefined) {
      if (known.has(d.gateway)) devices.push({ ...base, gateway: d.gateway });
      else skipped.push(d.id);
      continue;
    }
    const secret = secretOf.get(d.id);
    if (secret === undefined) skipped.push(d.id);
    else devices.push({ ...base, secret });
  }
  return { devices, gateways, skipped };
}

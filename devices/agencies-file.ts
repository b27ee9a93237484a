// The agencies a rule set names, as a file the platform seeds the registry from at every start
// (CITY_AGENCIES_FILE; Huế's by default, beside its rules): only missing agencies are created, so what an
// engineer changed through the API stays.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AgencyInput } from './agencies.ts';
import { isRegistryError } from './errors.ts';
import { loadJsonFile } from './fleet.ts';
import type { Registry } from './registry.ts';

export const DEFAULT_AGENCIES_FILE = fileURLToPath(new URL('./hue-agencies.json', import.meta.url));

export const AgenciesFile = z
  .strictObject({
    /** Where the names come from; JSON has no comments. */
    notes: z.array(z.string()).default([]),
    agencies: z.array(AgencyInput),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.agencies.forEach((a, i) => {
      if (seen.has(a.id))
        ctx.addIssue({ code: 'custom', path: ['agencies', i, 'id'], message: `duplicate id ${a.id}` });
      seen.add(a.id);
    });
  });

export async function loadAgenciesFile(file: string = DEFAULT_AGENCIES_FILE): Promise<AgencyInput[]> {
  return (await loadJsonFile(file, AgenciesFile, 'agencies file', 'REGISTRY_ERR_AGENCIES')).agencies;
}

/** Creates the agencies the registry lacks; returns their ids. */
export async function seedAgencies(registry: Registry, agencies: readonly AgencyInput[]): Promise<string[]> {
  const created: string[] = [];
  for (const a of agencies) {
    if (registry.getAgency(a.id) !== undefined) continue;
    try {
      await registry.createAgency(a);
      created.push(a.id);
    } catch (err) {
      // Another node of a cluster starting at the same moment made it first.
      if (!(isRegistryError(err) && err.code === 'REGISTRY_ERR_DUPLICATE')) throw err;
    }
  }
  return created;
}

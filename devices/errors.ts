// Error codes raised by the devices component (registry and fleet file), one table so that every code
// is documented and a test can check it (the way Fastify keeps its codes in lib/errors.js).
import { z } from 'zod';
import { errorClass, isErrorOf } from '../errors/index.ts';

export const REGISTRY_ERRORS = {
  REGISTRY_ERR_DUPLICATE: 'a device, gateway, service account or agency with this id already exists',
  REGISTRY_ERR_NOT_FOUND: 'no device, gateway, service account or agency has this id',
  REGISTRY_ERR_INVALID: 'the input does not match its schema (device, gateway, metadata, token, agency)',
  REGISTRY_ERR_GATEWAY: 'the gateway named by a device does not exist',
  REGISTRY_ERR_IN_USE:
    'the gateway still has active devices behind it: move them to another gateway, detach or decommission them first',
  REGISTRY_ERR_DECOMMISSIONED: 'the device is decommissioned and cannot be changed or given a secret',
  REGISTRY_ERR_STORAGE: 'the registry database could not be opened, migrated or written',
  REGISTRY_ERR_CLOSED: 'the registry was used after close()',
  REGISTRY_ERR_FLEET: 'the fleet file cannot be read or does not validate',
  REGISTRY_ERR_AGENCIES: 'the agencies file (CITY_AGENCIES_FILE) cannot be read or does not validate',
  REGISTRY_ERR_BUSY:
    'too many older (scrypt) secrets are waiting to be checked, one at a time; the CONNECT should be tried again shortly',
} as const;

export type RegistryErrorCode = keyof typeof REGISTRY_ERRORS;

export class RegistryError extends errorClass('RegistryError', REGISTRY_ERRORS) {}

export const isRegistryError = isErrorOf(RegistryError);

/** Parses input at the registry's boundary; a mismatch is REGISTRY_ERR_INVALID with the zod error as cause. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new RegistryError('REGISTRY_ERR_INVALID', `invalid ${what}: ${z.prettifyError(r.error)}`, {
    cause: r.error,
  });
}

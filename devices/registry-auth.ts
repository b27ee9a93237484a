// MQTT authentication against the registry's in-memory view: username = id, password = issued secret.
// A successful scrypt check is remembered (as an HMAC, secrets.ts) so reconnects are cheap; rotation or
// decommissioning forgets it. Unknown ids cost the same scrypt as known ones, so timing does not tell
// an attacker which ids exist.
import type { GatewayBase, ServiceAccount } from './registry-store.ts';
import type { DeviceRecord } from './schemas.ts';
import { createVerifiedCache, hashSecret, newSecret, verifySecret } from './secrets.ts';

export type Principal =
  | { readonly type: 'device'; readonly device: DeviceRecord }
  | { readonly type: 'gateway'; readonly gatewayId: string; readonly children: ReadonlySet<string> }
  | { readonly type: 'service'; readonly id: string; readonly mayPublishAlerts: boolean };

export interface PrincipalSources {
  readonly devices: ReadonlyMap<string, DeviceRecord>;
  readonly gateways: ReadonlyMap<string, GatewayBase>;
  /** Live sets: a gateway principal sees children added or removed after it connected. */
  readonly children: ReadonlyMap<string, ReadonlySet<string>>;
  readonly services: ReadonlyMap<string, ServiceAccount>;
  readonly hashes: ReadonlyMap<string, string>;
}

export interface Principals {
  authenticate(username: string, password: Buffer | string): Promise<Principal | undefined>;
  /** Forgets remembered verifications of this id, and fails any verification in flight for it. */
  invalidate(id: string): void;
}

const EMPTY: ReadonlySet<string> = new Set();
/** Issued secrets are 43 characters; refuse anything far larger before spending scrypt on it. */
const MAX_PASSWORD_BYTES = 1024;

export async function createPrincipals(src: PrincipalSources): Promise<Principals> {
  const verified = createVerifiedCache();
  const generation = new Map<string, number>();
  const dummyHash = await hashSecret(newSecret());

  function principalOf(id: string): Principal | undefined {
    const device = src.devices.get(id);
    if (device !== undefined) return device.status === 'active' ? { type: 'device', device } : undefined;
    if (src.gateways.has(id))
      return { type: 'gateway', gatewayId: id, children: src.children.get(id) ?? EMPTY };
    const service = src.services.get(id);
    return service === undefined
      ? undefined
      : { type: 'service', id, mayPublishAlerts: service.mayPublishAlerts };
  }

  return {
    async authenticate(username, password) {
      const pw = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
      if (typeof username !== 'string' || pw.length === 0 || pw.length > MAX_PASSWORD_BYTES) return undefined;
      const hash = src.hashes.get(username);
      if (hash === undefined || principalOf(username) === undefined) {
        await verifySecret(pw, dummyHash);
        return undefined;
      }
      if (!verified.has(username, pw)) {
        const before = generation.get(username) ?? 0;
        const ok = await verifySecret(pw, hash);
        // A rotation or decommissioning while scrypt ran makes this password stale: refuse it.
        if (!ok || (generation.get(username) ?? 0) !== before) return undefined;
        verified.remember(username, pw);
      }
      return principalOf(username);
    },
    invalidate(id) {
      verified.forget(id);
      generation.set(id, (generation.get(id) ?? 0) + 1);
    },
  };
}

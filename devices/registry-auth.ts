// MQTT authentication against the registry's in-memory view: username = id, password = issued secret.
// Secrets are checked as HMACs (secrets.ts): microseconds on the event loop, so a flood of CONNECTs
// cannot starve the thread pool the spool's disk writes wait in. An unknown id costs the same HMAC as a
// known one. A legacy scrypt hash is replaced by its HMAC at its first successful check; until then its
// id takes tens of milliseconds to refuse, which shows that it exists (device ids are not secrets: they
// are in every topic).
import type { GatewayBase, ServiceAccount } from './registry-rows.ts';
import type { DeviceRecord } from './schemas.ts';
import { hashSecret, isLegacyHash, newSecret, verifySecret, type SecretKeys } from './secrets.ts';

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
  readonly keys: SecretKeys;
  /** Replaces `id`'s legacy hash `prev` by `next`, unless it changed meanwhile; never throws. */
  readonly rehash: (id: string, prev: string, next: string) => void;
}

export interface Principals {
  authenticate(username: string, password: Buffer | string): Promise<Principal | undefined>;
  /** Fails any verification in flight for this id (a rotation or a decommissioning). */
  invalidate(id: string): void;
}

const EMPTY: ReadonlySet<string> = new Set();
/** Issued secrets are 43 characters; refuse anything far larger before hashing it. */
const MAX_PASSWORD_BYTES = 1024;

export function createPrincipals(src: PrincipalSources): Principals {
  const generation = new Map<string, number>();
  const dummyHash = hashSecret(newSecret(), src.keys);

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
        void verifySecret(pw, dummyHash, src.keys); // an HMAC, as for a known id
        return undefined;
      }
      const before = generation.get(username) ?? 0;
      const ok = await verifySecret(pw, hash, src.keys);
      // A rotation or decommissioning since the check began makes this password stale: refuse it.
      if (!ok || (generation.get(username) ?? 0) !== before) return undefined;
      if (isLegacyHash(hash)) src.rehash(username, hash, hashSecret(pw, src.keys));
      return principalOf(username);
    },
    invalidate(id) {
      generation.set(id, (generation.get(id) ?? 0) + 1);
    },
  };
}

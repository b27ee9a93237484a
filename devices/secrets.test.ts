import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isRegistryError } from './errors.ts';
import {
  hashPassword,
  hashSecret,
  isLegacyHash,
  newSecret,
  newSecretKey,
  verifySecret,
  type SecretKeys,
} from './secrets.ts';

const keysOf = (...keys: Buffer[]): SecretKeys => ({
  current: { id: keys.length, key: keys[keys.length - 1]! },
  byId: new Map(keys.map((key, i) => [i + 1, key])),
});

describe('secrets', () => {
  const first = newSecretKey();
  const secret = newSecret();

  it('checks an HMAC hash at once, without a promise', () => {
    const keys = keysOf(first);
    const stored = hashSecret(secret, keys);
    expect(verifySecret(secret, stored, keys)).toBe(true);
    expect(verifySecret(`${secret}x`, stored, keys)).toBe(false);
    expect(verifySecret(Buffer.from(secret), stored, keys)).toBe(true);
    expect(isLegacyHash(stored)).toBe(false);
  });

  it('keeps verifying hashes made under an older key after a new key is added', () => {
    const old = hashSecret(secret, keysOf(first));
    const keys = keysOf(first, newSecretKey());
    expect(hashSecret(secret, keys)).toMatch(/^\$hmac-sha256\$k=2\$/);
    expect(verifySecret(secret, old, keys)).toBe(true);
  });

  it('refuses a hash under an unknown key, another key, or in no known format', () => {
    const stored = hashSecret(secret, keysOf(first));
    expect(verifySecret(secret, stored.replace('k=1', 'k=7'), keysOf(first))).toBe(false);
    expect(verifySecret(secret, stored, keysOf(newSecretKey()))).toBe(false);
    for (const junk of ['', secret, '$hmac-sha256$k=1$short', '$argon2id$v=19$m=1,t=1,p=1$a$b']) {
      expect(verifySecret(secret, junk, keysOf(first))).toBe(false);
    }
  });

  it('verifies a legacy scrypt hash, and refuses one asking for more memory than allowed', async () => {
    const legacy = await hashPassword(secret);
    expect(isLegacyHash(legacy)).toBe(true);
    expect(await verifySecret(secret, legacy, keysOf(first))).toBe(true);
    expect(await verifySecret('wrong', legacy, keysOf(first))).toBe(false);
    expect(await verifySecret(secret, legacy.replace('ln=14', 'ln=30'), keysOf(first))).toBe(false);
  });
});

describe('legacy scrypt checks', () => {
  it('run one at a time, and past 100 waiting are refused as REGISTRY_ERR_BUSY', async () => {
    // A cheap scrypt (N=2^10), in the stored format, so that the queue is quick to fill and to drain.
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('secret', salt, 32, { N: 1024, r: 8, p: 1 });
    const stored = `$scrypt$ln=10,r=8,p=1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    const keys = { current: { id: 1, key: newSecretKey() }, byId: new Map() };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 150 }, () => Promise.resolve(verifySecret('secret', stored, keys))),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled' && o.value)).toHaveLength(100);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused).toHaveLength(50);
    expect(refused.every((o) => isRegistryError(o.reason) && o.reason.code === 'REGISTRY_ERR_BUSY')).toBe(
      true,
    );
    expect(await verifySecret('secret', stored, keys)).toBe(true);
  });
});

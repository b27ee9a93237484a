// Device, gateway and service-account secrets, and API tokens.
//
// A secret is 32 random bytes (256 bits) issued by the platform, in base64url. No one can guess 2^256, so a
// slow password hash protects nothing here and would cost tens of milliseconds of the thread pool per
// CONNECT (a flood of wrong passwords then stalls the spool's disk writes, which wait in the same pool).
// A secret is stored as an HMAC-SHA-256 under a key kept with the registry, in the PHC-like string
// `$hmac-sha256$k=<key id>$<mac>`: checking one costs microseconds on the event loop and no pool thread,
// and the stored strings are useless without the key (docs/architecture.md, "MQTT credentials").
//
// Registries made before kept scrypt hashes (`$scrypt$ln=14,r=8,p=1$<salt>$<hash>`, RFC 7914 with OWASP's
// interactive-login parameters). They are still verified, one at a time so they can never take more than
// one pool thread, and the registry replaces each with an HMAC at the device's next successful CONNECT:
// no device has to be given a new secret. Scrypt stays the hash for passwords people choose.
import {
  createHash,
  createHmac,
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
  type BinaryLike,
} from 'node:crypto';
import { RegistryError } from './errors.ts';

const SECRET_BYTES = 32;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const LOG2_N = 14;
const R = 8;
const P = 1;
/** Refuse stored hashes demanding more than this (a tampered row must not exhaust memory). */
const MAX_LOG2_N = 20;

/** A new secret: 32 random bytes, base64url (43 characters). */
export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** A new key for the secrets' HMAC: 32 random bytes. */
export function newSecretKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** The registry's HMAC keys by id; new secrets are hashed with `current`. */
export interface SecretKeys {
  readonly current: { readonly id: number; readonly key: Buffer };
  readonly byId: ReadonlyMap<number, Buffer>;
}

export function hashSecret(secret: BinaryLike, keys: SecretKeys): string {
  const { id, key } = keys.current;
  return `$hmac-sha256$k=${id}$${mac(key, secret).toString('base64url')}`;
}

const HMAC = /^\$hmac-sha256\$k=(\d{1,9})\$([A-Za-z0-9_-]{43})$/;
const SCRYPT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** Whether a stored hash is of the old, slow kind that the registry replaces at the next good CONNECT. */
export function isLegacyHash(stored: string): boolean {
  return stored.startsWith('$scrypt$');
}

/**
 * Constant-time check of a secret against a stored hash; false for a malformed hash or an unknown key,
 * never throws on input. An HMAC hash is answered at once; only a legacy scrypt hash returns a promise.
 */
export function verifySecret(
  secret: BinaryLike,
  stored: string,
  keys: SecretKeys,
): boolean | Promise<boolean> {
  const m = HMAC.exec(stored);
  if (m !== null) {
    const key = keys.byId.get(Number(m[1]));
    return key !== undefined && timingSafeEqual(mac(key, secret), Buffer.from(m[2]!, 'base64url'));
  }
  return SCRYPT.test(stored) ? verifyPassword(secret, stored) : false;
}

function mac(key: Buffer, secret: BinaryLike): Buffer {
  return createHmac('sha256', key).update(secret).digest();
}

/** API tokens are high-entropy random strings, so a fast unsalted SHA-256 is enough to store them. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

// --- scrypt: for passwords people choose, and the registry's legacy device hashes -----------------------

/** A password hashed with scrypt (N=2^14, r=8, p=1: 16 MiB and tens of ms), in the PHC string format. */
export async function hashPassword(password: BinaryLike): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, KEY_BYTES, 2 ** LOG2_N, R, P);
  return `$scrypt$ln=${LOG2_N},r=${R},p=${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Constant-time check of a password against its scrypt hash; false for a malformed hash. */
export async function verifyPassword(password: BinaryLike, stored: string): Promise<boolean> {
  const m = SCRYPT.exec(stored);
  if (m === null) return false;
  const [, ln, r, p, salt, hash] = m;
  const log2n = Number(ln);
  if (log2n < 1 || log2n > MAX_LOG2_N) return false;
  const expected = Buffer.from(hash!, 'base64url');
  if (expected.length < 16) return false;
  const key = await scrypt(
    password,
    Buffer.from(salt!, 'base64url'),
    expected.length,
    2 ** log2n,
    Number(r),
    Number(p),
  );
  return timingSafeEqual(key, expected);
}

/** One scrypt at a time over the whole process: it never holds more than one of the pool's threads. */
let scryptQueue: Promise<unknown> = Promise.resolve();
let scryptWaiting = 0;
/**
 * Scrypts allowed to wait: at tens of ms each, more would not finish within a CONNECT's 10 s timeout. Beyond
 * it a check is refused as REGISTRY_ERR_BUSY (the device is told to come back: CONNACK 3).
 */
const MAX_SCRYPT_WAITING = 100;

function scrypt(
  password: BinaryLike,
  salt: Buffer,
  keylen: number,
  n: number,
  r: number,
  p: number,
): Promise<Buffer> {
  // maxmem must exceed 128·N·r bytes (Node's default of 32 MiB only just fits N=2^14, r=8).
  const maxmem = 256 * n * r + 1024 * 1024;
  const run = () =>
    new Promise<Buffer>((resolve, reject) => {
      scryptCallback(password, salt, keylen, { N: n, r, p, maxmem }, (err, key) =>
        err ? reject(err) : resolve(key),
      );
    });
  if (scryptWaiting >= MAX_SCRYPT_WAITING) {
    return Promise.reject(new RegistryError('REGISTRY_ERR_BUSY', `${scryptWaiting} older secrets waiting`));
  }
  scryptWaiting++;
  const result = scryptQueue.then(run, run).finally(() => scryptWaiting--);
  scryptQueue = result.catch(() => undefined);
  return result;
}

// Device, gateway and service-account secrets, and API tokens.
// Secrets are 32 random bytes (256 bits) in base64url, stored only as scrypt hashes in the PHC string
// format (`$scrypt$ln=14,r=8,p=1$<salt>$<hash>`), so every stored hash says how it was made and the cost
// can be raised later without breaking old hashes. N=2^14, r=8, p=1 are the parameters RFC 7914 §2 and
// OWASP's password storage cheat sheet give for interactive logins (16 MiB, tens of ms).
import {
  createHash,
  createHmac,
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
  type BinaryLike,
} from 'node:crypto';

const SECRET_BYTES = 32;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const LOG2_N = 14;
const R = 8;
const P = 1;
/** Refuse stored hashes demanding more than this (a tampered row must not exhaust memory). */
const MAX_LOG2_N = 20;

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
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keylen, { N: n, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** A new secret: 32 random bytes, base64url (43 characters). */
export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

export async function hashSecret(secret: BinaryLike): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(secret, salt, KEY_BYTES, 2 ** LOG2_N, R, P);
  return `$scrypt$ln=${LOG2_N},r=${R},p=${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** Constant-time check of a secret against a stored hash; false for a malformed hash, never throws on input. */
export async function verifySecret(secret: BinaryLike, stored: string): Promise<boolean> {
  const m = PHC.exec(stored);
  if (m === null) return false;
  const [, ln, r, p, salt, hash] = m;
  const log2n = Number(ln);
  if (log2n < 1 || log2n > MAX_LOG2_N) return false;
  const expected = Buffer.from(hash!, 'base64url');
  if (expected.length < 16) return false;
  const key = await scrypt(
    secret,
    Buffer.from(salt!, 'base64url'),
    expected.length,
    2 ** log2n,
    Number(r),
    Number(p),
  );
  return timingSafeEqual(key, expected);
}

/** API tokens are high-entropy random strings, so a fast unsalted SHA-256 is enough to store them. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface VerifiedCache {
  /** Whether this exact (id, password) pair was verified since the id's secret last changed. */
  has(id: string, password: BinaryLike): boolean;
  remember(id: string, password: BinaryLike): void;
  forget(id: string): void;
}

/**
 * Remembers successful verifications so a reconnecting device does not pay scrypt again. Only an HMAC
 * of the password under a key made fresh for each process is kept: the cache is useless outside it.
 */
export function createVerifiedCache(): VerifiedCache {
  const key = randomBytes(32);
  const verified = new Map<string, Buffer>();
  const mac = (id: string, password: BinaryLike) =>
    createHmac('sha256', key).update(id).update('\u0000').update(password).digest();
  return {
    has(id, password) {
      const known = verified.get(id);
      return known !== undefined && timingSafeEqual(known, mac(id, password));
    },
    remember(id, password) {
      verified.set(id, mac(id, password));
    },
    forget(id) {
      verified.delete(id);
    },
  };
}

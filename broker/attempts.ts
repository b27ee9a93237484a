// Failed CONNECTs, counted per client address and per user name, each with a block that doubles.
//
// After `threshold` failures a key is blocked for `baseMs`; the next time it reaches the threshold, for
// twice as long, and so on up to `maxMs`. A key forgets its failures and its level after `forgetMs`
// without one, and a user name forgets them at its next successful CONNECT. A CONNECT refused because
// of a block is answered without checking the password and does not count: it costs nothing, and a
// device with a wrong secret, retrying every second, adds only `threshold` failures to its address per
// block. Each table holds at most `maxKeys` keys (the least recently failed go first), so a flood of
// made-up user names cannot grow memory without bound.

export interface AttemptLimit {
  /** Failures that start a block. */
  readonly threshold: number;
  /** The first block. */
  readonly baseMs: number;
  /** The longest block. */
  readonly maxMs: number;
}

export interface AttemptLimits {
  readonly perAddress: AttemptLimit;
  readonly perUser: AttemptLimit;
  /** Quiet time after which a key's failures and level are forgotten. */
  readonly forgetMs: number;
  readonly maxKeys: number;
}

/**
 * An address may be a NAT in front of a district's lamps: it blocks only after many failures. A user name
 * is one device: a few failures are enough, and its longest block is short, because anyone who knows
 * the id can cause it.
 */
export const DEFAULT_ATTEMPT_LIMITS: AttemptLimits = {
  perAddress: { threshold: 50, baseMs: 1_000, maxMs: 300_000 },
  perUser: { threshold: 5, baseMs: 1_000, maxMs: 60_000 },
  forgetMs: 900_000,
  maxKeys: 100_000,
};

export type Blocked = { readonly by: 'address' | 'user'; readonly untilMs: number };

export interface AttemptLimiter {
  /** Whether an attempt from this address for this user name is refused unchecked, and until when. */
  blocked(address: string | undefined, user: string | undefined): Blocked | undefined;
  /** Counts a failure; the block it starts, when it starts one. */
  failed(address: string | undefined, user: string | undefined): Blocked | undefined;
  succeeded(user: string): void;
  /** Keys blocked now, per table (a gauge for the metrics). */
  blockedKeys(): { address: number; user: number };
}

interface Entry {
  failures: number;
  level: number;
  blockedUntil: number;
  lastFailure: number;
}

export function createAttemptLimiter(
  limits: AttemptLimits = DEFAULT_ATTEMPT_LIMITS,
  now: () => number = Date.now,
): AttemptLimiter {
  const tables = {
    address: createTable(limits.perAddress),
    user: createTable(limits.perUser),
  };

  function createTable(limit: AttemptLimit) {
    const entries = new Map<string, Entry>();
    return {
      blockedUntil(key: string, t: number): number | undefined {
        const e = entries.get(key);
        return e !== undefined && t < e.blockedUntil ? e.blockedUntil : undefined;
      },
      failed(key: string, t: number): number | undefined {
        let e = entries.get(key);
        if (e === undefined || t - e.lastFailure > limits.forgetMs) {
          e = { failures: 0, level: 0, blockedUntil: 0, lastFailure: t };
        }
        entries.delete(key); // re-inserted last: the map's order is the order of last failure
        if (entries.size >= limits.maxKeys) entries.delete(entries.keys().next().value!);
        entries.set(key, e);
        e.lastFailure = t;
        if (++e.failures < limit.threshold) return undefined;
        e.blockedUntil = t + Math.min(limit.baseMs * 2 ** e.level, limit.maxMs);
        e.level = Math.min(e.level + 1, 30);
        e.failures = 0;
        return e.blockedUntil;
      },
      forget: (key: string) => entries.delete(key),
      countBlocked(t: number): number {
        let n = 0;
        for (const e of entries.values()) if (t < e.blockedUntil) n++;
        return n;
      },
    };
  }

  return {
    blocked(address, user) {
      const t = now();
      const a = address === undefined ? undefined : tables.address.blockedUntil(address, t);
      if (a !== undefined) return { by: 'address', untilMs: a };
      const u = user === undefined ? undefined : tables.user.blockedUntil(user, t);
      return u === undefined ? undefined : { by: 'user', untilMs: u };
    },
    failed(address, user) {
      const t = now();
      const a = address === undefined ? undefined : tables.address.failed(address, t);
      const u = user === undefined ? undefined : tables.user.failed(user, t);
      if (a !== undefined) return { by: 'address', untilMs: a };
      return u === undefined ? undefined : { by: 'user', untilMs: u };
    },
    succeeded(user) {
      tables.user.forget(user);
    },
    blockedKeys() {
      const t = now();
      return { address: tables.address.countBlocked(t), user: tables.user.countBlocked(t) };
    },
  };
}

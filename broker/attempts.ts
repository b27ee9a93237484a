// Failed CONNECTs, counted per client address and per user name, each with a block that doubles.
//
// After `threshold` failures a key is blocked for `baseMs`. When the block ends, one more attempt is
// checked; if it fails too, the key is blocked again for twice as long, and so on up to `maxMs`. A key
// forgets its failures and its level after `forgetMs` without one, and a user name forgets them at its
// next successful CONNECT. Checks still running count as failures until they end, so a burst of
// simultaneous CONNECTs admits no more than `threshold` of them. A CONNECT refused because of a block is
// answered without checking the password and does not count: it costs nothing, and a device with a wrong
// secret, retrying every second, adds only one failure to its address per block. Each table holds at most
// `maxKeys` keys (the least recently failed go first, but never one blocked or being checked while
// another can go), so a flood of made-up user names cannot grow memory without bound.
//
// IPv6 addresses are counted per /64, the block one host is usually given; IPv4 per address.

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

/** An attempt being checked: say how it ended, once. */
export interface Attempt {
  /** Counts the failure; the block it starts, when it starts one. */
  failed(): Blocked | undefined;
  succeeded(): void;
  /** The check could not be made (the registry was busy or failed): neither a failure nor a success. */
  abandon(): void;
}

export interface AttemptLimiter {
  /** A block that refuses this attempt unchecked, or the attempt, admitted to be checked. */
  admit(address: string | undefined, user: string | undefined): Blocked | Attempt;
  /** Keys blocked now, per table (a gauge for the metrics). */
  blockedKeys(): { address: number; user: number };
}

interface Entry {
  failures: number;
  /** Checks admitted and not ended yet. */
  pending: number;
  level: number;
  blockedUntil: number;
  lastFailure: number;
}

/** How far from the oldest key eviction looks for one neither blocked nor being checked. */
const EVICTION_SCAN = 64;

export function isBlocked(outcome: Blocked | Attempt): outcome is Blocked {
  return 'untilMs' in outcome;
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

    function entry(key: string, t: number): Entry {
      let e = entries.get(key);
      if (e !== undefined && e.pending === 0 && t - e.lastFailure > limits.forgetMs && t >= e.blockedUntil) {
        e = undefined;
      }
      if (e === undefined) {
        if (entries.size >= limits.maxKeys) evict(t);
        e = { failures: 0, pending: 0, level: 0, blockedUntil: 0, lastFailure: t };
      }
      entries.delete(key); // re-inserted last: the map's order is the order of last use
      entries.set(key, e);
      return e;
    }

    function evict(t: number): void {
      let scanned = 0;
      for (const [key, e] of entries) {
        if (e.pending === 0 && t >= e.blockedUntil) return void entries.delete(key);
        if (++scanned >= EVICTION_SCAN) break;
      }
      entries.delete(entries.keys().next().value!);
    }

    return {
      /** Until when `key` is refused unchecked: a block, or as many checks running as it may fail. */
      blockedUntil(key: string, t: number): number | undefined {
        const e = entries.get(key);
        if (e === undefined) return undefined;
        if (t < e.blockedUntil) return e.blockedUntil;
        return e.failures + e.pending >= limit.threshold ? t : undefined;
      },
      begin(key: string, t: number): void {
        entry(key, t).pending++;
      },
      failed(key: string, t: number): number | undefined {
        const e = entry(key, t);
        e.pending = Math.max(0, e.pending - 1);
        e.lastFailure = t;
        if (++e.failures < limit.threshold) return undefined;
        e.blockedUntil = t + Math.min(limit.baseMs * 2 ** e.level, limit.maxMs);
        e.level = Math.min(e.level + 1, 30);
        // After the block one attempt is checked; its failure blocks again, for twice as long.
        e.failures = limit.threshold - 1;
        return e.blockedUntil;
      },
      ended(key: string, forget: boolean): void {
        const e = entries.get(key);
        if (e === undefined) return;
        e.pending = Math.max(0, e.pending - 1);
        if (forget && e.pending === 0) entries.delete(key);
      },
      countBlocked(t: number): number {
        let n = 0;
        for (const e of entries.values()) if (t < e.blockedUntil) n++;
        return n;
      },
    };
  }

  return {
    admit(rawAddress, user) {
      const t = now();
      const address = rawAddress === undefined ? undefined : addressKey(rawAddress);
      const a = address === undefined ? undefined : tables.address.blockedUntil(address, t);
      if (a !== undefined) return { by: 'address', untilMs: a };
      const u = user === undefined ? undefined : tables.user.blockedUntil(user, t);
      if (u !== undefined) return { by: 'user', untilMs: u };
      if (address !== undefined) tables.address.begin(address, t);
      if (user !== undefined) tables.user.begin(user, t);
      let ended = false;
      return {
        failed() {
          if (ended) return undefined;
          ended = true;
          const at = now();
          const byAddress = address === undefined ? undefined : tables.address.failed(address, at);
          const byUser = user === undefined ? undefined : tables.user.failed(user, at);
          if (byAddress !== undefined) return { by: 'address', untilMs: byAddress };
          return byUser === undefined ? undefined : { by: 'user', untilMs: byUser };
        },
        succeeded() {
          if (ended) return;
          ended = true;
          if (address !== undefined) tables.address.ended(address, false);
          if (user !== undefined) tables.user.ended(user, true);
        },
        abandon() {
          if (ended) return;
          ended = true;
          if (address !== undefined) tables.address.ended(address, false);
          if (user !== undefined) tables.user.ended(user, false);
        },
      };
    },
    blockedKeys() {
      const t = now();
      return { address: tables.address.countBlocked(t), user: tables.user.countBlocked(t) };
    },
  };
}

/** The key an address is counted under: IPv4 (also IPv4-mapped IPv6) as is, other IPv6 by its /64. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

import { describe, expect, it } from 'vitest';
import {
  addressKey,
  createAttemptLimiter,
  isBlocked,
  type Attempt,
  type AttemptLimits,
  type Blocked,
} from './attempts.ts';

const LIMITS: AttemptLimits = {
  perAddress: { threshold: 4, baseMs: 1_000, maxMs: 8_000 },
  perUser: { threshold: 2, baseMs: 1_000, maxMs: 3_000 },
  forgetMs: 60_000,
  maxKeys: 3,
};

function limiterAt() {
  const clock = { t: 1_000_000 };
  const limiter = createAttemptLimiter(LIMITS, () => clock.t);
  /** Admits an attempt, which must not be blocked. */
  const admit = (address: string | undefined, user: string | undefined): Attempt => {
    const outcome = limiter.admit(address, user);
    if (isBlocked(outcome)) throw new Error(`blocked by ${outcome.by}`);
    return outcome;
  };
  const blocked = (address: string | undefined, user: string | undefined): Blocked | undefined => {
    const outcome = limiter.admit(address, user);
    if (isBlocked(outcome)) return outcome;
    outcome.abandon();
    return undefined;
  };
  const fail = (address: string | undefined, user: string | undefined) => admit(address, user).failed();
  return { clock, limiter, admit, blocked, fail };
}

describe('attempt limiter', () => {
  it('blocks a user name at its threshold, then after each block checks one attempt, doubling the block', () => {
    const { clock, blocked, fail } = limiterAt();
    expect(fail('10.0.0.1', 'sl-1')).toBeUndefined();
    const blocks = [fail('10.0.0.2', 'sl-1')];
    for (let round = 0; round < 3; round++) {
      expect(blocked('10.0.0.9', 'sl-1')?.by).toBe('user');
      clock.t = blocks.at(-1)!.untilMs;
      expect(blocked('10.0.0.9', 'sl-1')).toBeUndefined();
      blocks.push(fail(`10.0.0.${round + 3}`, 'sl-1'));
    }
    const starts = [1_000_000, 1_001_000, 1_003_000, 1_006_000];
    expect(blocks.map((b, i) => b!.untilMs - starts[i]!)).toEqual([1_000, 2_000, 3_000, 3_000]);
  });

  it('blocks an address at its threshold whatever user names it tries', () => {
    const { blocked, fail, limiter } = limiterAt();
    for (const user of ['a', 'b', 'c']) fail('10.0.0.1', user);
    expect(blocked('10.0.0.1', 'z')).toBeUndefined();
    expect(fail('10.0.0.1', 'd')).toMatchObject({ by: 'address' });
    expect(blocked('10.0.0.1', 'z')).toMatchObject({ by: 'address' });
    expect(blocked('10.0.0.2', 'z')).toBeUndefined();
    expect(limiter.blockedKeys()).toEqual({ address: 1, user: 0 });
  });

  it('admits no more simultaneous checks than may fail: a burst is refused while they run', () => {
    const { admit, blocked } = limiterAt();
    const running = [admit('10.0.0.1', 'sl-1'), admit('10.0.0.2', 'sl-1')];
    expect(blocked('10.0.0.3', 'sl-1')?.by).toBe('user');
    running[0]!.abandon();
    const third = admit('10.0.0.3', 'sl-1');
    running[1]!.succeeded();
    third.succeeded();
    expect(blocked('10.0.0.4', 'sl-1')).toBeUndefined();
  });

  it('forgets a user name at its next success, and any key after a quiet time', () => {
    const { clock, blocked, fail, admit } = limiterAt();
    fail('10.0.0.1', 'sl-1');
    admit('10.0.0.1', 'sl-1').succeeded();
    fail('10.0.0.1', 'sl-1');
    expect(blocked(undefined, 'sl-1')).toBeUndefined();
    clock.t += 60_001;
    fail('10.0.0.1', 'sl-1');
    expect(blocked(undefined, 'sl-1')).toBeUndefined();
    fail('10.0.0.1', 'sl-1');
    expect(blocked(undefined, 'sl-1')).toMatchObject({ by: 'user' });
  });

  it('keeps at most maxKeys keys per table, never dropping a blocked one while another can go', () => {
    const { blocked, fail } = limiterAt();
    fail(undefined, 'a');
    fail(undefined, 'a'); // blocked
    for (const user of ['b', 'c', 'd', 'e']) fail(undefined, user);
    expect(blocked(undefined, 'a')).toMatchObject({ by: 'user' });
    // b went to make room for d, c for e: each is fresh again.
    expect(fail(undefined, 'b')).toBeUndefined();
  });

  it('counts IPv6 addresses per /64 and IPv4-mapped ones as IPv4', () => {
    expect(addressKey('2001:db8:0:12::1')).toBe('2001:db8:0:12::/64');
    expect(addressKey('2001:db8:0:12:abcd:1:2:3')).toBe('2001:db8:0:12::/64');
    expect(addressKey('2001:DB8::')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('10.1.2.3')).toBe('10.1.2.3');
  });
});

import { describe, expect, it } from 'vitest';
import { createAttemptLimiter, type AttemptLimits } from './attempts.ts';

const LIMITS: AttemptLimits = {
  perAddress: { threshold: 4, baseMs: 1_000, maxMs: 8_000 },
  perUser: { threshold: 2, baseMs: 1_000, maxMs: 3_000 },
  forgetMs: 60_000,
  maxKeys: 3,
};

function limiterAt() {
  const clock = { t: 1_000_000 };
  return { clock, limiter: createAttemptLimiter(LIMITS, () => clock.t) };
}

describe('attempt limiter', () => {
  it('blocks a user name after its threshold, for twice as long each time, up to the longest block', () => {
    const { clock, limiter } = limiterAt();
    const blocks: number[] = [];
    for (let round = 0; round < 4; round++) {
      limiter.failed(`10.0.0.${round}`, 'sl-1');
      expect(limiter.blocked('10.0.0.9', 'sl-1')).toBeUndefined();
      limiter.failed(`10.0.0.${round}`, 'sl-1');
      const block = limiter.blocked('10.0.0.9', 'sl-1');
      expect(block?.by).toBe('user');
      blocks.push(block!.untilMs - clock.t);
      clock.t = block!.untilMs;
      expect(limiter.blocked('10.0.0.9', 'sl-1')).toBeUndefined();
    }
    expect(blocks).toEqual([1_000, 2_000, 3_000, 3_000]);
  });

  it('blocks an address after its threshold whatever user names it tries', () => {
    const { limiter } = limiterAt();
    for (const user of ['a', 'b', 'c']) limiter.failed('10.0.0.1', user);
    expect(limiter.blocked('10.0.0.1', 'z')).toBeUndefined();
    limiter.failed('10.0.0.1', 'd');
    expect(limiter.blocked('10.0.0.1', 'z')).toMatchObject({ by: 'address' });
    expect(limiter.blocked('10.0.0.2', 'z')).toBeUndefined();
    expect(limiter.blockedKeys()).toEqual({ address: 1, user: 0 });
  });

  it('forgets a user name at its next success, and any key after a quiet time', () => {
    const { clock, limiter } = limiterAt();
    limiter.failed('10.0.0.1', 'sl-1');
    limiter.succeeded('sl-1');
    limiter.failed('10.0.0.1', 'sl-1');
    expect(limiter.blocked(undefined, 'sl-1')).toBeUndefined();
    clock.t += 60_001;
    limiter.failed('10.0.0.1', 'sl-1');
    expect(limiter.blocked(undefined, 'sl-1')).toBeUndefined();
    limiter.failed('10.0.0.1', 'sl-1');
    expect(limiter.blocked(undefined, 'sl-1')).toMatchObject({ by: 'user' });
  });

  it('keeps at most maxKeys keys per table, dropping the least recently failed', () => {
    const { limiter } = limiterAt();
    limiter.failed(undefined, 'a');
    limiter.failed(undefined, 'a'); // blocked
    for (const user of ['b', 'c', 'd']) limiter.failed(undefined, user);
    expect(limiter.blocked(undefined, 'a')).toBeUndefined(); // dropped to make room for d
    limiter.failed(undefined, 'd');
    expect(limiter.blocked(undefined, 'd')).toMatchObject({ by: 'user' });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiRole } from '../devices/index.ts';
import { bearerToken, hasRole, ROLE_ORDER } from './auth.ts';

describe('roles', () => {
  it('orders viewer < operator < engineer < admin, each including those below', () => {
    expect(ROLE_ORDER).toEqual(ApiRole.options);
    expect(hasRole('admin', 'engineer')).toBe(true);
    expect(hasRole('engineer', 'engineer')).toBe(true);
    expect(hasRole('operator', 'engineer')).toBe(false);
    expect(hasRole('viewer', 'operator')).toBe(false);
  });

  it('is transitive and total over every pair', () => {
    const role = fc.constantFrom(...ApiRole.options);
    fc.assert(
      fc.property(role, role, role, (a, b, c) => {
        expect(hasRole(a, b) || hasRole(b, a)).toBe(true);
        if (hasRole(a, b) && hasRole(b, c)) expect(hasRole(a, c)).toBe(true);
      }),
    );
  });
});

describe('bearerToken', () => {
  it('reads the token of a Bearer header, whatever the case of the scheme', () => {
    expect(bearerToken('Bearer abc.DEF-_~+/=')).toBe('abc.DEF-_~+/=');
    expect(bearerToken('bearer  tok')).toBe('tok');
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer two words')).toBeUndefined();
  });

  it('returns any token without spaces exactly as sent', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 80 }).filter((s) => !/\s/.test(s)),
        (token) => {
          expect(bearerToken(`Bearer ${token}`)).toBe(token);
        },
      ),
    );
  });
});

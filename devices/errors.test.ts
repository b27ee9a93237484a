import { describe, expect, it } from 'vitest';
import { REGISTRY_ERRORS, RegistryError, isRegistryError } from './errors.ts';

describe('registry errors', () => {
  it('documents every code in one line', () => {
    for (const [code, text] of Object.entries(REGISTRY_ERRORS)) {
      expect(code).toMatch(/^REGISTRY_ERR_[A-Z_]+$/);
      expect(text.length).toBeGreaterThan(10);
      expect(text).not.toContain('\n');
    }
  });

  it('keeps the code and the cause', () => {
    const cause = new Error('disk full');
    const err = new RegistryError('REGISTRY_ERR_STORAGE', 'write failed', { cause });
    expect(err.cause).toBe(cause);
    expect(isRegistryError(err, 'REGISTRY_ERR_STORAGE')).toBe(true);
    expect(isRegistryError(err, 'REGISTRY_ERR_INVALID')).toBe(false);
    expect(isRegistryError(cause)).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { ALERTS_ERRORS, AlertsError, isAlertsError } from './errors.ts';

describe('alerts errors', () => {
  it('documents every code in one line', () => {
    for (const [code, text] of Object.entries(ALERTS_ERRORS)) {
      expect(code).toMatch(/^ALERTS_ERR_[A-Z_]+$/);
      expect(text.length).toBeGreaterThan(10);
      expect(text).not.toContain('\n');
    }
  });

  it('keeps the code and the cause', () => {
    const cause = new Error('SQLITE_FULL');
    const err = new AlertsError('ALERTS_ERR_STORE', 'alert 7', { cause });
    expect(err.cause).toBe(cause);
    expect(err.message).toContain(ALERTS_ERRORS.ALERTS_ERR_STORE);
    expect(err.name).toBe('AlertsError');
    expect(isAlertsError(err, 'ALERTS_ERR_STORE')).toBe(true);
    expect(isAlertsError(err, 'ALERTS_ERR_STATE')).toBe(false);
    expect(isAlertsError(cause)).toBe(false);
  });
});

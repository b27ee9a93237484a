import { describe, expect, it } from 'vitest';
import { isRulesError, RULES_ERRORS, RulesError } from './errors.ts';

describe('rules errors', () => {
  it('documents every code in one line', () => {
    for (const [code, text] of Object.entries(RULES_ERRORS)) {
      expect(code).toMatch(/^RULES_ERR_[A-Z_]+$/);
      expect(text.length).toBeGreaterThan(10);
      expect(text).not.toContain('\n');
    }
  });

  it('has a code for each way a flow request is refused', () => {
    expect(Object.keys(RULES_ERRORS)).toEqual(
      expect.arrayContaining(['RULES_ERR_FLOW_REQUEST', 'RULES_ERR_FLOW_DEVICE', 'RULES_ERR_FLOW_RULE']),
    );
  });

  it('keeps the code and the cause', () => {
    const cause = new Error('bad json');
    const err = new RulesError('RULES_ERR_STATE', 'rule x', { cause });
    expect(err.cause).toBe(cause);
    expect(err.message).toContain(RULES_ERRORS.RULES_ERR_STATE);
    expect(isRulesError(err, 'RULES_ERR_STATE')).toBe(true);
    expect(isRulesError(err, 'RULES_ERR_YAML')).toBe(false);
    expect(isRulesError(cause)).toBe(false);
  });
});

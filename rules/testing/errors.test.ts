import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULE_TEST_ERRORS } from './errors.ts';

describe('rule test errors', () => {
  it('documents every code in one line', () => {
    for (const [code, text] of Object.entries(RULE_TEST_ERRORS)) {
      expect(code).toMatch(/^RULE_TEST_ERR_[A-Z_]+$/);
      expect(text.length).toBeGreaterThan(10);
      expect(text).not.toContain('\n');
    }
  });

  it('has in its table every code the code raises, and raises every code of the table', () => {
    const folder = new URL('./', import.meta.url);
    const sources = readdirSync(folder)
      .filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts') && n !== 'errors.ts')
      .map((n) => readFileSync(new URL(n, folder), 'utf8'))
      .join('\n');
    const used = new Set(sources.match(/RULE_TEST_ERR_[A-Z_]+/g));
    expect([...used].sort()).toEqual(Object.keys(RULE_TEST_ERRORS).sort());
  });
});

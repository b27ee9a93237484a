import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INFLUX_ERRORS } from './errors.ts';

// Like Fastify's test of lib/errors.js: a code raised anywhere in this folder must be documented in the
// table, and a documented code must be raised somewhere. (It reads the sources, hence the .it tier.)
const sources = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'errors.ts')
  .map((f) => readFileSync(new URL(f, import.meta.url), 'utf8'))
  .join('\n');

describe('INFLUX_ERRORS', () => {
  it('documents every code the adapter raises', () => {
    const used = new Set(sources.match(/INFLUX_ERR_[A-Z_]+/g));
    expect([...used].filter((code) => !(code in INFLUX_ERRORS))).toEqual([]);
    expect(Object.keys(INFLUX_ERRORS).filter((code) => !used.has(code))).toEqual([]);
  });
});

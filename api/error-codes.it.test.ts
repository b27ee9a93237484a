// Every API_ERR_ code written anywhere in the API's source must be in the table with a description (as
// Fastify's test over lib/errors.js does), and every code in the table must be used somewhere.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { API_ERRORS } from './errors.ts';

const folder = fileURLToPath(new URL('.', import.meta.url));

async function sources(): Promise<Map<string, string>> {
  const names = (await readdir(folder)).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts'));
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(folder + n, 'utf8')] as const)));
}

describe('API error codes', () => {
  it('are all in the table, with a description', async () => {
    const table: Readonly<Record<string, { description: string }>> = API_ERRORS;
    for (const [name, text] of await sources()) {
      for (const [code] of text.matchAll(/API_ERR_[A-Z_]+/g)) {
        expect(Object.hasOwn(table, code), `${code} in ${name}`).toBe(true);
        expect(table[code]?.description.length, code).toBeGreaterThan(20);
      }
    }
  });

  it('are each used outside the table', async () => {
    const files = await sources();
    const table = files.get('errors.ts') ?? '';
    const tableEnd = table.indexOf('} as const satisfies');
    const elsewhere = [...files].map(([n, t]) => (n === 'errors.ts' ? t.slice(tableEnd) : t)).join('\n');
    for (const code of Object.keys(API_ERRORS)) expect(elsewhere, code).toContain(`'${code}'`);
  });
});
